"""A graph outage stays local: graph fields fail fast with GRAPH_UNAVAILABLE while the rest of the
response is served, requests that never touch the graph are not held up, /readyz says the service
is degraded, and it recovers by itself. Real sockets throughout: a closed port, a port that accepts
and never answers, and the real Neo4j behind a loopback relay that can be cut and restored."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.testclient import TestClient

from clientstrata.api.app import create_app
from clientstrata.graph.stores.breaker import CircuitBreaker
from clientstrata.graph.stores.neo4j_store import Neo4jGraph
from clientstrata.jobs.ingest.sync import sync_graph

LEAKS = re.compile(r"Traceback|bolt|Neo4j|127\.0\.0\.1|refused|Exception|secret-pw", re.IGNORECASE)
QUERY = '{ customer(id: "C0000001") { id tags { dimension } ecosystem { hops } } }'


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when the block ends: connections are refused


def _store(port: int, connect: float = 1.0, failures: int = 2, reset: float = 1.0) -> Neo4jGraph:
    return Neo4jGraph(
        f"bolt://127.0.0.1:{port}",
        ("neo4j", "secret-pw"),
        connect_timeout=connect,
        query_timeout=2.0,
        breaker=CircuitBreaker(failures, reset),
    )


def _assert_graph_field_failed(body: dict) -> None:
    customer = body["data"]["customer"]
    assert customer["id"] == "C0000001" and customer["tags"] and customer["ecosystem"] is None
    assert body["errors"] == [
        {
            "message": "The customer graph is unavailable just now; the rest of the answer is complete. Try again later.",
            "locations": [{"line": 1, "column": QUERY.index("ecosystem") + 1}],
            "path": ["customer", "ecosystem"],
            "extensions": {"code": "GRAPH_UNAVAILABLE"},
        }
    ]


def test_an_unreachable_graph_fails_its_field_fast_and_readyz_says_degraded(loaded_ro, make_token_ro):
    engine, _ = loaded_ro
    graph = _store(_closed_port())
    token = make_token_ro("marketing_analyst")
    with TestClient(create_app(engine, graph), headers={"Authorization": f"Bearer {token}"}) as client:
        took = []
        for _ in range(4):
            start = time.monotonic()
            r = client.post("/graphql", json={"query": QUERY})
            took.append(time.monotonic() - start)
            assert r.status_code == 200
            _assert_graph_field_failed(r.json())
            assert not LEAKS.search(r.text), r.text
        assert max(took[:2]) < 8  # the driver's 30 s retry budget is gone
        assert max(took[2:]) < 0.5, took  # the breaker is open: no network at all
        assert graph.breaker.state == "open"
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {
            "status": "degraded",
            "database": "ok",
            "graph": "unavailable",
        }


def test_graph_calls_that_hang_do_not_hold_up_requests_that_never_touch_the_graph(loaded_ro, make_token_ro, live_app):
    """A port that accepts connections and never speaks Bolt: each graph call waits out its timeouts.
    The breaker is set never to open, so this is about threads, not about failing fast."""
    engine, _ = loaded_ro
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(64)  # the kernel completes the handshakes; nobody ever reads
        graph = _store(hole.getsockname()[1], connect=4.0, failures=10_000)
        token = make_token_ro("marketing_analyst")
        headers = {"Authorization": f"Bearer {token}"}
        with live_app(create_app(engine, graph)) as url, ThreadPoolExecutor(12) as pool:

            def post(query: str) -> tuple[float, dict]:
                start = time.monotonic()
                r = httpx.post(url, json={"query": query}, headers=headers, timeout=120)
                return time.monotonic() - start, r.json()

            hanging = [pool.submit(post, QUERY) for _ in range(12)]
            time.sleep(1.0)  # they are all waiting on the graph now
            quick = [post("{ customers(first: 2) { totalCount edges { node { id tags { dimension } } } } }")]
            quick += [post('{ customer(id: "C0000002") { id tags { dimension } } }') for _ in range(3)]
            for took, body in quick:
                assert "errors" not in body, body
                assert took < 3.0, [t for t, _ in quick]
            assert not any(f.done() for f in hanging)  # the graph calls were still waiting meanwhile
            for f in hanging:
                _, body = f.result(timeout=180)
                _assert_graph_field_failed(body)


class Relay:
    """A loopback TCP relay to a real server that can be cut (listener and connections closed, as
    when the server stops) and restored on the same port (as when it comes back)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.conns = target, []
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.restore()

    def restore(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        try:  # wakes the accepting thread (closing alone does not, on Linux): the port refuses now
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        self.conns = []

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.mark.neo4j
def test_the_real_server_lost_then_back_recovers_by_itself(loaded, make_token, neo4j_server):
    engine, _ = loaded
    host, port = neo4j_server.uri.removeprefix("bolt://").rsplit(":", 1)
    relay = Relay((host, int(port)))
    try:
        sync_graph(engine, neo4j_server, progress=False)  # this test's bank on the real server
        graph = Neo4jGraph(
            f"bolt://127.0.0.1:{relay.port}",
            ("neo4j", os.environ.get("CLIENTSTRATA_NEO4J_PASSWORD", "clientstrata-dev")),
            connect_timeout=1.0,
            query_timeout=120.0,  # a cold first walk on a loaded test machine is slow; this is about outages
            breaker=CircuitBreaker(2, 1.0),
        )
        token = make_token("marketing_analyst")
        with TestClient(create_app(engine, graph), headers={"Authorization": f"Bearer {token}"}) as client:
            ok = client.post("/graphql", json={"query": QUERY}).json()
            assert "errors" not in ok and ok["data"]["customer"]["ecosystem"]
            assert client.get("/readyz").json()["status"] == "ready"

            relay.cut()  # the server is gone
            for _ in range(3):
                _assert_graph_field_failed(client.post("/graphql", json={"query": QUERY}).json())
            assert graph.breaker.state == "open"
            assert client.get("/readyz").json() == {"status": "degraded", "database": "ok", "graph": "unavailable"}

            relay.restore()  # it is back: nobody resets anything
            deadline = time.monotonic() + 30
            while client.get("/readyz").json()["status"] != "ready":
                assert time.monotonic() < deadline, "the breaker never closed again"
                time.sleep(0.3)
            again = client.post("/graphql", json={"query": QUERY}).json()
            assert again == ok and graph.breaker.state == "closed"
    finally:
        relay.cut()
