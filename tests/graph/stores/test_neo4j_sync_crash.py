"""A sync that dies at any point leaves Neo4j in a state the next sync converges from: the schema
whatever half of it was made, the graph equal to the embedded one with nothing duplicated. On the
real server (CLIENTSTRATA_TEST_NEO4J_URI); the sync is a real `clientstrata sync-graph` process
killed with SIGKILL.

Both tests run on a Neo4j server of their own, started for this module: dropping and making indexes
while a killed sync's index population is still in flight once made the shared test server panic
("needs to be restarted"), and every test after it on that worker failed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientstrata.graph.stores.base import LABELS, RELATIONSHIPS
from clientstrata.graph.stores.networkx_store import NetworkxGraph
from clientstrata.jobs.ingest.load import ingest
from clientstrata.jobs.ingest.sync import sync_graph

pytestmark = pytest.mark.neo4j


SCRIPT = Path(__file__).resolve().parents[2] / "servers" / "neo4j.sh"
PASSWORD = "crash-test-pw"


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    """A Neo4j server for this module alone, on a free loopback port; stopped afterwards."""
    if not os.environ.get("CLIENTSTRATA_TEST_NEO4J_URI"):
        pytest.skip("needs Neo4j (CLIENTSTRATA_TEST_NEO4J_URI says the suite runs with it)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "CLIENTSTRATA_NEO4J_BOLT_PORT": str(port),
        "CLIENTSTRATA_NEO4J_HOME": str(tmp_path_factory.mktemp("neo4j-crash")),
        "CLIENTSTRATA_NEO4J_PASSWORD": PASSWORD,
    }
    up = subprocess.run(["bash", str(SCRIPT), "up"], env=env, capture_output=True, text=True, timeout=300)
    assert up.returncode == 0, up.stderr[-2000:]
    try:
        yield f"bolt://127.0.0.1:{port}"
    finally:
        subprocess.run(["bash", str(SCRIPT), "down"], env=env, capture_output=True, timeout=120)


@pytest.fixture
def neo4j_store(own_server):
    from clientstrata.graph.stores.neo4j_store import Neo4jGraph

    store = Neo4jGraph(own_server, ("neo4j", PASSWORD), query_timeout=120.0)
    store.clear()
    yield store
    store.close()


def _schema(store) -> tuple[set[tuple[str, tuple[str, ...]]], list[str]]:
    """(label, key) of each uniqueness constraint; names of the indexes no constraint owns."""
    cons = store._run("SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties")
    unique = {
        (ls[0], tuple(ps)) for t, ls, ps in zip(cons["type"], cons["labelsOrTypes"], cons["properties"]) if "UNIQ" in t
    }
    idx = store._run("SHOW INDEXES YIELD name, type, owningConstraint")
    loose = sorted(n for n, t, o in zip(idx["name"], idx["type"], idx["owningConstraint"]) if t != "LOOKUP" and not o)
    return unique, loose


def _drop_schema(store) -> None:
    store._run("CALL db.awaitIndexes(120)")  # a killed sync's indexes may still be populating
    for name in store._run("SHOW CONSTRAINTS YIELD name")["name"]:
        store._run(f"DROP CONSTRAINT `{name}` IF EXISTS")
    for name, kind in zip(*store._run("SHOW INDEXES YIELD name, type")[["name", "type"]].T.values):
        if kind != "LOOKUP":
            store._run(f"DROP INDEX `{name}` IF EXISTS")


WANTED = {(label, ("id",)) for label in LABELS}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    made=st.sets(st.sampled_from(LABELS)),  # constraints a crashed sync had finished
    named=st.sets(st.sampled_from(LABELS)),  # a leftover index holding a constraint's name
    keyed=st.sets(st.sampled_from(LABELS)),  # a leftover index on a constraint's key, another name
)
def test_schema_converges_from_any_half_made_state(neo4j_store, made, named, keyed):
    _drop_schema(neo4j_store)
    for label in made:
        neo4j_store._run(f"CREATE CONSTRAINT {label.lower()}_id FOR (n:{label}) REQUIRE n.id IS UNIQUE")
    for label in named - made:
        neo4j_store._run(f"CREATE INDEX {label.lower()}_id FOR (n:{label}) ON (n.id)")
    for label in keyed - made - named:
        neo4j_store._run(f"CREATE INDEX left_{label.lower()} FOR (n:{label}) ON (n.id)")
    neo4j_store.ensure_schema()
    assert _schema(neo4j_store) == (WANTED, [])
    neo4j_store.ensure_schema()  # and again: nothing to do, nothing fails
    assert _schema(neo4j_store) == (WANTED, [])


def _graph_state(store) -> tuple[int, int, list]:
    """Total nodes and relationships, and whatever is duplicated: a (label, id) held by two nodes, or
    two relationships of one type (and key) between the same two nodes."""
    nodes = store._scan("MATCH (n) RETURN count(n) AS n")["n"].iloc[0]
    rels = store._scan("MATCH ()-[r]->() RETURN count(r) AS n")["n"].iloc[0]
    dup_nodes = store._scan(
        "MATCH (n) WITH labels(n)[0] AS label, n.id AS id, count(*) AS c WHERE c > 1 RETURN label, id LIMIT 5"
    )
    dup_rels = []
    for rel, (_, _, key) in RELATIONSHIPS.items():
        k = f"r.{key}" if key else "null"
        dup_rels += store._scan(
            f"MATCH (a)-[r:{rel}]->(b) WITH a, b, {k} AS k, count(*) AS c WHERE c > 1 "
            f"RETURN '{rel}' AS rel, a.id AS a, b.id AS b LIMIT 5"
        ).to_dict("records")
    return int(nodes), int(rels), dup_nodes.to_dict("records") + dup_rels


def _sync_process(engine, uri: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "CLIENTSTRATA_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CLIENTSTRATA_NEO4J_URI": uri,
        "CLIENTSTRATA_NEO4J_PASSWORD": PASSWORD,
        "CLIENTSTRATA_PROGRESS": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "clientstrata.cli.main", "sync-graph"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# Points to kill the sync at, each judged on the server by polling: while it makes the schema, once
# the first nodes are in, once relationships are being written, and late in the relationships.
KILL_AT = {
    "schema": lambda s: 0 < len(_schema(s)[0]) < len(LABELS),
    "nodes": lambda s: s._scan("MATCH (n) RETURN count(n) AS n")["n"].iloc[0] > 0,
    "relationships": lambda s: s._scan("MATCH ()-[r]->() RETURN count(r) AS n")["n"].iloc[0] > 0,
    "late relationships": lambda s: (
        s._scan("MATCH ()-[r:OWNS|HOLDS|CO_HOLDS]->() RETURN count(r) AS n")["n"].iloc[0] > 0
    ),
}


@pytest.mark.slow
def test_a_sync_killed_at_any_point_then_resynced_equals_the_embedded_graph(
    engine, bundle_dir, tmp_path, own_server, neo4j_store
):
    ingest(bundle_dir, engine=engine, progress=False)
    embedded = NetworkxGraph(tmp_path / "embedded.pkl")
    expected = sync_graph(engine, embedded, progress=False)
    killed_mid_sync = []
    for point, reached in KILL_AT.items():
        neo4j_store.clear()  # each kill is of a first sync: no data and no schema
        _drop_schema(neo4j_store)
        proc = _sync_process(engine, own_server)
        deadline = time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < deadline:
            if reached(neo4j_store):
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.02)
        if proc.wait(timeout=60) == -signal.SIGKILL:
            killed_mid_sync.append(point)
        assert sync_graph(engine, neo4j_store, progress=False) == expected, point
        nodes, rels, duplicated = _graph_state(neo4j_store)
        assert duplicated == [], (point, duplicated)
        assert (nodes, rels) == (
            sum(n for k, n in expected.items() if k in LABELS),
            sum(n for k, n in expected.items() if k not in LABELS),
        )
        assert _schema(neo4j_store) == (WANTED, [])
    # the kills must have landed inside the syncs, or the test proves nothing
    assert len(killed_mid_sync) >= 3, killed_mid_sync
