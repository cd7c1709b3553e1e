"""The SDK against a live server on loopback: real HTTP, real gql client."""
import pytest

from clientstrata.sdk import APIError, Client, TransportError


def test_customers_dataframe_has_every_customer(server, loaded):
    df = Client(server, progress=False).customers()
    assert len(df) == 300 and df["id"].is_unique
    assert set(df["tier"]) <= {"mass", "affluent", "wealth", "private_banking"}
    wealthy = Client(server, progress=False).customers(tier="affluent")
    assert len(wealthy) == (df["tier"] == "affluent").sum() > 0


def test_household_dataframe(server):
    df = Client(server, progress=False).household("H0000001")
    assert len(df) >= 2 and {"role", "aum", "id", "tier"} <= set(df.columns)
    assert df.attrs["aum"] == pytest.approx(df["aum"].sum())


def test_errors_are_translated(server):
    with pytest.raises(APIError, match="no household"):
        Client(server, progress=False).household("none")
    with pytest.raises(ValueError, match="unknown filter"):
        Client(server, progress=False).customers(colour="red")
    with pytest.raises(TransportError):
        Client("http://127.0.0.1:9/graphql", progress=False, timeout=2).customers()
