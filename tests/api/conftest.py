"""`app`: the API over the loaded bank in-process; `serve(app) -> url`: an app on a real uvicorn
server on a free loopback port, for tests that need real HTTP (JS clients, the browser, a body
that streams in); `count_statements(engine)`: SQL statements run inside a `with` block."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
import uvicorn
from starlette.testclient import TestClient

from clientstrata.api.app import create_app


@pytest.fixture
def app(loaded) -> Iterator[TestClient]:
    engine, graph = loaded
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
