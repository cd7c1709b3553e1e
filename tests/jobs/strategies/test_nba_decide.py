"""Next-best actions, the pure functions: engagement policies, suitability as a hard rule (a
property over random customers and products), arbitration, contact policy, control group."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientstrata.jobs.classification.dimensions.risk import suitable
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.strategies.actions import PRODUCT_OFFER, action_settings, catalogue
from clientstrata.jobs.strategies.arbitration import decide
from clientstrata.jobs.strategies.association import association_rules
from clientstrata.jobs.strategies.control import in_control

SETTINGS = action_settings(load_standard())
AS_OF = dt.date(2026, 3, 31)
NO_ALERTS = pd.DataFrame(columns=["customer_id", "alert_type", "reason"])


def _customers(rows):
    base = {"age": 40.0, "kyc": "verified", "risk_level": "C3", "professional": False, "wealth_tier": "affluent"}
    return pd.DataFrame([{**base, **r} for r in rows])


def _products(rows):
    return pd.DataFrame(rows, columns=["product_id", "name", "family", "risk_level"])


PRODUCTS = _products(
    [
        ("DEP", "Deposit", "deposit", None),
        ("WM2", "Wealth R2", "wealth_management", "R2"),
        ("FD4", "Equity fund R4", "fund", "R4"),
        ("FD5", "Fund R5", "fund", "R5"),
    ]
)


def _rules(holdings, n):
    return association_rules(holdings, min_support=0, min_confidence=0, min_lift=0, n_baskets=n)


# --- suitability: a property over random customers and products ------------------------------

levels = st.sampled_from([None, "C1", "C2", "C3", "C4", "C5"])
risks = st.sampled_from([None, "R1", "R2", "R3", "R4", "R5"])
customer = st.fixed_dictionaries(
    {
        "risk_level": levels,
        "professional": st.booleans(),
        "age": st.floats(10, 99),
        "kyc": st.sampled_from(["verified", "missing", "enhanced_due_diligence"]),
        "wealth_tier": st.sampled_from(["mass", "affluent", "wealth", "private_banking"]),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    people=st.lists(customer, min_size=1, max_size=12),
    product_risks=st.lists(
        st.tuples(st.sampled_from(["deposit", "wealth_management", "fund", "insurance"]), risks), min_size=1, max_size=8
    ),
    seed=st.integers(0, 2**32 - 1),
    drift=st.booleans(),
)
def test_no_unsuitable_product_is_ever_offered_in_batch_or_for_one_customer(people, product_risks, seed, drift):
    rng = np.random.default_rng(seed)
    customers = _customers([{**p, "customer_id": f"c{i:03d}"} for i, p in enumerate(people)])
    products = _products([(f"P{j}", f"Product {j}", fam, r) for j, (fam, r) in enumerate(product_risks)])
    held = [(c, p) for c in customers["customer_id"] for p in products["product_id"] if rng.random() < 0.5]
    holdings = pd.DataFrame(held, columns=["customer_id", "item"])
    rules = _rules(holdings, len(customers))
    alerts = pd.DataFrame(
        [(c, "risk_appetite_drift", "drifting") for c in customers["customer_id"] if drift],
        columns=["customer_id", "alert_type", "reason"],
    )
    cat = catalogue(SETTINGS, products)
    risk_of = cat.set_index("action_key")["product_risk"]
    batch = decide(customers, alerts, holdings, cat, rules, SETTINGS, AS_OF)
    who = customers.set_index("customer_id")
    for r in batch.itertuples():
        c = who.loc[r.customer_id]
        assert r.product_risk == (risk_of[r.action_key] if isinstance(risk_of[r.action_key], str) else None)
        assert suitable(c["risk_level"], r.product_risk, bool(c["professional"])), (r.customer_id, r.action_key)
        if r.action == PRODUCT_OFFER:
            assert c["kyc"] == "verified" and c["age"] >= 18
            assert (r.customer_id, r.product_id) not in set(held)  # never what they already hold
    for cid in customers["customer_id"]:  # one customer on request: the same function, the same answer
        one = decide(
            customers[customers["customer_id"] == cid],
            alerts[alerts["customer_id"] == cid],
            holdings[holdings["customer_id"] == cid],
            cat,
            rules,
            SETTINGS,
            AS_OF,
        )
        mine = batch[batch["customer_id"] == cid].reset_index(drop=True)
        pd.testing.assert_frame_equal(one.reset_index(drop=True), mine, check_dtype=False)


# --- engagement policies ----------------------------------------------------------------------


def test_triggers_fire_their_service_actions_with_the_alert_reason():
    customers = _customers([{"customer_id": "a"}, {"customer_id": "b"}, {"customer_id": "c", "risk_level": "C1"}])
    alerts = pd.DataFrame(
        [
            ("a", "near_upgrade", "AUM 470,000 within 6% of wealth"),
            ("b", "aum_outflow", "AUM fell 40% over 3 months"),
            ("c", "risk_appetite_drift", "C1 customer bought an R4 fund"),
        ],
        columns=["customer_id", "alert_type", "reason"],
    )
    out = decide(
        customers,
        alerts,
        pd.DataFrame(columns=["customer_id", "item"]),
        catalogue(SETTINGS, PRODUCTS),
        None,
        SETTINGS,
        AS_OF,
    )
    got = dict(zip(out["customer_id"], out["action"]))
    assert got["a"] == "upgrade_invitation" and got["b"] == "retention_call"
    assert "c" not in got  # the equity-fund event is R3: not for a C1 customer, whatever the trigger
    a = out[out["customer_id"] == "a"].iloc[0]
    assert "within 6% of wealth" in a["reason_en"] and "临界升级" in a["reason_zh"]
    assert a["due_on"] == AS_OF + dt.timedelta(days=14)


def test_segment_selectors_age_and_kyc_decide_eligibility():
    customers = _customers(
        [
            {"customer_id": "w", "wealth_tier": "wealth"},
            {"customer_id": "m", "wealth_tier": "mass"},
            {"customer_id": "kid", "wealth_tier": "wealth", "age": 16.0},
            {"customer_id": "nokyc", "kyc": "missing"},
        ]
    )
    holdings = pd.DataFrame(
        [("x1", "DEP"), ("x1", "WM2"), ("x2", "DEP"), ("x2", "WM2"), ("nokyc", "DEP")], columns=["customer_id", "item"]
    )
    rules = _rules(holdings, 3)
    out = decide(customers, NO_ALERTS, holdings, catalogue(SETTINGS, PRODUCTS), rules, SETTINGS, AS_OF)
    assert set(out.loc[out["action"] == "care_visit", "customer_id"]) == {"w"}  # wealth only, adults only
    assert "nokyc" not in set(out["customer_id"])  # DEP → WM2 applies, but no offer without KYC
    ok = decide(
        customers.assign(kyc="verified"), NO_ALERTS, holdings, catalogue(SETTINGS, PRODUCTS), rules, SETTINGS, AS_OF
    )
    offer = ok[ok["customer_id"] == "nokyc"].iloc[0]
    assert offer["product_id"] == "WM2" and "lift" in offer["reason_en"] and "提升度" in offer["reason_zh"]


# --- arbitration and the contact policy -------------------------------------------------------


def _history(rows):
    return pd.DataFrame(rows, columns=["nba_id", "customer_id", "action_key", "channel", "outcome", "at"])


def test_priority_is_propensity_times_value_times_lever_and_top_k_keeps_the_best():
    customers = _customers([{"customer_id": "a", "wealth_tier": "wealth"}])
    alerts = pd.DataFrame(
        [("a", t, "why") for t in ("near_upgrade", "aum_outflow", "product_maturity", "demand_signal")],
        columns=["customer_id", "alert_type", "reason"],
    )
    cat = catalogue(SETTINGS, PRODUCTS)
    out = decide(customers, alerts, pd.DataFrame(columns=["customer_id", "item"]), cat, None, SETTINGS, AS_OF)
    spec = SETTINGS.services
    for r in out.itertuples():
        s = spec[r.action]
        assert r.priority == pytest.approx(s["base_rate"] * s["value"] * s["lever"])
    assert list(out["rank"]) == [1, 2, 3]
    # rm_call allows 2 per period: retention (0.25·4000·1.5 = 1500) and the invitation
    # (0.2·2500·1.2 = 600) beat reinvestment (525) and the referral (450); the care visit (180)
    # has a channel of its own
    assert list(out["action"]) == ["retention_call", "upgrade_invitation", "care_visit"]


def test_contact_policy_caps_a_channel_and_suppresses_declined_and_cooling_actions():
    customers = _customers([{"customer_id": "a", "wealth_tier": "wealth"}])
    alerts = pd.DataFrame(
        [("a", t, "why") for t in ("near_upgrade", "aum_outflow", "product_maturity", "demand_signal")],
        columns=["customer_id", "alert_type", "reason"],
    )
    cat = catalogue(SETTINGS, PRODUCTS)
    none = pd.DataFrame(columns=["customer_id", "item"])
    fresh = decide(customers, alerts, none, cat, None, SETTINGS, AS_OF)
    assert (fresh["channel"] == "rm_call").sum() == 2  # max_per_channel.rm_call
    # one rm_call reached 10 days ago (a different action): one rm_call slot left
    used = _history([(1, "a", "upgrade_invitation", "rm_call", "contacted", dt.datetime(2026, 3, 21))])
    out = decide(customers, alerts, none, cat, None, SETTINGS, AS_OF, history=used)
    assert (out["channel"] == "rm_call").sum() == 1
    assert "upgrade_invitation" not in set(out["action"])  # and it is in its 90-day cooldown
    # retention declined 60 days ago: suppressed for 90 days; after 100 days it is back
    declined = _history([(2, "a", "retention_call", "rm_call", "declined", dt.datetime(2026, 1, 30))])
    assert "retention_call" not in set(
        decide(customers, alerts, none, cat, None, SETTINGS, AS_OF, history=declined)["action"]
    )
    later = AS_OF + dt.timedelta(days=40)
    assert "retention_call" in set(
        decide(customers, alerts, none, cat, None, SETTINGS, later, history=declined)["action"]
    )


def test_learned_response_rates_move_the_propensity():
    customers = _customers([{"customer_id": "a"}])
    alerts = pd.DataFrame([("a", "near_upgrade", "why")], columns=["customer_id", "alert_type", "reason"])
    cat = catalogue(SETTINGS, PRODUCTS)
    none = pd.DataFrame(columns=["customer_id", "item"])
    prior = decide(customers, alerts, none, cat, None, SETTINGS, AS_OF).iloc[0]["propensity"]
    learned = pd.DataFrame([("upgrade_invitation", 180, 126)], columns=["action_key", "reached", "responded"])
    after = decide(customers, alerts, none, cat, None, SETTINGS, AS_OF, learned=learned).iloc[0]
    assert prior == pytest.approx(0.2)
    assert after["propensity"] == pytest.approx((20 * 0.2 + 126) / (20 + 180))  # toward 0.7
    assert "learned from 180 reached" in after["reason_en"]


# --- control group ----------------------------------------------------------------------------


def test_control_group_is_stable_per_action_and_near_its_share():
    ids = [f"c{i:05d}" for i in range(20_000)]
    rows = pd.DataFrame({"customer_id": ids, "action_key": "retention_call"})
    first = in_control(rows, 0.1, "s")
    assert first.mean() == pytest.approx(0.1, abs=0.01)
    shuffled = rows.sample(frac=1, random_state=1)
    again = in_control(shuffled, 0.1, "s")
    assert (pd.Series(again, index=shuffled.index).sort_index().to_numpy() == first).all()  # order-free
    other = in_control(rows.assign(action_key="care_visit"), 0.1, "s")
    assert (first & other).mean() == pytest.approx(0.01, abs=0.004)  # independent per action
    assert not in_control(rows, 0.0, "s").any()


def test_held_out_rows_are_flagged_not_dropped():
    customers = _customers([{"customer_id": f"c{i:04d}", "wealth_tier": "wealth"} for i in range(400)])
    out = decide(
        customers,
        NO_ALERTS,
        pd.DataFrame(columns=["customer_id", "item"]),
        catalogue(SETTINGS, PRODUCTS),
        None,
        SETTINGS,
        AS_OF,
    )
    visits = out[out["action"] == "care_visit"]
    assert len(visits) == 400  # every wealth customer is picked; a stable ~10% held out
    assert 0.05 < visits["control"].mean() < 0.16
    again = decide(
        customers,
        NO_ALERTS,
        pd.DataFrame(columns=["customer_id", "item"]),
        catalogue(SETTINGS, PRODUCTS),
        None,
        SETTINGS,
        AS_OF,
    )
    assert (again["control"].to_numpy() == out["control"].to_numpy()).all()
