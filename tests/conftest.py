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
from clientstrata.graph.db import engine_for, migrate
from clientstrata.graph.networkx_store import NetworkxGraph
from clientstrata.graph.store import GraphStore
from clientstrata.jobs.generate import generate

POSTGRES_URL = os.environ.get("CLIENTSTRATA_TEST_POSTGRES_URL")
NEO4J_URI = os.environ.get("CLIENTSTRATA_TEST_NEO4J_URI")
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])
STORES = ["networkx"] + (["neo4j"] if NEO4J_URI else [])


def open_store(kind: str, tmp_path: Path) -> GraphStore:
    """An empty graph store: a fresh embedded file, or the test Neo4j server cleared."""
    if kind == "networkx":
        return NetworkxGraph(tmp_path / f"graph-{len(list(tmp_path.glob('graph-*')))}.pkl")
    from clientstrata.graph.neo4j_store import Neo4jGraph
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
    from clientstrata.graph.access import issue_token

    def make(role: str, rm_id: str | None = None) -> str:
        with engine.begin() as conn:
            return issue_token(conn, role, f"test {role}", rm_id)[1]
    return make


@pytest.fixture
def loaded(engine, graph, bundle_dir):
    """The small bank ingested, synced and classified once."""
    from clientstrata.jobs.ingest import ingest
    from clientstrata.jobs.runs import classify
    from clientstrata.jobs.sync import sync_graph
    ingest(bundle_dir, engine=engine, progress=False)
    sync_graph(engine, graph, progress=False)
    classify(engine, graph, progress=False)
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
