"""Fixtures: a small generated bank, fresh stores on every configured backend, and the API
serving it on loopback.

SQLite + networkx always; PostgreSQL when CLIENTSTRATA_TEST_POSTGRES_URL is set and Neo4j when
CLIENTSTRATA_TEST_NEO4J_URI is set (`make test` starts both servers and sets both).

A test that writes to the loaded bank takes `loaded` (`server`, `app`, `make_token`): a copy of its
own. A test that only reads takes `loaded_ro` (`server_ro`, `app_ro`, `make_token_ro`): one copy
shared by its module, which fails the test if it changed the bank."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn

from clientstrata.api.app import create_app
from clientstrata.graph.record.db import engine_for, migrate
from clientstrata.graph.record.models import Base
from clientstrata.graph.stores.base import GraphStore
from clientstrata.graph.stores.networkx_store import NetworkxGraph
from clientstrata.jobs.ingest.generate import generate
from clientstrata.jobs.ingest.sync import sync_graph

# governance factories (set_aum, write_standard, cli_env, …) live beside this file
pytest_plugins = ["factories"]


def _servers_of_this_worker() -> None:
    """Under pytest-xdist (`make test` runs two workers) each worker needs servers of its own:
    Neo4j Community holds one graph, and the PostgreSQL fixtures drop and remake their databases.
    Worker gwN takes the Nth of the comma-separated CLIENTSTRATA_TEST_NEO4J_URI and a PostgreSQL
    database named after itself (made when missing); the environment is rewritten so CLI
    subprocesses see the same."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, … under xdist; unset in one process
    n = int(worker[2:]) if worker else 0
    # the list as given, kept aside: xdist's controller imports this file too, and the workers
    # it starts inherit its (rewritten) environment
    listed = os.environ.setdefault("CLIENTSTRATA_TEST_NEO4J_URIS", os.environ.get("CLIENTSTRATA_TEST_NEO4J_URI", ""))
    uris = [u.strip() for u in listed.split(",") if u.strip()]
    if uris:
        if n >= len(uris):
            raise pytest.UsageError(
                f"worker gw{n} has no Neo4j server of its own: CLIENTSTRATA_TEST_NEO4J_URI names {len(uris)}; "
                "start one per worker (make neo4j-up NEO4J_PORTS=…) or run fewer workers (-n)"
            )
        os.environ["CLIENTSTRATA_TEST_NEO4J_URI"] = uris[n]
    pg = os.environ.get("CLIENTSTRATA_TEST_POSTGRES_URL")
    if pg and worker:
        url = sa.make_url(pg)
        url = url.set(database=f"{url.database}_{worker}")
        os.environ["CLIENTSTRATA_TEST_POSTGRES_URL"] = url.render_as_string(hide_password=False)
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                if not conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": url.database}
                ).first():
                    conn.execute(sa.text(f"CREATE DATABASE {url.database}"))
        finally:
            admin.dispose()


_servers_of_this_worker()
POSTGRES_URL = os.environ.get("CLIENTSTRATA_TEST_POSTGRES_URL")
NEO4J_URI = os.environ.get("CLIENTSTRATA_TEST_NEO4J_URI")
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])
STORES = ["networkx"] + (["neo4j"] if NEO4J_URI else [])

# The Neo4j test server holds one graph. While a module's shared bank holds it, a test that
# clears it for a store of its own syncs the shared bank's graph back in when it is done.
_neo4j_holder: list[sa.Engine] = []


def open_store(kind: str, tmp_path: Path) -> GraphStore:
    """An empty graph store: a fresh embedded file, or the test Neo4j server cleared."""
    if kind == "networkx":
        return NetworkxGraph(tmp_path / f"graph-{len(list(tmp_path.glob('graph-*')))}.pkl")
    from clientstrata.graph.stores.neo4j_store import Neo4jGraph

    # a generous query timeout: on a loaded test machine a first, cold walk can take many seconds
    auth = ("neo4j", os.environ.get("CLIENTSTRATA_NEO4J_PASSWORD", "clientstrata-dev"))
    store = Neo4jGraph(NEO4J_URI, auth, query_timeout=120.0)
    store.clear()
    return store


def close_store(store: GraphStore) -> None:
    """Close a test's store; on Neo4j, hand the server back to the shared bank holding it. The
    test's own store may already be closed (an app closes its graph when its server stops), so
    the hand-back goes through a store of its own."""
    store.close()
    if _neo4j_holder and not isinstance(store, NetworkxGraph):
        back = open_store("neo4j", Path())
        try:
            sync_graph(_neo4j_holder[0], back, progress=False)
        finally:
            back.close()


def store_for(engine: sa.Engine) -> str:
    """networkx beside SQLite (the embedded default), Neo4j beside PostgreSQL (production) when
    the test server runs."""
    return "neo4j" if engine.dialect.name == "postgresql" and NEO4J_URI else "networkx"


def fresh_database(backend: str, tmp_path: Path, shared: bool = False) -> sa.Engine:
    """An empty, migrated database: a SQLite file in tmp_path; on PostgreSQL the test database
    emptied, or (`shared`) a database made anew beside it for a module's shared bank."""
    if backend == "sqlite":
        engine = engine_for(f"sqlite:///{tmp_path / 'test.db'}")
    elif not shared:
        engine = engine_for(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    else:
        url = sa.make_url(POSTGRES_URL)
        name = f"{url.database}_shared"
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
        engine = engine_for(url.set(database=name).render_as_string(hide_password=False))
    migrate(engine)
    return engine


def _admin(*statements: str) -> None:
    """Statements on the PostgreSQL server's `postgres` database (creating and dropping others)."""
    admin = sa.create_engine(sa.make_url(POSTGRES_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
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
    eng = fresh_database(request.param, tmp_path)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module", params=STORES)
def store(request, tmp_path_factory):
    """Every configured graph store in turn, empty, once per module: the store contract syncs it
    once and its tests read it."""
    g = open_store(request.param, tmp_path_factory.mktemp("store"))
    yield g
    close_store(g)


@pytest.fixture
def graph(engine, tmp_path):
    """The store that goes with the database (`store_for`)."""
    store = open_store(store_for(engine), tmp_path)
    yield store
    close_store(store)


def token_maker(engine: sa.Engine) -> Callable[..., str]:
    """`make(role, rm_id=None) -> secret`: a real API token issued on that database."""
    from clientstrata.graph.record.access import issue_token

    def make(role: str, rm_id: str | None = None) -> str:
        with engine.begin() as conn:
            return issue_token(conn, role, f"test {role}", rm_id)[1]

    return make


@pytest.fixture
def make_token(engine) -> Callable[..., str]:
    return token_maker(engine)


class _Snapshots:
    """The loaded small bank, built once per backend and session, then copied into each fresh
    database that asks for it: a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL.
    The graph is re-synced from the copy (classification writes nothing to the graph), so each
    copy still gets a store of its own, in the state a real ingest, sync and classify leave it."""

    def __init__(self, root: Path):
        self.root = root
        self.built: set[str] = set()

    def restore(self, engine, graph, bundle_dir: Path) -> None:
        from clientstrata.jobs.ingest.load import ingest
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
            _admin(
                f"DROP DATABASE IF EXISTS {self._template()} WITH (FORCE)",
                f"CREATE DATABASE {self._template()} TEMPLATE {engine.url.database}",
            )

    def _load(self, engine) -> None:
        if engine.dialect.name == "sqlite":
            for suffix in ("-wal", "-shm"):
                Path(engine.url.database + suffix).unlink(missing_ok=True)
            shutil.copyfile(self.root / "loaded.db", engine.url.database)
        else:
            _admin(
                f"DROP DATABASE {engine.url.database} WITH (FORCE)",
                f"CREATE DATABASE {engine.url.database} TEMPLATE {self._template()}",
            )

    @staticmethod
    def _template() -> str:
        return f"{sa.make_url(POSTGRES_URL).database}_loaded"


@pytest.fixture(scope="session")
def _snapshots(tmp_path_factory) -> _Snapshots:
    return _Snapshots(tmp_path_factory.mktemp("loaded"))


@pytest.fixture
def loaded(engine, graph, bundle_dir, _snapshots):
    """The small bank ingested, synced and classified: each test gets its own copy."""
    _snapshots.restore(engine, graph, bundle_dir)
    return engine, graph


@pytest.fixture(scope="module", params=BACKENDS)
def loaded_ro(request, tmp_path_factory, bundle_dir, _snapshots):
    """The loaded bank once per module and backend, for the module's tests that only read it (the
    guard below fails one that writes). On PostgreSQL it is a database of its own beside the
    per-test one; on Neo4j it holds the server's one graph (`close_store` gives it back)."""
    tmp_path = tmp_path_factory.mktemp("shared")
    engine = fresh_database(request.param, tmp_path, shared=True)
    graph = open_store(store_for(engine), tmp_path)
    _snapshots.restore(engine, graph, bundle_dir)
    if not isinstance(graph, NetworkxGraph):
        _neo4j_holder.append(engine)
    graph.close = lambda: None  # an app closes its graph when it stops: this one outlives the module's apps
    yield engine, graph
    _neo4j_holder.clear()
    type(graph).close(graph)
    engine.dispose()


# Reads of clear PII write audit rows, and tests issue tokens: the only writes a reader may make.
_READS_MAY_WRITE = {"audit_log", "api_tokens"}
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE|CREATE|ALTER|DROP|TRUNCATE)\b", re.IGNORECASE)
_ALLOWED = re.compile(rf"\s*INSERT INTO ({'|'.join(_READS_MAY_WRITE)})\b", re.IGNORECASE)


def _fingerprint(engine: sa.Engine, graph: GraphStore) -> dict[str, int]:
    with engine.connect() as conn:
        rows = {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in sorted(set(Base.metadata.tables) - _READS_MAY_WRITE)
        }
    return rows | {f"graph {k}": n for k, n in graph.counts().items()}


@pytest.fixture(autouse=True)
def _shared_bank_is_only_read(request) -> Iterator[None]:
    """Fails a test on `loaded_ro` that wrote to it: a statement that writes on its engine, or
    counts that changed (rows or graph: a CLI, another engine)."""
    if "loaded_ro" not in request.fixturenames:
        yield
        return
    engine, graph = request.getfixturevalue("loaded_ro")
    writes: list[str] = []

    def seen(_conn, _cursor, statement, *_) -> None:
        if _WRITE.match(statement) and not _ALLOWED.match(statement):
            writes.append(statement[:120])

    before = _fingerprint(engine, graph)
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    after = _fingerprint(engine, graph)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if writes or changed:
        pytest.fail(
            "this test changed the bank its module shares (`loaded_ro`): give it a copy of its own "
            f"(`loaded`, `server`, `app`, `make_token`). Wrote {writes[:3]}; counts changed: {changed}",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def make_token_ro(loaded_ro) -> Callable[..., str]:
    return token_maker(loaded_ro[0])


@contextmanager
def live(app) -> Iterator[str]:
    """The app on a real uvicorn server on a free loopback port: yields its GraphQL URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "the test API server did not start within 20 s"
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        srv.should_exit = True
        thread.join(10)


@pytest.fixture
def server(loaded) -> Iterator[str]:
    """The API over the test's own loaded bank, live on loopback: yields its GraphQL URL."""
    with live(create_app(*loaded)) as url:
        yield url


@pytest.fixture(scope="module")
def server_ro(loaded_ro) -> Iterator[str]:
    """The API over the module's shared bank, live on loopback for the whole module."""
    with live(create_app(*loaded_ro)) as url:
        yield url


@pytest.fixture
def neo4j_server(tmp_path) -> Iterator[GraphStore]:
    """The test Neo4j server, cleared, as a store of the test's own; skipped without one."""
    if not NEO4J_URI:
        pytest.skip("needs the Neo4j server (CLIENTSTRATA_TEST_NEO4J_URI)")
    store = open_store("neo4j", tmp_path)
    yield store
    close_store(store)


@pytest.fixture
def live_app() -> Callable:
    """`with live_app(app) as url:` the app served on a free loopback port."""
    return live


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
