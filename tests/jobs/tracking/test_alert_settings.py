"""Alert settings: the standard's `alerts:` block, refused when the standard is loaded
(jobs/classification/blocks.py declares it), read with its defaults (jobs/tracking/settings.py)."""

from __future__ import annotations

import pytest

from clientstrata.jobs.classification.standard import InvalidStandard, load_standard
from clientstrata.jobs.tracking.settings import alert_settings


def test_settings_refuse_bad_values_naming_the_key(write_standard):
    for old, new, msg in [
        ("near_upgrade: {within_pct: 10,", "near_upgrade: {within_pct: 150,", "alerts.near_upgrade.within_pct"),
        ("dormant: {severity: medium}", "dormant: {severity: urgent}", "alerts.dormant.severity"),
        ("tiers: [affluent, wealth, private_banking]", "tiers: [affluent, rich]", "'rich' is not a wealth_tier band"),
        ("dormant: {severity: medium}", "dormant: {days: 3}", "alerts.dormant.days: unknown key"),
        ("  dormant: {severity: medium}", "  sleepy: {severity: medium}", "alerts.sleepy: unknown alert type"),
    ]:
        with pytest.raises(InvalidStandard, match=msg.replace("[", r"\[")):
            load_standard(write_standard(replace={old: new}))  # refused on load, before any run
    off = alert_settings(load_standard(write_standard(replace={"dormant: {severity: medium}": "dormant: false"})))
    assert "dormant" not in off.enabled and "birthday" in off.enabled
