"""Behaviour (行为模式): RFM, channel preference, activity, loyalty (合作年限).

Thresholds are fixed by the standard rather than population quantiles, so a customer's
behaviour tags depend only on their own transactions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.standard import Standard

from ._tags import first_match, fmt, tag_frame

__all__ = ["behaviour_rfm", "behaviour_channel", "behaviour_activity", "behaviour_loyalty", "rfm_scores"]


def rfm_scores(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """r, f, m in 1..5: one plus the number of the standard's thresholds met."""
    spec = std.dimensions["behaviour_rfm"]
    days = features["days_since_last_txn"].astype(float).to_numpy()
    with np.errstate(invalid="ignore"):
        r = 1 + sum((days <= t).astype(int) for t in spec["recency_days_max"])
    f = 1 + sum((features["txn_count"].to_numpy() >= t).astype(int) for t in spec["frequency_min"])
    m = 1 + sum((features["txn_amount"].astype(float).to_numpy() >= t).astype(int) for t in spec["monetary_min"])
    return pd.DataFrame({"r": r, "f": f, "m": m}, index=features.index)


def behaviour_rfm(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Score = the RFM cell as a number (r·100 + f·10 + m, e.g. 545); value = the first segment
    rule of the standard that holds."""
    rules = std.dimensions["behaviour_rfm"]["segments"]
    s = rfm_scores(features, std)
    m = first_match(s, rules)
    days = features["days_since_last_txn"].astype(float)
    has = features["txn_data"].astype(bool).to_numpy()
    rule = [
        f"R{r}F{f}M{mm} ({w}) → {rules[p]['label_en']} ({rules[p]['label_zh']})"
        + ("" if h else "; the record holds no transactions")
        for r, f, mm, w, p, h in zip(s["r"], s["f"], s["m"], m.why, m.pick, has)
    ]
    inputs = [
        {
            "r": int(r),
            "f": int(f),
            "m": int(mm),
            "rfm": f"{r}{f}{mm}",
            "days_since_last_transaction": None if d != d else int(d),
            "transactions_12m": int(n),
            "amount_12m": round(float(a), 2),
        }
        for r, f, mm, d, n, a in zip(s["r"], s["f"], s["m"], days, features["txn_count"], features["txn_amount"])
    ]
    score = (s["r"] * 100 + s["f"] * 10 + s["m"]).to_numpy(dtype=float)
    return tag_frame(features["customer_id"], "behaviour_rfm", rules, m.pick, score, rule, inputs, std)


def behaviour_channel(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """The channel with most transactions in 12 months (ties: the standard's order), or none."""
    spec = std.dimensions["behaviour_channel"]
    channels = spec["channels"]
    labels = {lab["value"]: lab for lab in spec["labels"]}
    order = [*channels, "none"]
    counts = np.column_stack([features.get(f"ch_{c}", pd.Series(0, index=features.index)).to_numpy() for c in channels])
    total = counts.sum(axis=1)
    best = counts.argmax(axis=1)
    pick = np.where(total >= int(spec["min_transactions"]), best, len(channels))
    share = np.where(total > 0, counts[np.arange(len(best)), best] / np.maximum(total, 1), np.nan)
    rule = [
        f"{order[p]}: {counts[i, p]} of {total[i]} transactions ({fmt(100 * share[i])}%)"
        if p < len(channels)
        else f"{total[i]} transactions through {', '.join(channels)} in 12 months (fewer than "
        f"{spec['min_transactions']})"
        for i, p in enumerate(pick)
    ]
    inputs = [{f"{c}": int(v) for c, v in zip(channels, row)} for row in counts]
    return tag_frame(
        features["customer_id"],
        "behaviour_channel",
        [labels[v] for v in order],
        pick,
        np.round(share, 4),
        rule,
        inputs,
        std,
    )


def behaviour_activity(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Active when the last transaction is at most `dormant_after_days` old; unknown when the
    record holds no transactions at all (e.g. PKDD'99, whose transaction file is not included)."""
    spec = std.dimensions["behaviour_activity"]
    limit = int(spec["dormant_after_days"])
    days = features["days_since_last_txn"].astype(float).to_numpy()
    has = features["txn_data"].astype(bool).to_numpy()
    with np.errstate(invalid="ignore"):
        pick = np.where(~has, 2, np.where(days <= limit, 0, 1))
    rule = [
        "the record holds no transactions"
        if p == 2
        else f"last transaction {fmt(d)} days ago ≤ {limit}"
        if p == 0
        else ("no transaction in the last 12 months" if d != d else f"last transaction {fmt(d)} days ago > {limit}")
        for p, d in zip(pick, days)
    ]
    inputs = [{"days_since_last_transaction": None if d != d else int(d), "dormant_after_days": limit} for d in days]
    return tag_frame(features["customer_id"], "behaviour_activity", spec["classes"], pick, days, rule, inputs, std)


def behaviour_loyalty(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Tenure band (合作年限) from the onboarding date, or the first account opened."""
    bands = std.dimensions["behaviour_loyalty"]["bands"]
    mins = np.array([b["min"] for b in bands], dtype=float)
    tenure = features["tenure_years"].astype(float).to_numpy()
    known = ~np.isnan(tenure)
    pick = np.searchsorted(mins, np.where(known, tenure, 0), side="right") - 1
    rule = [
        f"customer for {fmt(t)} years ≥ {fmt(mins[p])} → {bands[p]['label_en']}"
        if k
        else "no onboarding date nor account opening on record: counted as new"
        for t, p, k in zip(tenure, pick, known)
    ]
    inputs = [{"tenure_years": round(float(t), 2) if k else None} for t, k in zip(tenure, known)]
    return tag_frame(features["customer_id"], "behaviour_loyalty", bands, pick, np.round(tenure, 2), rule, inputs, std)
