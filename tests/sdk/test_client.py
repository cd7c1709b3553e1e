"""The SDK against a live server on loopback: real HTTP, real gql client."""
import pytest

from clientstrata.sdk import APIError, AuthenticationError, Client, TransportError


@pytest.fixture
def token(make_token):
    return make_token("marketing_analyst")


def test_customers_dataframe_has_every_customer(server, token):
    df = Client(server, token, progress=False).customers()
    assert len(df) == 300 and df["customer_id"].is_unique
    assert {"wealth_tier", "cooperation_depth"} <= set(df.columns)
    assert set(df["wealth_tier"]) <= {"mass", "affluent", "wealth", "private_banking"}
    assert str(df["birth_date"].dtype).startswith("datetime64")
    wealthy = Client(server, token, progress=False).customers(tier="affluent", dimensions=["wealth_tier"])
    assert list(wealthy.columns[-1:]) == ["wealth_tier"]
    assert len(wealthy) == (df["wealth_tier"] == "affluent").sum() > 0
    both = Client(server, token, progress=False).customers(tags={"wealth_tier": ["wealth", "private_banking"]})
    assert set(both["customer_id"]) == set(df.loc[df["wealth_tier"].isin(["wealth", "private_banking"]), "customer_id"])


def test_bulk_pull_pages_without_gaps(server, token):
    df = Client(server, token, progress=False, page_size=70).customers(dimensions=[])  # five pages
    assert len(df) == 300 and df["customer_id"].is_unique and df["customer_id"].is_monotonic_increasing


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
