"""Internal failures reach the caller as a masked message: no stack trace, no SQL, no driver text,
no connection string — with real broken stores, not mocks."""

import re

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from clientstrata.api.app import create_app
from clientstrata.graph.record.db import engine_for
from clientstrata.graph.stores.neo4j_store import Neo4jGraph
from clientstrata.graph.stores.networkx_store import NetworkxGraph

LEAKS = re.compile(
    r"Traceback|File \"|SELECT|FROM|tags_moved|\btags\b|sqlite|psycopg|OperationalError|"
    r"ProgrammingError|Exception|secret-pw|:9\b|127\.0\.0\.1|bolt|Neo4j|refused",
    re.IGNORECASE,
)


def test_a_failing_query_in_a_resolver_is_masked(loaded, make_token):
    engine, graph = loaded
    token = make_token("marketing_analyst")
    with engine.begin() as conn:  # the tags view disappears under the running API
        conn.execute(sa.text("DROP VIEW tags"))
    with TestClient(create_app(engine, graph), headers={"Authorization": f"Bearer {token}"}) as client:
        for accept in ("application/json", "application/graphql-response+json"):
            r = client.post(
                "/graphql",
                json={"query": "{ customers(first: 2) { edges { node { id tier } } } }"},
                headers={"accept": accept},
            )
            assert r.status_code == 200, r.text  # execution began: the ids are there, the tiers are not
            body = r.json()
            assert [e["node"] for e in body["data"]["customers"]["edges"]] == [
                {"id": "C0000001", "tier": None},
                {"id": "C0000002", "tier": None},
            ]
            assert {e["message"] for e in body["errors"]} == {"Unexpected error."}
            assert set(body["errors"][0]) <= {"message", "locations", "path"}  # no extensions with details
            assert not LEAKS.search(r.text), r.text


def test_an_unreachable_database_is_a_503_that_tells_nothing(tmp_path):
    engine = engine_for("postgresql+psycopg://clientstrata:secret-pw@127.0.0.1:9/clientstrata")  # nothing listens
    graph = NetworkxGraph(tmp_path / "graph.json.gz")
    (tmp_path / "graph.json.gz").write_text("not a graph")  # and the embedded graph file is damaged
    with TestClient(create_app(engine, graph)) as client:
        for accept in ("application/json", "application/graphql-response+json"):
            r = client.post(
                "/graphql",
                json={"query": "{ customers { totalCount } }"},
                headers={"Authorization": "Bearer cst_whatever", "accept": accept},
            )
            assert r.status_code == 503 and r.headers["content-type"].startswith(accept)
            assert r.json() == {
                "errors": [
                    {"message": "The service is unavailable; try again later.", "extensions": {"code": "UNAVAILABLE"}}
                ]
            }
            assert not LEAKS.search(r.text)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json() == {
            "status": "not ready",
            "database": "unavailable",
            "graph": "unavailable",
        }  # no host, no path


@pytest.mark.slow
def test_an_unreachable_graph_server_is_masked(loaded_ro, make_token_ro):
    engine, _ = loaded_ro
    graph = Neo4jGraph("bolt://127.0.0.1:9", ("neo4j", "secret-pw"), connect_timeout=1.0)  # nothing listens
    token = make_token_ro("marketing_analyst")
    with TestClient(create_app(engine, graph), headers={"Authorization": f"Bearer {token}"}) as client:
        # households read the record (rollups current as of the last ingest); the ecosystem reads the graph
        r = client.post("/graphql", json={"query": '{ customer(id: "C0000001") { ecosystem { hops } } }'})
    assert r.status_code == 200 and r.json() == {
        "data": {"customer": {"ecosystem": None}},  # only the graph's field fails
        "errors": [
            {
                "message": "The customer graph is unavailable just now; the rest of the answer is complete. "
                "Try again later.",
                "locations": [{"line": 1, "column": 30}],
                "path": ["customer", "ecosystem"],
                "extensions": {"code": "GRAPH_UNAVAILABLE"},
            }
        ],
        "extensions": {"cost": {"requested": 201, "budget": 100000}},
    }
    assert not LEAKS.search(r.text)


def test_refusals_carry_their_code(app_ro, make_token_ro):
    headers = {"Authorization": f"Bearer {make_token_ro('marketing_analyst')}"}
    cases = {
        '{ migration(fromRun: 1, toRun: 1, dimension: "shoe_size") { moved } }': "UNKNOWN_DIMENSION",
        "{ customers(first: 5000) { totalCount } }": "INVALID_INPUT",
        '{ customer(id: "C0000001") { ecosystem(hops: 9) { hops } } }': "INVALID_INPUT",
    }
    for query, code in cases.items():
        error = app_ro.post("/graphql", json={"query": query}, headers=headers).json()["errors"][0]
        assert error["extensions"]["code"] == code, (query, error)
        assert not re.search(r"Traceback|SELECT|sqlite|psycopg|Exception", error["message"]), error
