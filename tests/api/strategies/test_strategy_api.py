"""Customer.strategy, playbook and segmentStrategy over GraphQL, per role."""

import sqlalchemy as sa

from clientstrata.jobs.strategies.strategy import bank_packages

Q = """query($id: ID!) { customer(id: $id) { strategy { package { name selector explanation entitlements { name } }
  care { visitsPerQuarter } price(feeItem: "interbank_withdrawal") { price discountPct why } } } }"""


def test_a_customers_strategy_is_the_stored_package_with_its_price(app_ro, make_token_ro, loaded_ro, gql):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        row = bank_packages(conn).iloc[0]
    body = gql(app_ro, make_token_ro("marketing_analyst"), Q, id=row["customer_id"])
    s = body["data"]["customer"]["strategy"]
    assert s["package"]["name"] == row["package"] and s["package"]["explanation"] == row["explanation_en"]
    assert s["package"]["selector"] == row["selector"] and s["package"]["entitlements"]
    assert s["price"]["price"] == round(4 * (1 - s["price"]["discountPct"] / 100), 2)


def test_an_unknown_fee_item_is_named_without_internals(app_ro, make_token_ro, loaded_ro, gql):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        cid = bank_packages(conn)["customer_id"].iloc[0]
    q = 'query($id: ID!) { customer(id: $id) { strategy { price(feeItem: "parking") { price } } } }'
    body = gql(app_ro, make_token_ro("admin"), q, id=cid)
    assert "no fee item 'parking' in the fee schedule" in body["errors"][0]["message"]


def test_risk_measures_only_for_risk_roles(app_ro, make_token_ro, gql):
    q = "{ playbook { packages { name } riskMeasures { name kind } } }"
    risk = gql(app_ro, make_token_ro("risk_officer"), q)
    assert "errors" not in risk and {m["kind"] for m in risk["data"]["playbook"]["riskMeasures"]} == {
        "credit",
        "aml",
        "suitability",
    }
    other = gql(app_ro, make_token_ro("marketing_analyst"), q)
    assert other["data"]["playbook"]["riskMeasures"] is None and other["data"]["playbook"]["packages"]
    assert other["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"


def test_a_segments_packages_add_up_to_its_customers(app_ro, make_token_ro, loaded_ro, gql):
    engine, _ = loaded_ro
    q = '{ segmentStrategy(dimension: "wealth_tier", value: "wealth") { packages { package customers } marketingPlays { name } } }'
    data = gql(app_ro, make_token_ro("admin"), q)["data"]["segmentStrategy"]
    with engine.connect() as conn:
        n = conn.execute(
            sa.text(
                "SELECT count(*) FROM tags WHERE run_id = (SELECT max(run_id) FROM tags) AND dimension = 'wealth_tier' AND value = 'wealth'"
            )
        ).scalar()
    assert sum(p["customers"] for p in data["packages"]) == n
    assert "wealth_salons" in {p["name"] for p in data["marketingPlays"]}
