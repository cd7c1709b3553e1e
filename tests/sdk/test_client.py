"""The SDK against a live server on loopback: real HTTP, real gql client."""
import socket
import threading
import time

import pytest
import uvicorn

from clientstrata.api.app import create_app
from clientstrata.sdk import APIError, AuthenticationError, Client, TransportError


@pytest.fixture
def token(make_token):
    return make_token("marketing_analyst")


@pytest.fixture
def server(loaded):
    engine, graph = loaded
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(engine, graph), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/graphql"
    srv.should_exit = True
    thread.join(10)


def test_customers_dataframe_has_every_customer(server, token):
    df = Client(server, token, progress=False).customers()
    assert len(df) == 300 and df["id"].is_unique
    assert set(df["tier"]) <= {"mass", "affluent", "wealth", "private_banking"}
    wealthy = Client(server, token, progress=False).customers(tier="affluent")
    assert len(wealthy) == (df["tier"] == "affluent").sum() > 0


def test_household_dataframe(server, token):
    df = Client(server, token, progress=False).household("H0000001")
    assert len(df) >= 2 and {"role", "aum", "id", "tier"} <= set(df.columns)
    assert df.attrs["aum"] == pytest.approx(df["aum"].sum())


def test_errors_are_translated(server, token):
    with pytest.raises(APIError, match="no household"):
        Client(server, token, progress=False).household("none")
    with pytest.raises(ValueError, match="unknown filter"):
        Client(server, token, progress=False).customers(colour="red")
    with pytest.raises(AuthenticationError, match="invalid or revoked token"):
        Client(server, "cst_forged", progress=False).customers()
    with pytest.raises(AuthenticationError, match="missing bearer token"):
        Client(server, progress=False).customers()
    with pytest.raises(TransportError):
        Client("http://127.0.0.1:9/graphql", progress=False, timeout=2).customers()
