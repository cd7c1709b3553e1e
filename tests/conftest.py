"""Fixtures: a small generated bank, and fresh databases on every configured backend.

SQLite always; PostgreSQL too when CLIENTSTRATA_TEST_POSTGRES_URL is set (`make test` starts
the server and sets it)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from clientstrata.graph.db import engine_for, migrate
from clientstrata.graph.networkx_store import NetworkxGraph
from clientstrata.jobs.generate import generate

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("CLIENTSTRATA_TEST_POSTGRES_URL") else [])


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
        eng = engine_for(os.environ["CLIENTSTRATA_TEST_POSTGRES_URL"])
        with eng.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def graph(tmp_path):
    return NetworkxGraph(tmp_path / "graph.json.gz")


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
