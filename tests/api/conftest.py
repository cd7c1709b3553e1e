"""`app`: the API over the test's own loaded bank in-process (`app_ro`: over the module's shared
bank, for tests that only read); `serve(app) -> url`: an app on a real uvicorn server on a free
loopback port, for tests that need real HTTP (JS clients, the browser, a body that streams in);
`count_statements(engine)`: SQL statements run inside a `with` block; `gql`, `propose_override`,
`approve_override` and `rm_book`: the area tests' calls as a client makes them."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from starlette.testclient import TestClient

from clientstrata.api.app import create_app
from clientstrata.graph.record.models import Individual


@pytest.fixture
def app(loaded) -> Iterator[TestClient]:
    engine, graph = loaded
    with TestClient(create_app(engine, graph)) as client:
        yield client


@pytest.fixture(scope="module")
def app_ro(loaded_ro) -> Iterator[TestClient]:
    engine, graph = loaded_ro
    with TestClient(create_app(engine, graph)) as client:
        yield client


class StatementCount:
    n = 0


@contextmanager
def _counting(engine) -> Iterator[StatementCount]:
    count = StatementCount()

    def seen(*_):
        count.n += 1

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        yield count
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)


@pytest.fixture
def count_statements():
    """`with count_statements(engine) as c: …` then `c.n`: dataloaders must keep it flat."""
    return _counting


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.time() + 20
        while not server.started:
            if time.time() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)


# case matters: SQL keywords in capitals, driver and exception names as they print
LEAKS = re.compile(
    r"Traceback|File \"|\bSELECT\b|\bFROM\b|\bWHERE\b|sqlite3|psycopg|OperationalError|"
    r"ProgrammingError|IntegrityError|Exception\b"
)


def _gql(app, token, query, **variables):
    r = app.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200, r.text
    assert not LEAKS.search(r.text), r.text
    return r.json()


@pytest.fixture
def gql() -> Callable[..., dict]:
    """`gql(app, token, query, **variables)`: the response body, once checked to be a 200 that shows
    no stack trace, SQL or driver text, whatever the answer."""
    return _gql


PROPOSE = """mutation($input: ProposeOverrideInput!) { proposeOverride(input: $input) {
  __typename ... on Override { id status value proposedBy customerId }
  ... on Error { code message } ... on NotFound { kind key } } }"""
DECIDE = """mutation($id: Int!) { approveOverride(id: $id, note: "checked the mandate") {
  __typename ... on Override { id status decidedBy } ... on Error { code message } } }"""


@pytest.fixture
def propose_override() -> Callable[..., dict]:
    """`propose_override(app, token, **input)`: the `proposeOverride` result, an `Override` (id status
    value proposedBy customerId) or an `Error` (code message; kind key when `NotFound`)."""
    return lambda app, token, **input: _gql(app, token, PROPOSE, input=input)["data"]["proposeOverride"]


@pytest.fixture
def approve_override() -> Callable[..., dict]:
    """`approve_override(app, token, id)`: the `approveOverride` result (noted "checked the mandate"),
    an `Override` (id status decidedBy) or an `Error` (code message)."""
    return lambda app, token, id: _gql(app, token, DECIDE, id=id)["data"]["approveOverride"]


@pytest.fixture
def rm_book(loaded) -> tuple[str, list[str], list[str]]:
    """(rm, their customers, everyone else's) for the relationship manager with the most customers."""
    engine, _ = loaded
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Individual.customer_id, Individual.rm_id)).all()
    rms = [r.rm_id for r in rows if r.rm_id]
    rm = max(set(rms), key=rms.count)
    return (
        rm,
        sorted(r.customer_id for r in rows if r.rm_id == rm),
        sorted(r.customer_id for r in rows if r.rm_id != rm),
    )


CLIENTS = Path(__file__).parents[1] / "clients"


def _node(script: str, *args: str, token: str) -> dict:
    assert shutil.which("node"), "Node.js is needed for the JS client tests"
    assert (CLIENTS / "node_modules").is_dir(), "run `make test-env` (npm ci in tests/clients)"
    done = subprocess.run(
        ["node", script, *args],
        cwd=CLIENTS,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ["PATH"], "CLIENTSTRATA_TOKEN": token},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def node_client() -> Callable[..., dict]:
    """`node_client(script, *args, token=…)`: a JS client of tests/clients run with Node, its JSON
    output parsed."""
    return _node
