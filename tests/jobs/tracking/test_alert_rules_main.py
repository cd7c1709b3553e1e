"""The alert rules as they are against main's (tests/benchmarks/baselines/alert_rows.py) on random
partitions: the same alerts, in the same order, with the same words, details and periods, for any
features, tags, previous tags, maturities, transfers, birth dates and thresholds; the previous
run's tags given as a frame or as a lookup that is asked only about customers a rule can fire for."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.tracking.rules import PREVIOUS_DIMENSIONS, detect_alerts, next_maturity
from clientstrata.jobs.tracking.settings import ALERT_TYPES, AlertSettings, alert_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "baselines"))
import alert_rows  # noqa: E402  main's detector, the reference

STD = load_standard()
DEFAULT = alert_settings(STD)
MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10"]
VALUES = {
    "wealth_tier": [b["value"] for b in STD.dimensions["wealth_tier"]["bands"]] + ["unknown"],
    "value_contribution": [f"D{i}" for i in range(1, 11)],
    "risk_consistency": ["above_appetite", "below_appetite", "consistent", "unknown"],
    "risk_preference": ["C1", "C2", "C3", "C4", "C5", "expired", "unassessed"],
    "behaviour_activity": ["active", "dormant"],
    "aml_risk": [r["value"] for r in STD.dimensions["aml_risk"]["ratings"]] + ["odd"],
    "lifecycle_stage": ["mature"],  # a dimension no rule reads
}
AMOUNTS = st.sampled_from([0.0, 1.0, 20_000.0, 45_000.0, 48_000.0, 50_000.0, 70_000.0, 100_000.0, 480_000.0, 6e6])


@st.composite
def partitions(draw):
    n = draw(st.integers(1, 14))
    ids = [f"C{i:03d}" for i in sorted(draw(st.sets(st.integers(0, 60), min_size=n, max_size=n)))]
    as_of = draw(st.dates(dt.date(2024, 1, 1), dt.date(2028, 12, 31)))
    rows = []
    for c in ids:
        rows.append(
            {
                "customer_id": c,
                "as_of": str(as_of),
                "max_risk_held": draw(st.sampled_from([0, 1, 3, 4, 5, None])),
                "max_risk_bought": draw(st.sampled_from([0, 2, 4, 5, None])),
                "days_since_last_txn": draw(st.sampled_from([5.0, 181.0, 400.0, float("nan")])),
                "cross_border_count": draw(st.sampled_from([0, 2, 3, 7, None])),
                **{f"aum:{m}": draw(AMOUNTS) for m in MONTHS},
            }
        )
    f = pd.DataFrame(rows)
    f["aum"] = f[f"aum:{MONTHS[-1]}"]
    tags, prev = [], []
    for c in ids:
        for d, vals in VALUES.items():
            if draw(st.integers(0, 5)) == 0:
                continue  # now and then a customer without the dimension
            v = draw(st.sampled_from(vals))
            pts = {"pep": draw(st.sampled_from([0.0, 30.0])), "structuring": draw(st.sampled_from([0.0, 20.0]))}
            tags.append((c, d, v, draw(st.sampled_from([12.0, 80.0, None])), json.dumps({"factor_points": pts})))
        for d in PREVIOUS_DIMENSIONS:
            if draw(st.booleans()):
                prev.append((c, d, draw(st.sampled_from(VALUES[d]))))
    cols = ["customer_id", "dimension", "value", "score", "inputs"]
    t = pd.DataFrame(tags, columns=cols).astype({"customer_id": "str", "dimension": "str", "value": "str"})
    p = pd.DataFrame(prev, columns=cols[:3])
    owners = ids + ["C999"]  # an account of a customer in another partition
    mat = pd.DataFrame(
        [
            {
                "customer_id": draw(st.sampled_from(owners)),
                "account_id": f"A{k}",
                "product_id": "P1",
                "product_name": "term deposit",
                "family": draw(st.sampled_from(["deposit", "wealth_management"])),
                "term_months": draw(st.sampled_from([1, 3, 6, 12, 36])),
                "opened_on": str(draw(st.dates(as_of - dt.timedelta(days=2000), as_of + dt.timedelta(days=40)))),
                "balance": draw(st.sampled_from([1.0, 200_000.0, float("nan")])),
            }
            for k in range(draw(st.integers(0, 8)))
        ],
        columns=["customer_id", "account_id", "product_id", "product_name", "family", "term_months", "opened_on"]
        + ["balance"],
    )
    tr = pd.DataFrame(
        [(c, draw(st.sampled_from([1.0, 499_999.99, 500_000.0, 2e6]))) for c in owners if draw(st.booleans())],
        columns=["customer_id", "max_transfer"],
    )
    born = pd.Series(
        {
            c: str(draw(st.one_of(st.dates(dt.date(1930, 1, 1), dt.date(2010, 12, 31)), st.just(dt.date(1960, 2, 29)))))
            for c in owners
            if draw(st.integers(0, 3))
        },
        dtype=object,
    )
    return f, t, p, mat, tr, born


@st.composite
def alert_settings_drawn(draw):
    types = {k: dict(v) for k, v in DEFAULT.types.items()}
    types["valuable"]["min_value_decile"] = draw(st.integers(1, 10))
    types["aum_outflow"]["drop_pct"] = draw(st.sampled_from([10, 30, 50]))
    types["near_upgrade"]["within_pct"] = draw(st.sampled_from([1, 10, 50]))
    types["risk_appetite_drift"]["conservative_levels"] = draw(st.sampled_from([["C1", "C2"], ["C3"], []]))
    types["product_maturity"]["within_days"] = draw(st.sampled_from([0, 30, 120]))
    types["birthday"]["within_days"] = draw(st.sampled_from([0, 7, 60]))
    types["birthday"]["tiers"] = draw(st.sampled_from([["affluent", "wealth", "private_banking"], ["mass"]]))
    types["aml_red_flag"]["ratings"] = draw(st.sampled_from([["high"], ["low"], []]))
    types["aml_red_flag"]["on_rise"] = draw(st.booleans())
    off = draw(st.sets(st.sampled_from(ALERT_TYPES), max_size=2))
    return AlertSettings(types=types, enabled=tuple(t for t in ALERT_TYPES if t not in off))


def _lookup(previous: pd.DataFrame, asked: list):
    """The previous tags as a lookup, as a run reads them: only the customers asked."""

    def look(dimension: str, ids: np.ndarray) -> pd.Series:
        asked.append((dimension, list(ids)))
        rows = previous[(previous["dimension"] == dimension) & previous["customer_id"].isin(list(ids))]
        return pd.Series(rows["value"].to_numpy(dtype=object), index=rows["customer_id"].to_numpy(dtype=object))

    return look


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(part=partitions(), s=alert_settings_drawn(), first=st.booleans())
def test_the_rules_find_what_mains_found(part, s, first):
    f, t, p, mat, tr, born = part
    previous = None if first else p
    want = alert_rows.detect_alerts(f, t, previous, s, STD, mat, tr, born)
    got = detect_alerts(f, t, previous, s, STD, mat, tr, born)
    pd.testing.assert_frame_equal(got, want)
    if not first:
        asked: list = []
        lazily = detect_alerts(f, t, _lookup(p, asked), s, STD, mat, tr, born)
        pd.testing.assert_frame_equal(lazily, want)
        assert all(set(ids) <= set(f["customer_id"]) for _, ids in asked)


@settings(max_examples=100, deadline=None)
@given(
    opened=st.lists(st.dates(dt.date(1995, 1, 1), dt.date(2030, 12, 31)), min_size=1, max_size=20),
    terms=st.lists(st.integers(1, 60), min_size=20, max_size=20),
    as_of=st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)),
)
def test_next_maturity_is_mains_date_arithmetic(opened, terms, as_of):
    o, t = pd.Series(opened, dtype=object), pd.Series(terms[: len(opened)])
    want = alert_rows._next_maturity(o, t, as_of)
    got = next_maturity(o, t, as_of)
    assert list(got.astype(object)) == list(want)
