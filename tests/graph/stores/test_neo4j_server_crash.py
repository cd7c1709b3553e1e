"""Neo4j itself dies in the middle of a first sync: the server's JVM is killed with SIGKILL (a power
cut as the database sees it), started again, and the next sync converges to the embedded graph with
nothing duplicated. The sync that lost its server ends with one line, not the driver's log or a stack trace."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_neo4j_sync_crash import WANTED, _drop_schema, _graph_state, _schema

from clientstrata.graph.record.db import engine_for, migrate
from clientstrata.graph.stores.base import LABELS
from clientstrata.graph.stores.neo4j_store import Neo4jGraph
from clientstrata.graph.stores.networkx_store import NetworkxGraph
from clientstrata.jobs.ingest.load import ingest
from clientstrata.jobs.ingest.sync import sync_graph

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

SCRIPT = Path(__file__).parents[2] / "servers" / "neo4j.sh"


def _server() -> tuple[str, dict[str, str], Path]:
    uri = os.environ.get("CLIENTSTRATA_TEST_NEO4J_URI")
    if not uri:
        pytest.skip("needs the Neo4j server (CLIENTSTRATA_TEST_NEO4J_URI)")
    port = uri.rsplit(":", 1)[1]
    env = {**os.environ, "CLIENTSTRATA_NEO4J_BOLT_PORT": port}
    home = Path(os.environ.get("CLIENTSTRATA_NEO4J_HOME", f"/tmp/clientstrata-neo4j-{port}"))
    return uri, env, home / "neo4j.pid"


def _store(uri: str) -> Neo4jGraph:
    return Neo4jGraph(
        uri, ("neo4j", os.environ.get("CLIENTSTRATA_NEO4J_PASSWORD", "clientstrata-dev")), query_timeout=120
    )


def test_a_sync_whose_server_was_killed_converges_after_a_restart(bundle_dir, tmp_path):
    uri, env, pid_file = _server()
    engine = engine_for(f"sqlite:///{tmp_path / 'record.db'}")
    migrate(engine)
    ingest(bundle_dir, engine=engine, progress=False)
    expected = sync_graph(engine, NetworkxGraph(tmp_path / "embedded.pkl"), progress=False)

    store = _store(uri)
    store.clear()
    _drop_schema(store)  # a first sync: no data, no schema
    proc = subprocess.Popen(
        [sys.executable, "-m", "clientstrata.cli.main", "sync-graph"],
        env={
            **env,
            "CLIENTSTRATA_DATABASE_URL": str(engine.url),
            "CLIENTSTRATA_NEO4J_URI": uri,
            "CLIENTSTRATA_PROGRESS": "0",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < deadline:
            if store._scan("MATCH ()-[r]->() RETURN count(r) AS n")["n"].iloc[0] > 0:
                break  # nodes are in and relationships are being written
            time.sleep(0.02)
        assert proc.poll() is None, "the sync finished before the server could be killed mid-way"
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        _, err = proc.communicate(timeout=180)
    finally:
        store.close()
        if proc.poll() is None:
            proc.kill()
        # up again whatever happened, for the tests after this one
        subprocess.run(["bash", str(SCRIPT), "up"], env=env, check=True, capture_output=True, timeout=300)

    assert proc.returncode != 0
    lines = err.strip().splitlines()  # which database, then what went wrong: no driver log, no trace
    assert len(lines) == 2 and lines[0].startswith("clientstrata: database "), err
    assert lines[1] == f"clientstrata sync-graph: Neo4j at {uri} is unreachable (ServiceUnavailable)", err

    store = _store(uri)  # a new driver: the old one's connections died with the server
    try:
        assert sync_graph(engine, store, progress=False) == expected
        nodes, rels, duplicated = _graph_state(store)
        assert duplicated == []
        assert (nodes, rels) == (
            sum(n for k, n in expected.items() if k in LABELS),
            sum(n for k, n in expected.items() if k not in LABELS),
        )
        assert _schema(store) == (WANTED, [])
    finally:
        store.close()
        engine.dispose()
