"""Fixtures: a small generated bank, fresh stores on every configured backend, and the API
serving it on loopback.

SQLite + networkx always; PostgreSQL when CLIENTSTRATA_TEST_POSTGRES_URL is set and Neo4j when
CLIENTSTRATA_TEST_NEO4J_URI is set (`make test` starts both servers and sets both)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn

from clientstrata.api.app import create_app
from clientstrata.graph.record.db import engine_for, migrate
from clientstrata.graph.stores.base import GraphStore
from clientstrata.graph.stores.networkx_store import NetworkxGraph
from clientstrata.jobs.ingest.generate import generate

# governance factories (set_aum, write_standard, cli_env, …) live beside this file
pytest_plugins = ["factories"]

POSTGRES_URL = os.environ.get("CLIENTSTRATA_TEST_POSTGRES_URL")
NEO4J_URI = os.environ.get("CLIENTSTRATA_TEST_NEO4J_URI")
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])
STORES = ["networkx"] + (["neo4j"] if NEO4J_URI else [])


def open_store(kind: str, tmp_path: Path) -> GraphStore:
    """An empty graph store: a fresh embedded file, or the test Neo4j server cleared."""
    if kind == "networkx":
        return NetworkxGraph(tmp_path / f"graph-{len(list(tmp_path.glob('graph-*')))}.pkl")
    from clientstrata.graph.stores.neo4j_store import Neo4jGraph

    store = Neo4jGraph(NEO4J_URI, ("neo4j", os.environ.get("CLIENTSTRATA_NEO4J_PASSWORD", "clientstrata-dev")))
    store.clear()
    return store


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    generate(out, customers=300, seed=11, progress=False)
    return out


@pytest.fixture
def bundle_copy(bundle_dir, tmp_path) -> Path:
    """A copy a test may damage."""
    return Path(shutil.copytree(bundle_dir, tmp_path / "bundle"))


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    if request.param == "sqlite":
        eng = engine_for(f"sqlite:///{tmp_path / 'test.db'}")
    else:
        eng = engine_for(POSTGRES_URL)
        with eng.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture(params=STORES)
def store(request, tmp_path):
    """Every configured graph store in turn, empty: for the store contract."""
    g = open_store(request.param, tmp_path)
    yield g
    g.close()


@pytest.fixture
def graph(engine, tmp_path):
    """The store that goes with the database: networkx beside SQLite (the embedded default),
    Neo4j beside PostgreSQL (production) when the test server runs."""
    store = open_store("neo4j" if engine.dialect.name == "postgresql" and NEO4J_URI else "networkx", tmp_path)
    yield store
    store.close()


@pytest.fixture
def make_token(engine):
    """`make_token(role, rm_id=None) -> secret`: a real API token issued on the test database."""
    from clientstrata.graph.record.access import issue_token

    def make(role: str, rm_id: str | None = None) -> str:
        with engine.begin() as conn:
            return issue_token(conn, role, f"test {role}", rm_id)[1]

    return make


class _Snapshots:
    """The loaded small bank, built once per backend and session, then copied into each test's
    fresh database: a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL. The graph
    is re-synced from the copy (classification writes nothing to the graph), so each test still
    gets stores of its own, in the state a real ingest, sync and classify leave them."""

    def __init__(self, root: Path):
        self.root = root
        self.built: set[str] = set()

    def restore(self, engine, graph, bundle_dir: Path) -> None:
        from clientstrata.jobs.ingest.load import ingest
        from clientstrata.jobs.ingest.sync import sync_graph
        from clientstrata.jobs.runs.pipeline import classify

        backend = engine.dialect.name
        if backend not in self.built:
            ingest(bundle_dir, engine=engine, progress=False)
            sync_graph(engine, graph, progress=False)
            classify(engine, graph, progress=False)
            engine.dispose()
            self._save(engine)
            self.built.add(backend)
            return
        engine.dispose()
        self._load(engine)
        sync_graph(engine, graph, progress=False)

    def _save(self, engine) -> None:
        if engine.dialect.name == "sqlite":
            shutil.copyfile(engine.url.database, self.root / "loaded.db")
        else:
            self._admin(
                engine,
                f"DROP DATABASE IF EXISTS {self._template(engine)} WITH (FORCE)",
                f"CREATE DATABASE {self._template(engine)} TEMPLATE {engine.url.database}",
            )

    def _load(self, engine) -> None:
        if engine.dialect.name == "sqlite":
            for suffix in ("-wal", "-shm"):
                Path(engine.url.database + suffix).unlink(missing_ok=True)
            shutil.copyfile(self.root / "loaded.db", engine.url.database)
        else:
            self._admin(
                engine,
                f"DROP DATABASE {engine.url.database} WITH (FORCE)",
                f"CREATE DATABASE {engine.url.database} TEMPLATE {self._template(engine)}",
            )

    @staticmethod
    def _template(engine) -> str:
        return f"{engine.url.database}_loaded"

    @staticmethod
    def _admin(engine, *statements: str) -> None:
        admin = sa.create_engine(engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                for stmt in statements:
                    # WITH (FORCE) cannot end a server process our role does not own (an
                    # autovacuum worker visiting the database): it is gone in a moment, retry
                    for attempt in range(20):
                        try:
                            conn.execute(sa.text(stmt))
                            break
                        except sa.exc.DBAPIError:
                            if attempt == 19:
                                raise
                            time.sleep(0.5)
        finally:
            admin.dispose()


@pytest.fixture(scope="session")
def _snapshots(tmp_path_factory) -> _Snapshots:
    return _Snapshots(tmp_path_factory.mktemp("loaded"))


@pytest.fixture
def loaded(engine, graph, bundle_dir, _snapshots):
    """The small bank ingested, synced and classified: each test gets its own copy."""
    _snapshots.restore(engine, graph, bundle_dir)
    return engine, graph


@pytest.fixture
def server(loaded):
    """The API on a free loopback port over the loaded bank: real HTTP; yields its GraphQL URL."""
    engine, graph = loaded
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(engine, graph), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "the test API server did not start within 20 s"
    yield f"http://127.0.0.1:{port}/graphql"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def ingest_rows(engine, tmp_path):
    """`ingest_rows({"balances_monthly": [{...}, …]})`: a delta bundle holding just these rows,
    ingested like any bundle (the incremental path a daily feed takes)."""
    import pandas as pd

    from clientstrata.jobs.ingest.load import ingest

    def run(tables: dict[str, list[dict]]):
        folder = tmp_path / f"delta-{len(list(tmp_path.glob('delta-*')))}"
        folder.mkdir()
        for table, rows in tables.items():
            pd.DataFrame(rows).to_csv(folder / f"{table}.csv", index=False)
        return ingest(folder, engine=engine, progress=False)

    return run
