"""The standard's `actions:` block: refused on load with the key and line (declared in
jobs/classification/blocks.py), read with its defaults (jobs/strategies/actions.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from clientstrata.jobs.classification.standard import InvalidStandard, load_standard
from clientstrata.jobs.strategies.actions import action_settings, catalogue


def test_bad_actions_are_refused_naming_the_key(write_standard):
    for old, new, msg in [
        (
            "care_visit: {channel: visit,",
            "care_visit: {channel: pigeon,",
            "actions.catalogue.care_visit.channel: unknown channel 'pigeon'",
        ),
        ("triggers: [near_upgrade]", "triggers: [good_mood]", "'good_mood' is not an alert type"),
        ("segments: {wealth_tier:", "segments: {star_sign:", "'star_sign' is not a dimension of this standard"),
        ("control: {share: 0.1,", "control: {share: 0.9,", "actions.control.share"),
        ("base_rate: 0.35,", "base_rate: 1.5,", "a rate between 0 and 1"),
        ("product_level: R3}", "product_level: R9}", "'R9' is not a product risk level"),
        (
            "  catalogue:\n",
            "  catalogue:\n    lottery: {channel: sms}\n",
            "actions.catalogue.lottery: unknown service action",
        ),
        (
            "    fund: {channel: app,",
            "    loan: {channel: app,",
            "actions.offers.loan: not a family that can be offered",
        ),
    ]:
        with pytest.raises(InvalidStandard, match=msg.replace("[", r"\[").replace("(", r"\(")) as e:
            load_standard(write_standard(replace={old: new}))
        assert e.value.line is not None


def test_settings_fill_defaults_and_false_switches_an_action_off(write_standard):
    std = load_standard(
        write_standard(
            replace={
                "    care_visit: {channel: visit, value: 600, base_rate: 0.3, segments: {wealth_tier: [wealth, private_banking]}}": "    care_visit: false",
                "    fund: {channel: app, value: 700, base_rate: 0.02, cooldown_days: 60}": "    fund: false",
            }
        )
    )
    s = action_settings(std)
    assert "care_visit" not in s.services and "retention_call" in s.services and "fund" not in s.offers
    assert s.services["retention_call"]["cooldown_days"] == 90  # left out of the file: the default
    products = pd.DataFrame(
        [("F1", "Fund", "fund", "R3"), ("W1", "WM", "wealth_management", "R2"), ("L1", "Loan", "loan", None)],
        columns=["product_id", "name", "family", "risk_level"],
    )
    cat = catalogue(s, products)
    assert set(cat["action_key"]) == set(s.services) | {"product_offer:W1"}
    assert cat.set_index("action_key").loc["product_offer:W1", "product_risk"] == "R2"
