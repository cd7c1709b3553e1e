"""The run's strategy stage, pricing and waivers, the notices and the playbook what-if, on the
loaded bank (both backends)."""

import copy

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from clientstrata.graph.record.models import Individual, Tag
from clientstrata.graph.record.queries import latest_run_id
from clientstrata.jobs.classification.standard import load_standard, parse_standard
from clientstrata.jobs.strategies.packages import assign_packages
from clientstrata.jobs.strategies.playbook import playbook_of
from clientstrata.jobs.strategies.playbook_whatif import playbook_whatif
from clientstrata.jobs.strategies.pricing import fee_volumes, prices, waiver_costs
from clientstrata.jobs.strategies.strategy import bank_packages, customer_strategy

PB = playbook_of(load_standard())


def _run_tags(conn, run):
    rows = conn.execute(
        sa.select(Tag.customer_id, Tag.dimension, Tag.value, Tag.label_zh).where(Tag.run_id == run)
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["customer_id", "dimension", "value", "label_zh"])


def test_the_run_stores_one_package_per_individual_as_the_pure_function_gives(loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        run = latest_run_id(conn)
        stored = bank_packages(conn)
        people = set(conn.execute(sa.select(Individual.customer_id)).scalars())
        tags = _run_tags(conn, run)
    assert set(stored["customer_id"]) == people and stored["customer_id"].is_unique
    again = assign_packages(tags[tags["customer_id"].isin(people)], PB).sort_values("customer_id", ignore_index=True)
    pd.testing.assert_frame_equal(stored.reset_index(drop=True), again[stored.columns])
    assert set(stored["package"]) >= {"mass", "affluent"}


def test_one_customer_gets_the_same_package_and_a_price_that_says_why(loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        stored = bank_packages(conn).set_index("customer_id")
        wealthy = stored[stored["package"] != "mass"].index[0]
        s = customer_strategy(conn, wealthy)
    assert s.package.value == stored.loc[wealthy, "package"] and s.selector == stored.loc[wealthy, "selector"]
    p = s.price("interbank_withdrawal")
    bonus = {"D10": 30, "D9": 15, "D8": 15}.get(s.decile, 0)
    off = min(100, s.package.discounts.get("interbank_withdrawal", 0) + bonus)
    assert p["discount_pct"] == off and p["price"] == pytest.approx(4 * (1 - off / 100))
    assert s.package.label_en in p["why_en"] and ("waived" in p["why_en"]) == (off == 100)


def test_prices_descend_with_tier_and_contribution_and_cap_at_waived():
    who = pd.DataFrame(
        {
            "customer_id": ["m3", "m10", "a3", "a10", "w3", "p1"],
            "package": ["mass", "mass", "affluent", "affluent", "wealth", "private_banking"],
            "value_contribution": ["D3", "D10", "D3", "D10", "D3", None],
        }
    )
    t = prices(who, PB, ["transfer"]).set_index("customer_id")
    assert t["price"].to_dict() == {"m3": 5.0, "m10": 3.5, "a3": 2.5, "a10": 1.0, "w3": 0.0, "p1": 0.0}
    assert (
        "Mass standard service gives no discount, value decile D10 adds 30 points → 30% off" in t.loc["m10", "why_en"]
    )
    assert t.loc["w3", "why_zh"].endswith("全免") and t.loc["m3", "why_en"].endswith("full price")


def test_waiver_costs_are_discount_times_estimated_volume(loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        stored = bank_packages(conn)
        vol = fee_volumes(conn)
        dec = _run_tags(conn, latest_run_id(conn)).query("dimension == 'value_contribution'")
    who = stored[["customer_id", "package"]].merge(
        dec[["customer_id", "value"]].rename(columns={"value": "value_contribution"}), on="customer_id"
    )
    table = prices(who, PB)
    costs = waiver_costs(table, vol, PB, who[["customer_id", "package"]])
    assert "estimated" in costs.attrs["note"]
    # by hand, one fee item: SMS is 12 months × CNY 2 for anyone with an open account
    sms = table[table["fee_item"] == "sms_alerts"].merge(vol[["customer_id", "months"]], on="customer_id")
    sms = sms.merge(who[["customer_id", "package"]], on="customer_id")
    expect = (sms["months"] * (sms["base_price"] - sms["price"])).groupby(sms["package"]).sum()
    got = costs[costs["fee_item"] == "sms_alerts"].set_index("segment")["waived"]
    for pkg, v in expect.items():
        assert got[pkg] == pytest.approx(v, abs=0.01)
    assert costs.loc[costs["segment"] == "mass", "waived"].sum() <= costs["waived"].sum()
    assert (vol[["atm_withdrawals", "transfers", "accounts"]] >= 0).all().all() and vol["transfers"].sum() > 0


def test_a_draft_playbook_reports_moves_and_the_waiver_delta(loaded_ro):
    engine, _ = loaded_ro
    doc = yaml.safe_load(load_standard().text)
    draft = copy.deepcopy(doc)
    draft["playbook"]["packages"][2]["selectors"][1] = {"value_contribution": ["D7", "D8", "D9", "D10"]}
    with engine.connect() as conn:
        w = playbook_whatif(conn, parse_standard(yaml.safe_dump(draft, allow_unicode=True, sort_keys=False)))
        same = playbook_whatif(conn, load_standard())
    assert len(same.moves) == 0 and same.waiver_delta == 0 and "moves no customer" in same.headline()
    assert len(w.moves) > 0 and set(w.moves["from_package"]) == {"mass"} and set(w.moves["to_package"]) == {"affluent"}
    gained = int(w.summary.set_index("package").loc["affluent", "delta"])
    assert gained == len(w.moves) and w.waiver_delta > 0
    assert w.headline().startswith(f"this draft gives {gained:,} more customers the affluent package")
    assert f"waivers cost CNY {w.waiver_delta:,.0f} a year more" in w.headline()


def test_a_tier_change_notice_states_the_new_packages_entitlements(loaded):
    from clientstrata.jobs.runs.notify import outbox
    from clientstrata.jobs.runs.pipeline import classify

    engine, graph = loaded
    doc = yaml.safe_load(load_standard().text)
    doc["version"] = "2026.2-lower"
    doc["dimensions"]["wealth_tier"]["bands"][1]["min"] = 20_000  # more customers become affluent
    report = classify(
        engine,
        graph,
        parse_standard(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)),
        progress=False,
        adopt=True,
        requested_by="committee",
    )
    assert report.packages == {k: int(v) for k, v in report.to_dict()["packages"].items()}
    with engine.connect() as conn:
        notes = outbox(conn, run_id=report.run_id)
        stored = bank_packages(conn).set_index("customer_id")
    assert len(notes)
    for n in notes.itertuples():
        pkg = n.payload["package"]
        assert pkg["value"] == stored.loc[n.customer_id, "package"]
        assert [e["value"] for e in pkg["entitlements"]] == [e.value for e in PB.package(pkg["value"]).entitlements]
