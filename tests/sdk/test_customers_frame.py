"""`customers()` carries what an analyst needs in one frame (issue 14): both AUM figures, the
household and its tier, age, every tag; scales as ordered categoricals in the order the server's
standard gives; multi-label tags as lists; no column empty by construction."""

import pandas as pd
import pytest

from clientstrata.sdk import Client
from clientstrata.sdk._dimensions import DIMENSIONS, categorise

TIERS = ["mass", "affluent", "wealth", "private_banking"]


@pytest.fixture(scope="module")
def client(server_ro, make_token_ro):
    return Client(server_ro, make_token_ro("marketing_analyst"), progress=False)


@pytest.fixture(scope="module")
def df(client):
    return client.customers()


def test_money_household_and_age_in_the_frame(df):
    assert {"age", "aum_month_average", "current_balance", "household_id", "household_tier"} <= set(df.columns)
    assert pd.api.types.is_integer_dtype(df["age"]) and df["age"].between(0, 120).all() and df["age"].nunique() > 20
    assert df["aum_month_average"].dtype == float and df["current_balance"].dtype == float
    assert (df["aum_month_average"] > 0).any() and (df["current_balance"] > 0).any()
    members = df[df["household_id"].notna()]
    assert 0 < len(members) < len(df) and members["household_tier"].notna().all()


def test_scales_are_ordered_categoricals_in_the_servers_order(client, df):
    server = {d["name"]: d for d in client._execute(DIMENSIONS)["dimensions"]}
    for col in ("wealth_tier", "household_tier"):
        assert isinstance(df[col].dtype, pd.CategoricalDtype) and df[col].cat.ordered
        assert list(df[col].cat.categories) == TIERS
    deciles = df["value_contribution"]
    assert deciles.cat.ordered and list(deciles.cat.categories) == [f"D{i}" for i in range(1, 11)]
    assert (deciles >= "D9").sum() == deciles.isin(["D9", "D10"]).sum() > 0  # not the text order: "D10" < "D9"
    assert (df["wealth_tier"] > "affluent").sum() == df["wealth_tier"].isin(["wealth", "private_banking"]).sum()
    assert df.sort_values("wealth_tier")["wealth_tier"].iloc[-1] in ("wealth", "private_banking")
    for name in ("risk_preference", "suitability", "aml_risk", "behaviour_loyalty"):
        assert df[name].cat.ordered
        assert list(df[name].cat.categories) == [v["value"] for v in server[name]["values"]]
    assert not df["cooperation_depth"].cat.ordered and not df["credit_risk_tier"].cat.ordered
    assert list(df["cooperation_depth"].cat.categories) == [v["value"] for v in server["cooperation_depth"]["values"]]
    assert df["behaviour_cluster"].map(type).eq(str).all()  # fitted per run: no list to order by


def test_households_tier_is_ordered_too(client):
    tiers = client.households()["tier"]
    assert tiers.cat.ordered and list(tiers.cat.categories) == TIERS and tiers.notna().any()


def test_multi_label_tags_are_lists_and_no_column_is_empty_by_construction(client, df):
    cats = df["business_categories"]
    assert cats.map(lambda v: isinstance(v, list)).all() and cats.map(len).max() >= 2
    assert {"savings"} <= {c for v in cats for c in v}
    assert not [c for c in df.columns if c.startswith("enterprise_")]
    asked = client.customers(dimensions=["enterprise_size", "wealth_tier"])
    assert "enterprise_size" not in asked.columns and asked.columns[-1] == "wealth_tier"
    assert not df.isna().all().any()
    none = client.customers(aum_min=1e13)  # nobody: the same columns, the same types
    assert none.empty and list(none.columns) == list(df.columns) and none["wealth_tier"].cat.ordered


def test_the_order_is_the_servers_not_a_copy_in_the_sdk():
    """A standard that ranks the bands otherwise: the frame follows what the server says."""
    dims = [
        {"name": "wealth_tier", "subject": "individual", "ordered": True, "separator": None,
         "values": [{"value": v} for v in ("gold", "silver")]},
        {"name": "enterprise_size", "subject": "enterprise", "ordered": True, "separator": None, "values": []},
    ]  # fmt: skip
    raw = pd.DataFrame({"wealth_tier": ["silver", "gold"], "enterprise_size": [None, None], "x": [1, 2]})
    out = categorise(raw, dims)
    assert list(out["wealth_tier"].cat.categories) == ["gold", "silver"] and out["wealth_tier"].iloc[0] > "gold"
    assert list(out.columns) == ["wealth_tier", "x"]
    with pytest.warns(UserWarning, match="not among the standard's values"):
        kept = categorise(pd.DataFrame({"wealth_tier": ["bronze"]}), dims)
    assert kept["wealth_tier"].iloc[0] == "bronze"
