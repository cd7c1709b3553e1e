"""The effect against the control group and the learning loop, on a simulated campaign with a
planted effect (jobs/ingest/campaign.py, jobs/strategies/effect.py, learning.py)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.ingest.campaign import Planted, simulate_outcomes
from clientstrata.jobs.strategies.actions import action_settings, catalogue
from clientstrata.jobs.strategies.arbitration import decide
from clientstrata.jobs.strategies.effect import measure_effect
from clientstrata.jobs.strategies.learning import evidence

SETTINGS = action_settings(load_standard())
NONE = pd.DataFrame(columns=["customer_id", "item"])
PRODUCTS = pd.DataFrame(columns=["product_id", "name", "family", "risk_level"])
PLANTED = {
    "care_visit": Planted(contact=0.7, respond=0.6, convert=0.5, baseline=0.04),  # uplift 0.7·(0.30 − 0.04)
    "retention_call": Planted(contact=0.9, respond=0.1, convert=0.3, baseline=0.05),  # uplift 0.9·(0.03 − 0.05) < 0
}


def _campaign(n: int, seed: int):
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i:06d}" for i in range(n)],
            "age": 45.0,
            "kyc": "verified",
            "risk_level": "C3",
            "professional": False,
            "wealth_tier": ["wealth" if i % 2 else "private_banking" for i in range(n)],
        }
    )
    alerts = pd.DataFrame({"customer_id": customers["customer_id"], "alert_type": "aum_outflow", "reason": "fell 40%"})
    acts = decide(customers, alerts, NONE, catalogue(SETTINGS, PRODUCTS), None, SETTINGS, dt.date(2026, 3, 31))
    acts = acts.assign(nba_id=range(1, len(acts) + 1))
    return acts, simulate_outcomes(acts, PLANTED, seed=seed)


@pytest.mark.parametrize("seed", [1, 2])
def test_measured_uplift_recovers_the_planted_one_within_its_interval(seed):
    acts, outcomes = _campaign(24_000, seed)
    eff = measure_effect(acts, outcomes).set_index(["action_key", "segment"])
    for action, planted in PLANTED.items():
        row = eff.loc[(action, "all")]
        assert row["control"] == pytest.approx(0.1 * row["offered"] / 0.9, rel=0.1)  # the 10 % holdout
        assert row["uplift_low"] <= planted.uplift <= row["uplift_high"], (action, row.to_dict())
        assert row["uplift_high"] - row["uplift_low"] < 0.08  # an interval that says something
        assert row["contacted"] == pytest.approx(planted.contact * row["offered"], rel=0.05)
    assert eff.loc[("care_visit", "all"), "uplift_low"] > 0 > eff.loc[("retention_call", "all"), "uplift_high"]
    by_segment = eff.loc["care_visit"]
    assert set(by_segment.index) == {"wealth", "private_banking", "all"}
    assert (
        by_segment.loc["wealth", "offered"] + by_segment.loc["private_banking", "offered"]
        == by_segment.loc["all", "offered"]
    )


def test_learned_propensities_move_toward_the_planted_response_rates():
    acts, outcomes = _campaign(6_000, 3)
    learned = evidence(outcomes)
    customers = pd.DataFrame(
        [
            {
                "customer_id": "x",
                "age": 50.0,
                "kyc": "verified",
                "risk_level": "C3",
                "professional": False,
                "wealth_tier": "wealth",
            }
        ]
    )
    alerts = pd.DataFrame([("x", "aum_outflow", "fell")], columns=["customer_id", "alert_type", "reason"])
    cat = catalogue(SETTINGS, PRODUCTS)
    day = dt.date(2026, 6, 30)
    before = decide(customers, alerts, NONE, cat, None, SETTINGS, day).set_index("action_key")["propensity"]
    after = decide(customers, alerts, NONE, cat, None, SETTINGS, day, learned=learned).set_index("action_key")[
        "propensity"
    ]
    for action, planted in PLANTED.items():
        prior = SETTINGS.services[action]["base_rate"]
        assert before[action] == pytest.approx(prior)
        assert abs(after[action] - planted.respond) < abs(prior - planted.respond) / 3
        assert after[action] == pytest.approx(planted.respond, abs=0.03)
