"""Alert rules: each rule's boundary on hand-built frames (jobs/tracking/rules.py)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.tracking.rules import detect_alerts
from clientstrata.jobs.tracking.settings import alert_settings

STD = load_standard()
SETTINGS = alert_settings(STD)
AS_OF = "2026-10-31"
MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10"]


def features(rows: list[dict]) -> pd.DataFrame:
    """A features frame with the columns the rules read; each row overrides the defaults."""
    base = {
        "as_of": AS_OF,
        "max_risk_held": 0,
        "max_risk_bought": 0,
        "days_since_last_txn": 5.0,
        "cross_border_count": 0,
        **{f"aum:{m}": 0.0 for m in MONTHS},
    }
    out = pd.DataFrame([{**base, **r} for r in rows])
    out["aum"] = out[f"aum:{MONTHS[-1]}"]
    return out


def tags(rows: list[tuple]) -> pd.DataFrame:
    """(customer_id, dimension, value[, score, inputs]) → a tags frame."""
    full = [(*r, *(None,) * (5 - len(r))) for r in rows]
    return pd.DataFrame(full, columns=["customer_id", "dimension", "value", "score", "inputs"])


def detect(f, t, previous=None, **kw) -> pd.DataFrame:
    return detect_alerts(f, t, previous, SETTINGS, STD, **kw)


def fired(df: pd.DataFrame, alert_type: str) -> set[str]:
    return set(df.loc[df["alert_type"] == alert_type, "customer_id"])


# --- boundaries -------------------------------------------------------------------------------


def test_aum_outflow_fires_at_the_drop_threshold_for_valuable_customers_only():
    # 3 months back from 2026-10 is 2026-07; the default threshold is a 30 % drop
    f = features(
        [
            {"customer_id": "at", "aum:2026-07": 100_000.0, "aum:2026-10": 70_000.0},  # −30 %
            {"customer_id": "under", "aum:2026-07": 100_000.0, "aum:2026-10": 70_001.0},  # −29.999 %
            {"customer_id": "mass_d8", "aum:2026-07": 40_000.0, "aum:2026-10": 20_000.0},
            {"customer_id": "mass_d7", "aum:2026-07": 40_000.0, "aum:2026-10": 20_000.0},
        ]
    )
    t = tags(
        [
            ("at", "wealth_tier", "affluent"),
            ("under", "wealth_tier", "affluent"),
            ("mass_d8", "wealth_tier", "mass"),
            ("mass_d8", "value_contribution", "D8"),
            ("mass_d7", "wealth_tier", "mass"),
            ("mass_d7", "value_contribution", "D7"),
        ]
    )
    out = detect(f, t)
    assert fired(out, "aum_outflow") == {"at", "mass_d8"}
    row = out[(out["alert_type"] == "aum_outflow") & (out["customer_id"] == "at")].iloc[0]
    assert "fell 30% from 100,000 (2026-07) to 70,000 (2026-10)" in row["reason"]
    assert row["severity"] == "high" and row["period"] == "2026-10"
    assert row["details"]["drop_pct"] == 30.0


def test_near_upgrade_fires_within_the_percent_below_the_next_band():
    f = features(
        [
            {"customer_id": "in", "aum:2026-10": 450_000.0},  # 10 % under 500,000
            {"customer_id": "out", "aum:2026-10": 449_999.0},
            {"customer_id": "held", "aum:2026-10": 480_000.0},  # on watch, still holds wealth
            {"customer_id": "pb", "aum:2026-10": 480_000.0},
        ]
    )  # on watch, holds private banking
    t = tags(
        [
            ("in", "wealth_tier", "affluent"),
            ("out", "wealth_tier", "affluent"),
            ("held", "wealth_tier", "wealth"),
            ("pb", "wealth_tier", "private_banking"),
        ]
    )
    out = detect(f, t)
    assert fired(out, "near_upgrade") == {"in"}
    row = out[out["alert_type"] == "near_upgrade"].iloc[0]
    assert "450,000 is 10% below the Wealth (财富客户) minimum 500,000" in row["reason"]
    assert row["details"]["next_tier"] == "wealth" and row["details"]["gap"] == 50_000


def test_risk_appetite_drift_on_becoming_above_appetite_or_conservative_holding_r4():
    f = features(
        [
            {"customer_id": "became"},
            {"customer_id": "stayed"},
            {"customer_id": "c2_r4", "max_risk_held": 4},
            {"customer_id": "c2_r3", "max_risk_held": 3},
            {"customer_id": "c1_bought_r5", "max_risk_bought": 5},
            {"customer_id": "c3_r5", "max_risk_held": 5},
        ]
    )
    t = tags(
        [
            ("became", "risk_consistency", "above_appetite"),
            ("stayed", "risk_consistency", "above_appetite"),
            ("c2_r4", "risk_preference", "C2"),
            ("c2_r3", "risk_preference", "C2"),
            ("c1_bought_r5", "risk_preference", "C1"),
            ("c3_r5", "risk_preference", "C3"),
        ]
    )
    prev = tags([("became", "risk_consistency", "consistent"), ("stayed", "risk_consistency", "above_appetite")])
    out = detect(f, t, prev)
    assert fired(out, "risk_appetite_drift") == {"became", "c2_r4", "c1_bought_r5"}
    reasons = out.set_index("customer_id")["reason"]
    assert "became above appetite (was consistent)" in reasons["became"]
    assert "C2 (conservative) customer holds R4" in reasons["c2_r4"]
    assert "bought R5 in the last 12 months" in reasons["c1_bought_r5"]


def test_product_maturity_fires_within_the_days_and_rolls_terms_over():
    f = features([{"customer_id": "c1"}])
    m = pd.DataFrame(
        [
            # 30 days after 2026-10-31 is 2026-11-30: an account opened 2026-05-30 with a 6-month term
            {
                "customer_id": "c1",
                "account_id": "A1",
                "product_id": "P1",
                "product_name": "6M deposit",
                "family": "deposit",
                "term_months": 6,
                "opened_on": "2026-05-30",
                "balance": 200_000.0,
            },
            {
                "customer_id": "c1",
                "account_id": "A2",
                "product_id": "P1",
                "product_name": "6M deposit",
                "family": "deposit",
                "term_months": 6,
                "opened_on": "2026-06-01",
                "balance": 1.0,
            },  # 2026-12-01: 31 days
            # opened 2025-11-15, 3-month term: rolled over in Feb, May, Aug; next maturity 2026-11-15
            {
                "customer_id": "c1",
                "account_id": "A3",
                "product_id": "P2",
                "product_name": "90-day WM",
                "family": "wealth_management",
                "term_months": 3,
                "opened_on": "2025-11-15",
                "balance": 5.0,
            },
        ]
    )
    out = detect(f, tags([]), maturities=m)
    got = out[out["alert_type"] == "product_maturity"].set_index(out["details"].map(lambda d: d.get("account_id")))
    assert set(got.index) == {"A1", "A3"}
    assert got.loc["A1", "details"]["matures_on"] == "2026-11-30" and got.loc["A1", "details"]["days_to_maturity"] == 30
    assert "balance 200,000 CNY" in got.loc["A1", "reason"] and "in 30 days" in got.loc["A1", "reason"]
    assert got.loc["A3", "details"]["matures_on"] == "2026-11-15"
    assert got.loc["A1", "period"] == "A1:2026-11-30"


def test_birthday_within_days_for_configured_tiers_only():
    f = features([{"customer_id": "in"}, {"customer_id": "late"}, {"customer_id": "mass"}, {"customer_id": "today"}])
    t = tags(
        [
            ("in", "wealth_tier", "wealth"),
            ("late", "wealth_tier", "wealth"),
            ("mass", "wealth_tier", "mass"),
            ("today", "wealth_tier", "private_banking"),
        ]
    )
    born = pd.Series({"in": "1960-11-07", "late": "1960-11-08", "mass": "1960-11-01", "today": "1970-10-31"})
    out = detect(f, t, birth_dates=born)
    assert fired(out, "birthday") == {"in", "today"}
    row = out[(out["alert_type"] == "birthday") & (out["customer_id"] == "in")].iloc[0]
    assert "turns 66 on 2026-11-07 (in 7 days" in row["reason"] and row["period"] == "2026"


def _next_birthday(born: dt.date, at: dt.date) -> dt.date:
    """The calendar's answer: this year's birthday or, once passed, next year's; 29 February
    falls on 28 February in a common year."""
    for year in (at.year, at.year + 1):
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        day = 28 if (born.month, born.day) == (2, 29) and not leap else born.day
        d = dt.date(year, born.month, day)
        if d >= at:
            return d
    raise AssertionError("unreachable")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    at=st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
    born=st.lists(
        st.one_of(st.dates(dt.date(1930, 1, 1), dt.date(2010, 12, 31)), st.sampled_from([dt.date(1960, 2, 29)])),
        min_size=1,
        max_size=12,
    ),
)
def test_birthday_agrees_with_the_calendar_leap_days_and_year_ends_included(at, born):
    ids = [f"c{i}" for i in range(len(born))]
    f = features([{"customer_id": c} for c in ids]).assign(as_of=str(at))
    t = tags([(c, "wealth_tier", "wealth") for c in ids])
    out = detect(f, t, birth_dates=pd.Series({c: str(b) for c, b in zip(ids, born)}))
    within = int(SETTINGS["birthday"]["within_days"])
    want = {}
    for c, b in zip(ids, born):
        d = _next_birthday(b, at)
        if (d - at).days <= within:
            want[c] = {"birthday": str(d), "days_to_birthday": (d - at).days, "turns": d.year - b.year}
    got = out[out["alert_type"] == "birthday"]
    assert list(got["customer_id"]) == [c for c in ids if c in want]  # in the partition's order
    for c, details, period in zip(got["customer_id"], got["details"], got["period"]):
        assert {k: details[k] for k in want[c]} == want[c] and period == want[c]["birthday"][:4]


def test_dormant_only_when_it_became_dormant():
    f = features(
        [{"customer_id": "went", "days_since_last_txn": 181.0}, {"customer_id": "still"}, {"customer_id": "first"}]
    )
    t = tags(
        [
            ("went", "behaviour_activity", "dormant"),
            ("still", "behaviour_activity", "dormant"),
            ("first", "behaviour_activity", "dormant"),
        ]
    )
    prev = tags([("went", "behaviour_activity", "active"), ("still", "behaviour_activity", "dormant")])
    out = detect(f, t, prev)
    assert fired(out, "dormant") == {"went"}
    assert "no transaction for 181 days" in out[out["alert_type"] == "dormant"].iloc[0]["reason"]


def test_demand_signal_large_transfer_and_repeated_cross_border_boundaries():
    f = features(
        [
            {"customer_id": "big"},
            {"customer_id": "almost"},
            {"customer_id": "xb", "cross_border_count": 3},
            {"customer_id": "xb2", "cross_border_count": 2},
        ]
    )
    tr = pd.DataFrame({"customer_id": ["big", "almost"], "max_transfer": [500_000.0, 499_999.99]})
    out = detect(f, tags([]), transfers=tr)
    assert fired(out, "demand_signal") == {"big", "xb"}
    reasons = out.set_index("customer_id")["reason"]
    assert "single transfer of 500,000 CNY" in reasons["big"]
    assert "3 cross-border transactions in 12 months (≥ 3)" in reasons["xb"]


def test_aml_red_flag_high_or_rose_with_factor_points():
    pts = {
        "pep": 30.0,
        "structuring": 20.0,
        "cash_intensive": 10.0,
        "rapid_in_out": 10.0,
        "frequent_cross_border": 10.0,
        "high_risk_country": 0.0,
    }
    f = features([{"customer_id": "high"}, {"customer_id": "rose"}, {"customer_id": "same"}, {"customer_id": "new"}])
    t = tags(
        [
            ("high", "aml_risk", "high", 80.0, {"factor_points": pts}),
            ("rose", "aml_risk", "medium", 30.0, {"factor_points": {"pep": 30.0}}),
            ("same", "aml_risk", "medium", 60.0, {"factor_points": {}}),
            ("new", "aml_risk", "medium", 60.0, {"factor_points": {}}),
        ]
    )
    prev = tags([("high", "aml_risk", "high"), ("rose", "aml_risk", "low"), ("same", "aml_risk", "medium")])
    out = detect(f, t, prev)
    assert fired(out, "aml_red_flag") == {"high", "rose"}
    got = out[out["alert_type"] == "aml_red_flag"].set_index("customer_id")
    assert got.loc["high", "details"]["factor_points"] == {k: v for k, v in pts.items() if v}
    assert "score 80: pep +30, structuring +20" in got.loc["high", "reason"]
    assert "up from low in the previous run" in got.loc["rose", "reason"]
