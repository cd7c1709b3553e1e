"""The API's limits and switches: read from the environment once, with documented defaults,
malformed values refused by name; and each one in force on a running app."""

import pytest
from starlette.testclient import TestClient

from clientstrata.api.app import create_app
from clientstrata.api.settings import ApiSettings
from clientstrata.graph.errors import InvalidInput


def test_defaults_and_environment():
    assert ApiSettings.from_env({}) == ApiSettings(
        max_body_bytes=1048576, max_depth=10, max_aliases=15, max_tokens=2000, introspection=True, cors_origins=()
    )
    env = {
        "CLIENTSTRATA_MAX_BODY_BYTES": "65536",
        "CLIENTSTRATA_MAX_DEPTH": "6",
        "CLIENTSTRATA_MAX_ALIASES": "3",
        "CLIENTSTRATA_MAX_TOKENS": "500",
        "CLIENTSTRATA_INTROSPECTION": "0",
        "CLIENTSTRATA_CORS_ORIGINS": "https://crm.bank.example, http://rm-workbench.intranet:8080/",
    }
    assert ApiSettings.from_env(env) == ApiSettings(
        max_body_bytes=65536,
        max_depth=6,
        max_aliases=3,
        max_tokens=500,
        introspection=False,
        cors_origins=("https://crm.bank.example", "http://rm-workbench.intranet:8080"),
    )


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("CLIENTSTRATA_MAX_BODY_BYTES", "1MB", "CLIENTSTRATA_MAX_BODY_BYTES must be a positive integer, not '1MB'"),
        ("CLIENTSTRATA_MAX_DEPTH", "0", "CLIENTSTRATA_MAX_DEPTH must be a positive integer"),
        ("CLIENTSTRATA_INTROSPECTION", "maybe", "CLIENTSTRATA_INTROSPECTION must be 1 or 0"),
        ("CLIENTSTRATA_CORS_ORIGINS", "*", "'*' is not one"),
        ("CLIENTSTRATA_CORS_ORIGINS", "crm.bank.example", "'crm.bank.example' is not one"),
    ],
)
def test_malformed_values_are_refused_by_name(name, value, says):
    with pytest.raises(InvalidInput) as err:
        ApiSettings.from_env({name: value})
    assert says in str(err.value)


@pytest.fixture
def app_with(loaded_ro, make_token_ro, monkeypatch):
    """`app_with(**env) -> TestClient`: the app built from those environment variables."""
    engine, graph = loaded_ro
    token = make_token_ro("marketing_analyst")
    clients = []

    def build(**env) -> TestClient:
        for name, value in env.items():
            monkeypatch.setenv(f"CLIENTSTRATA_{name.upper()}", value)
        client = TestClient(create_app(engine, graph), headers={"Authorization": f"Bearer {token}"})
        clients.append(client.__enter__())
        return client

    yield build
    for c in clients:
        c.__exit__(None, None, None)


def ask(client, query, **headers):
    return client.post("/graphql", json={"query": query}, headers=headers)


def test_query_limits_come_from_the_environment(app_with):
    client = app_with(max_depth="3", max_aliases="2", max_tokens="40", max_body_bytes="600")
    household = '{ customer(id: "C0000001") { household { members { customerId } } } }'  # depth 3
    assert ask(client, household).status_code == 200
    deeper = '{ customer(id: "C0000001") { household { members { customer { id } } } } }'
    assert "exceeds maximum operation depth of 3" in ask(client, deeper).json()["errors"][0]["message"]
    assert ask(client, "{ a: customers { totalCount } b: customers { totalCount } }").status_code == 200
    three = ask(client, "{ a: customers { totalCount } b: customers { totalCount } c: customers { totalCount } }")
    assert "aliases" in three.json()["errors"][0]["message"]
    long = "{ " + " ".join(["__typename"] * 45) + " }"
    assert "more than 40 tokens" in ask(client, long).json()["errors"][0]["message"]
    r = ask(client, "{ customers { totalCount } }" + " " * 600)
    assert r.status_code == 413


INTROSPECT = "{ __schema { queryType { name } } }"


def test_introspection_is_on_by_default(app_with):
    client = app_with()
    assert ask(client, INTROSPECT).json() == {
        "data": {"__schema": {"queryType": {"name": "Query"}}},
        "extensions": {"cost": {"requested": 0, "budget": 100000}},
    }


def test_introspection_can_be_switched_off(app_with):
    client = app_with(introspection="0")
    r = ask(client, INTROSPECT, accept="application/graphql-response+json")
    assert r.status_code == 400 and "data" not in r.json()
    assert "introspection" in r.json()["errors"][0]["message"].lower()
    r = ask(client, '{ __type(name: "Customer") { name } }')
    assert "introspection" in r.json()["errors"][0]["message"].lower()
    assert ask(client, "{ __typename customers { totalCount } }").json()["data"]["customers"]["totalCount"] == 300


def preflight(client, origin):
    return client.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_cors_is_closed_by_default(app_with):
    client = app_with()
    r = preflight(client, "https://crm.bank.example")
    assert r.status_code == 405 and "access-control-allow-origin" not in r.headers
    r = client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://crm.bank.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_admits_the_listed_origins_only(app_with):
    client = app_with(cors_origins="https://crm.bank.example,https://dashboards.bank.example")
    allowed = preflight(client, "https://crm.bank.example")
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://crm.bank.example"
    assert {"GET", "POST"} <= set(allowed.headers["access-control-allow-methods"].replace(" ", "").split(","))
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers  # tokens travel in a header, not cookies
    refused = preflight(client, "https://evil.example")
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    r = client.post(
        "/graphql", json={"query": "{ customers { totalCount } }"}, headers={"Origin": "https://crm.bank.example"}
    )
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://crm.bank.example"
    r = client.post(
        "/graphql", json={"query": "{ customers { totalCount } }"}, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in r.headers
