# ClientStrata: `make demo` runs the whole pipeline on the embedded default (SQLite +
# networkx, no servers); `make test` starts PostgreSQL and Neo4j and runs the suite on the
# embedded default and on PostgreSQL + Neo4j.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
DEMO    := demo-data
PG_PORT ?= 5433
PG_PW   ?= $(or $(CLIENTSTRATA_PG_PASSWORD),clientstrata-dev)
NEO4J_PORTS ?= 7687 7688
NEO4J_PW   ?= $(or $(CLIENTSTRATA_NEO4J_PASSWORD),clientstrata-dev)
CLIENTS := tests/clients
PORT    ?= 8000
# one pytest worker per core, each with a Neo4j server and a PostgreSQL database of its own
TEST_WORKERS ?= 2
NEO4J_URIS = $(shell echo $(foreach p,$(NEO4J_PORTS),bolt://127.0.0.1:$(p)) | tr ' ' ',')
DEMO_DB := CLIENTSTRATA_DATABASE_URL=sqlite:///$(DEMO)/clientstrata.db
export CLIENTSTRATA_PROGRESS ?= 1

.PHONY: env test-env browser demo serve port-free lint test test-fast postgres-up postgres-down neo4j-up neo4j-down clean

$(BIN)/clientstrata: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# setuptools says on every editable install that folders named like the package may shadow
	# it; here they are the package (package-dir maps them), so that one notice is silenced
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip install -q -e ".[dev]"
	touch $@

env: $(BIN)/clientstrata

# JS clients and the GraphQL-over-HTTP audit suite (tests/clients), exactly as locked
$(CLIENTS)/node_modules/.package-lock.json: $(CLIENTS)/package.json $(CLIENTS)/package-lock.json
	cd $(CLIENTS) && npm ci --no-audit --no-fund
	touch $@

# Debian's Chromium for the GraphiQL browser test (no browser download)
browser:
	bash tests/servers/chromium.sh

test-env: env $(CLIENTS)/node_modules/.package-lock.json browser

# refuse before minutes of work, not after: the API is the last step of `make demo`
port-free: env
	@$(BIN)/python -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); \
	  r=s.connect_ex(("127.0.0.1",$(PORT))); sys.exit(0 if r else "port $(PORT) is in use: stop what serves it, or run make $(MAKECMDGOALS) PORT=8001")'

demo: env port-free
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/clientstrata generate --customers 10000 --seed 7 --out $(DEMO)/bundle
	CLIENTSTRATA_DATABASE_URL=sqlite:///$(DEMO)/clientstrata.db $(BIN)/clientstrata ingest $(DEMO)/bundle
	CLIENTSTRATA_DATABASE_URL=sqlite:///$(DEMO)/clientstrata.db $(BIN)/clientstrata sync-graph
	CLIENTSTRATA_DATABASE_URL=sqlite:///$(DEMO)/clientstrata.db $(BIN)/clientstrata classify
	CLIENTSTRATA_DATABASE_URL=sqlite:///$(DEMO)/clientstrata.db $(BIN)/clientstrata strategy simulate \
	  --seed 7 --plant care_visit=0.9,0.5,0.6,0.02
	CLIENTSTRATA_DATABASE_URL=sqlite:///$(DEMO)/clientstrata.db $(BIN)/clientstrata token create \
	  --role marketing_analyst --name "make demo" --json | tail -1 | $(BIN)/python -c \
	  'import json,sys; t=json.load(sys.stdin)["token"]; open("$(DEMO)/token","w").write(t); print("demo token (marketing analyst):", t)'
	@$(MAKE) --no-print-directory serve

# the API again on the demo's data, without rebuilding it
serve: env port-free
	@test -f $(DEMO)/token || { echo "no demo data in $(DEMO)/: run make demo first"; exit 2; }
	@echo "GraphiQL: open http://127.0.0.1:$(PORT)/graphql and in its Headers tab put {\"Authorization\": \"Bearer $$(cat $(DEMO)/token)\"}"
	@echo "SDK: Client(\"http://127.0.0.1:$(PORT)/graphql\", token=open(\"$(DEMO)/token\").read())  (Ctrl-C stops the server)"
	$(DEMO_DB) $(BIN)/clientstrata serve --port $(PORT)

# ruff: lint and formatting, as configured in pyproject.toml
lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint test-env postgres-up neo4j-up
	CLIENTSTRATA_PROGRESS=0 \
	CLIENTSTRATA_TEST_POSTGRES_URL=postgresql+psycopg://clientstrata:$(PG_PW)@127.0.0.1:$(PG_PORT)/clientstrata_test \
	CLIENTSTRATA_TEST_NEO4J_URI=$(NEO4J_URIS) CLIENTSTRATA_NEO4J_PASSWORD=$(NEO4J_PW) \
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=20

test-fast: lint test-env
	CLIENTSTRATA_PROGRESS=0 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

postgres-up:
	CLIENTSTRATA_PG_PORT=$(PG_PORT) CLIENTSTRATA_PG_PASSWORD=$(PG_PW) bash tests/servers/postgres.sh up

postgres-down:
	CLIENTSTRATA_PG_PORT=$(PG_PORT) bash tests/servers/postgres.sh down

# the servers start side by side: each takes half a minute, mostly waiting
neo4j-up:
	bash tests/servers/neo4j.sh assemble
	@pids=""; for p in $(NEO4J_PORTS); do \
	  CLIENTSTRATA_NEO4J_BOLT_PORT=$$p CLIENTSTRATA_NEO4J_PASSWORD=$(NEO4J_PW) bash tests/servers/neo4j.sh up & pids="$$pids $$!"; \
	done; for pid in $$pids; do wait $$pid || exit 1; done

neo4j-down:
	for p in $(NEO4J_PORTS); do CLIENTSTRATA_NEO4J_BOLT_PORT=$$p bash tests/servers/neo4j.sh down; done

clean:
	rm -rf $(VENV) $(DEMO) *.egg-info $(CLIENTS)/node_modules
