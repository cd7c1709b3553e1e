"""The body size limit on a live server: a declared Content-Length over the limit is refused before
any body byte is read, and a chunked body is refused as soon as it passes the limit — the test
never finishes sending it, so a server that waited for the whole body would hang here."""

import json
import socket
from urllib.parse import urlsplit

import httpx
import pytest

from clientstrata.api.app import create_app
from clientstrata.api.settings import ApiSettings

LIMIT = 4096


@pytest.fixture
def url(loaded_ro, serve):
    engine, graph = loaded_ro
    return serve(create_app(engine, graph, ApiSettings(max_body_bytes=LIMIT))) + "/graphql"


def exchange(url: str, head: str, chunks=()) -> tuple[int, dict, dict]:
    """Sends the request head and the given chunks (and nothing more), then reads the response."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
        s.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        for chunk in chunks:
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        data = b""
        while part := s.recv(65536):  # socket.timeout here means the server waited for more body
            data += part
    head_, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head_.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, json.loads(body)


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(url):
    head = (
        f"POST /graphql HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\n"
        f"Accept: application/graphql-response+json\nContent-Length: {100 * LIMIT}\n"
    )
    status, headers, body = exchange(url, head)  # no body sent at all
    assert status == 413 and headers["content-type"].startswith("application/graphql-response+json")
    assert body == {
        "errors": [
            {
                "message": f"The request body is larger than the limit of {LIMIT} bytes.",
                "extensions": {"code": "PAYLOAD_TOO_LARGE"},
            }
        ]
    }


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(url, make_token_ro):
    head = (
        "POST /graphql HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\nTransfer-Encoding: chunked\n"
        f"Authorization: Bearer {make_token_ro('marketing_analyst')}\n"
    )
    # one byte past the limit, and never the terminating zero-length chunk
    status, _, body = exchange(url, head, [b'{"query": "' + b" " * 1024] + [b" " * 1024] * 3)
    assert status == 413 and body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_bodies_within_the_limit_are_served(url, make_token_ro):
    auth = {"Authorization": f"Bearer {make_token_ro('marketing_analyst')}"}
    query = "{ customers { totalCount } }"
    padded = query + " " * (LIMIT - len(json.dumps({"query": query})) - 20)
    r = httpx.post(url, json={"query": padded}, headers=auth)
    assert r.status_code == 200 and r.json()["data"]["customers"]["totalCount"] == 300
    r = httpx.post(url, json={"query": padded + " " * 40}, headers=auth)
    assert r.status_code == 413
