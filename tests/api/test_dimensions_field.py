"""`dimensions`: whose each dimension is, its values in the standard's order and which orders
are scales, so clients read the order instead of keeping a copy (issue 14); and `customerTable`
carries what an analyst needs beside the tags, without columns empty by construction."""

import pytest
import sqlalchemy as sa

from clientstrata.graph.record.models import CustomerRollup, HouseholdMember, HouseholdRollup
from clientstrata.jobs.classification.standard import load_standard

DIMS = "{ dimensions { name subject ordered multiLabel separator values { value label labelZh labelEn rank } } }"


@pytest.fixture(scope="module")
def token(make_token_ro):
    return make_token_ro("marketing_analyst")


def test_dimensions_list_values_in_the_standards_order(app_ro, gql, token):
    body = gql(app_ro, token, DIMS)
    assert "errors" not in body
    dims = {d["name"]: d for d in body["data"]["dimensions"]}
    std = load_standard().dimensions
    assert set(std) | {"behaviour_cluster"} == set(dims)
    tier = dims["wealth_tier"]
    assert tier["ordered"] and tier["subject"] == "individual" and not tier["multiLabel"]
    assert [v["value"] for v in tier["values"]] == [b["value"] for b in std["wealth_tier"]["bands"]]
    assert [v["rank"] for v in tier["values"]] == [1, 2, 3, 4]
    assert tier["values"][0]["labelZh"] == "大众客户" and tier["values"][0]["label"] == "Mass"
    deciles = dims["value_contribution"]
    assert deciles["ordered"] and [v["value"] for v in deciles["values"]] == [f"D{i}" for i in range(1, 11)]
    assert deciles["values"][9]["labelEn"] == "Value decile 10 of 10"
    # off the scale: listed first, without a rank, so "C4 or above" never includes them
    risk = [(v["value"], v["rank"]) for v in dims["risk_preference"]["values"]]
    assert risk[:2] == [("unassessed", None), ("expired", None)] and risk[2:] == [(f"C{i}", i) for i in range(1, 6)]
    assert not dims["credit_risk_tier"]["ordered"]  # first-match rules are no scale
    assert dims["enterprise_size"]["subject"] == "enterprise"
    cats = dims["business_categories"]
    assert cats["multiLabel"] and cats["separator"] == "," and "none" in [v["value"] for v in cats["values"]]
    lifecycle = [v["value"] for v in dims["lifecycle_stage"]["values"]]
    assert len(lifecycle) == len(set(lifecycle))  # two rules give family_growth: listed once
    assert dims["behaviour_cluster"]["values"] == []
    refused = gql(app_ro, token, "{ dimensions(run: 99) { name } }")
    assert refused["data"] is None and "no published run with id '99'" in refused["errors"][0]["message"]


TABLE = """query($dims: [String!]) { customerTable(first: 50000, dimensions: $dims) { columns rows } }"""


def test_customer_table_carries_money_household_and_age_and_no_enterprise_columns(app_ro, gql, token, loaded_ro):
    engine, _ = loaded_ro
    got = gql(app_ro, token, TABLE)["data"]["customerTable"]
    cols = got["columns"]
    assert cols[7:12] == ["age", "aum_month_average", "current_balance", "household_id", "household_tier"]
    assert "wealth_tier" in cols and not [c for c in cols if c.startswith("enterprise_")]
    rows = {r[0]: dict(zip(cols, r)) for r in got["rows"]}
    with engine.connect() as conn:
        aum = dict(conn.execute(sa.select(CustomerRollup.customer_id, CustomerRollup.aum)).all())
        hh = {
            r[0]: (r[1], r[2])
            for r in conn.execute(
                sa.select(HouseholdMember.customer_id, HouseholdMember.household_id, HouseholdRollup.tier).join(
                    HouseholdRollup, HouseholdRollup.household_id == HouseholdMember.household_id, isouter=True
                )
            )
        }
    assert len(rows) == 300
    for cid, row in rows.items():
        assert row["aum_month_average"] == pytest.approx(float(aum.get(cid, 0)), abs=0.01)
        assert (row["household_id"], row["household_tier"]) == hh.get(cid, (None, None))
    assert any(r["household_id"] is None for r in rows.values()) and any(r["household_id"] for r in rows.values())
    # the 360's figures for a few customers: the same numbers, read in bulk
    q = "query($id: ID!) { customer(id: $id) { age aumMonthAverage currentBalance } }"
    for cid in sorted(rows)[:: len(rows) // 6]:
        one = gql(app_ro, token, q, id=cid)["data"]["customer"]
        assert rows[cid]["age"] == one["age"]
        assert rows[cid]["current_balance"] == pytest.approx(one["currentBalance"], abs=0.01)
        assert rows[cid]["aum_month_average"] == pytest.approx(one["aumMonthAverage"], abs=0.01)
    named = gql(app_ro, token, TABLE, dims=["wealth_tier"])["data"]["customerTable"]["columns"]
    assert named[-1] == "wealth_tier" and "cooperation_depth" not in named
