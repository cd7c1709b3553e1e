"""GraphQL over HTTP: media types, status codes and error bodies, checked directly and by the
graphql-http audit suite and a real JS client (Node, tests/clients/) against a live server."""

import json

import pytest
from starlette.testclient import TestClient

from clientstrata.api.app import create_app
from clientstrata.api.http import negotiate

GQL_JSON = "application/graphql-response+json"


@pytest.mark.parametrize(
    "accept, expected",
    [
        (None, "application/json"),  # legacy default
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GQL_JSON, GQL_JSON),
        (f"{GQL_JSON}, application/json;q=0.9", GQL_JSON),
        (f"application/json, {GQL_JSON};q=0.5", "application/json"),
        (f"{GQL_JSON};q=0, */*", "application/json"),  # explicitly refused
        ("text/html", "application/json"),  # neither: the default, not a 406
    ],
)
def test_negotiation(accept, expected):
    assert negotiate(accept) == expected


@pytest.fixture(scope="module")
def token(make_token_ro):
    return make_token_ro("marketing_analyst")


@pytest.fixture(scope="module")
def client(loaded_ro, token):
    engine, graph = loaded_ro
    with TestClient(create_app(engine, graph), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def post(client, body, accept=GQL_JSON, **kw):
    return client.post(
        "/graphql",
        content=body if isinstance(body, (str, bytes)) else json.dumps(body),
        headers={"content-type": "application/json", "accept": accept},
        **kw,
    )


def test_a_query_answers_in_the_media_type_the_client_accepts(client):
    for accept, media in [(GQL_JSON, GQL_JSON), ("application/json", "application/json"), (None, "application/json")]:
        headers = {"accept": accept} if accept else {}
        r = client.post("/graphql", json={"query": "{ customers { totalCount } }"}, headers=headers)
        assert r.status_code == 200 and r.headers["content-type"] == f"{media}; charset=utf-8"
        assert r.json() == {
            "data": {"customers": {"totalCount": 300}},
            "extensions": {"cost": {"requested": 1, "budget": 100000}},
        }
    r = client.get("/graphql", params={"query": "{ customers { totalCount } }"}, headers={"accept": GQL_JSON})
    assert r.status_code == 200 and r.json()["data"]["customers"]["totalCount"] == 300


@pytest.mark.parametrize(
    "query",
    [
        "{ customers { totalCount }",  # does not parse
        "{ customers { nosuchfield } }",  # fails validation
        "{ " + " ".join(f"a{i}: customers {{ totalCount }}" for i in range(20)) + " }",  # alias limit
    ],
)
def test_requests_that_never_execute_are_400_without_data_for_graphql_response_json(client, query):
    r = post(client, {"query": query})
    assert r.status_code == 400 and r.headers["content-type"].startswith(GQL_JSON)
    body = r.json()
    assert "data" not in body and body["errors"][0]["message"]
    legacy = post(client, {"query": query}, accept="application/json")  # legacy clients: 200, data null
    assert legacy.status_code == 200 and legacy.json()["data"] is None and legacy.json()["errors"]


def test_variables_that_do_not_coerce_are_a_request_error(client):
    q = {"query": "query($first: Int!) { customers(first: $first) { totalCount } }", "variables": {"first": "ten"}}
    r = post(client, q)
    assert r.status_code == 400 and "data" not in r.json() and "Int" in r.json()["errors"][0]["message"]


def test_field_errors_after_execution_began_are_200(client):
    r = post(client, {"query": "{ customers(first: 5000) { totalCount } }"})
    assert r.status_code == 200
    assert r.json() == {
        "data": None,
        "errors": [
            {
                "message": "`first` must be between 1 and 1000",
                "locations": [{"line": 1, "column": 3}],
                "path": ["customers"],
                "extensions": {"code": "INVALID_INPUT"},
            }
        ],
        "extensions": {"cost": {"requested": 1, "budget": 100000}},
    }


@pytest.mark.parametrize(
    "body, message",
    [
        ('{"query": ', "Unable to parse request body as JSON"),
        ('"{ customers { totalCount } }"', "must be JSON objects"),
        ({"qeury": "{ __typename }"}, "No GraphQL query found"),
        ({"query": 42}, "`query` must be a string"),
        ({"query": "{ __typename }", "variables": "x"}, "`variables` must be an object"),
        ({"query": "{ __typename }", "operationName": ["a"]}, "`operationName` must be a string"),
        ([{"query": "{ __typename }"}], "Batching is not enabled"),
    ],
)
def test_malformed_requests_are_400_with_a_graphql_error_body(client, body, message):
    for accept in (GQL_JSON, "application/json"):
        r = post(client, body, accept=accept)
        assert r.status_code == 400 and r.headers["content-type"].startswith(negotiate(accept))
        assert message in r.json()["errors"][0]["message"]


def test_non_json_bodies_and_other_methods_are_refused(client):
    r = client.post("/graphql", content="{ __typename }", headers={"content-type": "text/plain"})
    assert r.status_code == 400 and r.json()["errors"][0]["message"] == "Unsupported content type"
    assert client.put("/graphql", json={"query": "{ __typename }"}).status_code == 405


def test_mutations_over_get_are_405(client):
    r = client.get("/graphql", params={"query": "mutation { __typename }"}, headers={"accept": GQL_JSON})
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert "POST" in r.json()["errors"][0]["message"]


def test_401_is_a_graphql_error_in_the_negotiated_media_type(loaded_ro):
    engine, graph = loaded_ro
    with TestClient(create_app(engine, graph)) as anonymous:
        r = post(anonymous, {"query": "{ __typename }"})
    assert r.status_code == 401 and r.headers["content-type"].startswith(GQL_JSON)
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.slow
def test_graphql_http_audit_suite_passes_on_the_live_server(loaded_ro, token, serve, node_client):
    engine, graph = loaded_ro
    url = serve(create_app(engine, graph)) + "/graphql"
    summary = node_client("audit.mjs", url, token=token)
    passed = {level: sum(a["name"].startswith(level) for a in summary["passed"]) for level in ("MUST", "SHOULD", "MAY")}
    print(
        f"graphql-http audits passed: {passed}; failed: {len(summary['failures'])} MUST, "
        f"{len(summary['warnings'])} SHOULD, {len(summary['notices'])} MAY"
    )
    for level in ("failures", "warnings", "notices"):
        for audit in summary[level]:
            print(f"  {level}: {audit['name']} — {audit['reason']} (status {audit['status']})")
    assert summary["failures"] == []
    assert passed["MUST"] == 13 and sum(passed.values()) == 61  # every audit of graphql-http 1.23.1 ran
    assert summary["warnings"] == []  # no SHOULD left unmet either


@pytest.mark.slow
def test_a_js_graphql_client_fetches_a_page_of_customers(loaded_ro, token, serve, node_client):
    engine, graph = loaded_ro
    url = serve(create_app(engine, graph)) + "/graphql"
    got = node_client("customers.mjs", url, "4", token=token)
    assert got["status"] == 200 and got["contentType"].startswith(GQL_JSON)
    page = got["data"]["customers"]
    assert page["totalCount"] == 300 and page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["id"] for e in page["edges"]] == ["C0000001", "C0000002", "C0000003", "C0000004"]
    assert all("****" in e["node"]["phone"] for e in page["edges"])  # masked for a marketing analyst
    refused = node_client("customers.mjs", url, "4", token="cst_forged")
    assert refused["error"]["status"] == 401 and refused["error"]["errors"][0]["message"] == "invalid or revoked token"
