"""Requests that must not stall or crash the server: an operation past its deadline, a body that
is not UTF-8, and what the access log keeps of a URL."""

import logging

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from clientstrata.api.app import create_app
from clientstrata.api.settings import ApiSettings
from clientstrata.graph.errors import InvalidInput

GQL_JSON = "application/graphql-response+json"
WALKS = "{ customers(first: 60) { edges { node { ecosystem(hops: 4, first: 200) { hops } } } } }"


@pytest.fixture(scope="module")
def token(make_token_ro):
    return make_token_ro("service_agent")


def test_an_operation_past_its_deadline_is_answered_with_a_typed_error(loaded_ro, token):
    engine, graph = loaded_ro
    hurried = ApiSettings(query_timeout=0.001)
    with TestClient(create_app(engine, graph, settings=hurried), headers={"Authorization": f"Bearer {token}"}) as c:
        r = c.post("/graphql", json={"query": WALKS}, headers={"accept": GQL_JSON})
        assert r.status_code == 504, r.text
        assert r.json()["errors"] == [
            {
                "message": "The operation did not finish within 0.001 s; ask for less (smaller pages, fewer hops).",
                "extensions": {"code": "TIMEOUT"},
            }
        ]
        assert "Traceback" not in r.text and "Cancelled" not in r.text
        legacy = c.post("/graphql", json={"query": WALKS})  # application/json clients: 200, as the spec asks
        assert legacy.status_code == 200 and legacy.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
    with TestClient(create_app(engine, graph), headers={"Authorization": f"Bearer {token}"}) as c:
        r = c.post("/graphql", json={"query": WALKS}, headers={"accept": GQL_JSON})
        assert r.status_code == 200 and len(r.json()["data"]["customers"]["edges"]) == 60  # the default: 30 s


def test_the_timeout_comes_from_the_environment():
    assert ApiSettings.from_env({"CLIENTSTRATA_QUERY_TIMEOUT": "2.5"}).query_timeout == 2.5
    assert ApiSettings.from_env({}).query_timeout == 30.0
    for bad in ("0", "-1", "soon", "inf", "nan"):
        with pytest.raises(InvalidInput, match="CLIENTSTRATA_QUERY_TIMEOUT must be a positive number of seconds"):
            ApiSettings.from_env({"CLIENTSTRATA_QUERY_TIMEOUT": bad})


@pytest.fixture(scope="module")
def client(loaded_ro, token):
    engine, graph = loaded_ro
    with TestClient(create_app(engine, graph), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


@settings(max_examples=30, deadline=None)
@given(
    prefix=st.text(st.characters(exclude_characters='"\\', exclude_categories=("Cc", "Cs")), max_size=20).map(
        str.encode
    ),
    bad=st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80", b"\xf8\x88\x80\x80\x80"]),
    accept=st.sampled_from([GQL_JSON, "application/json"]),
)
def test_a_body_that_is_not_utf8_gets_a_graphql_error_and_400(client, prefix, bad, accept):
    body = b'{"query": "{ customers { totalCount } }", "x": "' + prefix + bad + b'"}'
    r = client.post("/graphql", content=body, headers={"content-type": "application/json", "accept": accept})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith(accept)
    error = r.json()["errors"][0]
    assert error["message"] == "The request body is not valid UTF-8." and error["extensions"]["code"] == "BAD_REQUEST"


def test_a_query_string_is_not_written_to_the_access_log(loaded_ro, token, serve):
    engine, graph = loaded_ro
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    url = serve(create_app(engine, graph))
    access = logging.getLogger("uvicorn.access")
    level, keep = access.level, Keep()
    access.setLevel(logging.INFO)
    access.addHandler(keep)
    try:
        r = httpx.get(
            f"{url}/graphql",
            params={"query": "{ customers { totalCount } }", "token": "cst_pasted_by_mistake"},
            headers={"Authorization": f"Bearer {token}"},
        )
    finally:
        access.removeHandler(keep)
        access.setLevel(level)
    assert r.status_code == 200
    assert any('"GET /graphql HTTP/1.1" 200' in line for line in lines), lines
    assert not any("cst_pasted_by_mistake" in line or "totalCount" in line or "?" in line for line in lines), lines
