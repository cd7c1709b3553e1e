"""`customers()` carries what an analyst needs in one frame (issue 14): both AUM figures, the
household and its tier, age, every tag; scales as ordered categoricals in the order the server's
standard gives; multi-label tags as lists; no column empty by construction. The frame is the same
whether the pages travel as Arrow (pyarrow installed, the default) or as JSON (issue 15)."""

import subprocess
import sys

import pandas as pd
import pytest
import sqlalchemy as sa

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


def test_a_customer_without_tags_has_no_categories_not_the_text_nan():
    """A customer ingested after the latest run has no tags: the multi-label column is None there
    (pandas 3 reads a missing text as NaN, which split as the word "nan")."""
    dims = [{"name": "business_categories", "subject": "individual", "ordered": False, "separator": ",",
             "values": [{"value": v} for v in ("loan", "savings")]}]  # fmt: skip
    out = categorise(pd.DataFrame({"business_categories": ["loan,savings", None]}), dims)
    assert out["business_categories"].tolist() == [["loan", "savings"], None]


@pytest.mark.parametrize(
    "asked",
    [{}, {"tier": "affluent"}, {"dimensions": ["business_categories", "wealth_tier"]}, {"aum_min": 1e13}],
    ids=["all", "tier", "dimensions", "nobody"],
)
def test_arrow_and_json_pages_give_the_same_frame(server_ro, make_token_ro, asked):
    token = make_token_ro("marketing_analyst")
    for page_size in (10_000, 70):  # one page, then five
        arrow = Client(server_ro, token, progress=False, page_size=page_size)
        assert arrow.arrow  # pyarrow is installed here: the default reads Arrow
        json = Client(server_ro, token, progress=False, page_size=page_size, arrow=False)
        pd.testing.assert_frame_equal(arrow.customers(**asked), json.customers(**asked))


def test_a_relationship_managers_arrow_frame_is_their_book(server_ro, make_token_ro, loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        rm, book = conn.execute(
            sa.text("SELECT rm_id, count(*) FROM individuals GROUP BY rm_id ORDER BY count(*) DESC LIMIT 1")
        ).one()
    token = make_token_ro("relationship_manager", rm)
    arrow = Client(server_ro, token, progress=False, page_size=40).customers()
    assert len(arrow) == book and set(arrow["rm_id"]) == {rm}
    pd.testing.assert_frame_equal(arrow, Client(server_ro, token, progress=False, arrow=False).customers())


def test_without_pyarrow_the_sdk_reads_json_and_gives_the_same_values(server_ro, make_token_ro, df, tmp_path):
    """The SDK's base install has no pyarrow: it imports, reads the JSON pages, and refuses
    `arrow=True` saying what to install."""
    token = make_token_ro("marketing_analyst")
    script = f"""
import sys
sys.modules["pyarrow"] = None  # as if it were not installed
from clientstrata.sdk import Client
client = Client({server_ro!r}, {token!r}, progress=False)
assert client.arrow is False
try:
    Client({server_ro!r}, {token!r}, arrow=True)
    raise SystemExit("arrow=True without pyarrow was accepted")
except ImportError as exc:
    assert "clientstrata[arrow]" in str(exc)
client.customers().to_pickle({str(tmp_path / "json.pkl")!r})
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=300)
    # pandas keeps its text in Python strings there: the same values, another storage
    read = pd.read_pickle(tmp_path / "json.pkl")
    pd.testing.assert_frame_equal(read, df, check_dtype=False, check_column_type=False, check_categorical=False)
    assert read["wealth_tier"].cat.ordered and list(read["wealth_tier"].cat.categories) == TIERS
