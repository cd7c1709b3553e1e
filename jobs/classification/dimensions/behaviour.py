"""Behaviour (行为模式): RFM, channel preference, activity, loyalty (合作年限).

Thresholds are fixed by the standard rather than population quantiles, so a customer's
behaviour tags depend only on their own transactions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.standard import Standard

from ._explain import KEY, Lang, arrow, match_words
from ._tags import first_match, fmt, tag_frame

__all__ = [
    "behaviour_rfm",
    "behaviour_channel",
    "behaviour_activity",
    "behaviour_loyalty",
    "rfm_scores",
    "explain_behaviour_rfm",
    "explain_behaviour_channel",
    "explain_behaviour_activity",
    "explain_behaviour_loyalty",
]


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
    # `.x`: the record holds no transactions at all, which the inputs cannot tell from none in 12 months
    rule = [k if h else k + ".x" for k, h in zip(m.keys, has.tolist())]
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


def explain_behaviour_rfm(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    rules = std.dimensions["behaviour_rfm"]["segments"]
    key, none = tag["rule"].removesuffix(".x"), tag["rule"].endswith(".x")
    cell = f"R{inputs.get('r')}F{inputs.get('f')}M{inputs.get('m')}"
    why = match_words(key, rules, inputs, lang)
    if lang == "zh":
        return f"{cell}（{why}）{arrow(tag, lang)}" + ("；记录中没有任何交易" if none else "")
    return f"{cell} ({why}) {arrow(tag, lang)}" + ("; the record holds no transactions" if none else "")


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
    inputs = [{f"{c}": int(v) for c, v in zip(channels, row)} for row in counts]
    return tag_frame(
        features["customer_id"],
        "behaviour_channel",
        [labels[v] for v in order],
        pick,
        np.round(share, 4),
        [KEY] * len(pick),
        inputs,
        std,
    )


def explain_behaviour_channel(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    spec = std.dimensions["behaviour_channel"]
    channels = list(spec["channels"])
    total = sum(int(inputs.get(c) or 0) for c in channels)
    if tag["value"] in channels:
        n = int(inputs.get(tag["value"]) or 0)
        share = fmt(100 * n / total) if total else "unknown"
        if lang == "zh":
            return f"{tag['label_zh']}：{total} 笔交易中 {n} 笔（{share}%）"
        return f"{tag['value']}: {n} of {total} transactions ({share}%)"
    if lang == "zh":
        return f"近 12 个月经 {'、'.join(channels)} 交易 {total} 笔（少于 {spec['min_transactions']} 笔）"
    return f"{total} transactions through {', '.join(channels)} in 12 months (fewer than {spec['min_transactions']})"


def behaviour_activity(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Active when the last transaction is at most `dormant_after_days` old; unknown when the
    record holds no transactions at all (e.g. PKDD'99, whose transaction file is not included)."""
    spec = std.dimensions["behaviour_activity"]
    limit = int(spec["dormant_after_days"])
    days = features["days_since_last_txn"].astype(float).to_numpy()
    has = features["txn_data"].astype(bool).to_numpy()
    with np.errstate(invalid="ignore"):
        pick = np.where(~has, 2, np.where(days <= limit, 0, 1))
    inputs = [{"days_since_last_transaction": None if d != d else int(d), "dormant_after_days": limit} for d in days]
    return tag_frame(
        features["customer_id"], "behaviour_activity", spec["classes"], pick, days, [KEY] * len(pick), inputs, std
    )


def explain_behaviour_activity(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    classes = [c["value"] for c in std.dimensions["behaviour_activity"]["classes"]]
    p = classes.index(tag["value"]) if tag["value"] in classes else 2
    d, limit = inputs.get("days_since_last_transaction"), inputs.get("dormant_after_days")
    zh = lang == "zh"
    if p == 2:
        return "记录中没有任何交易" if zh else "the record holds no transactions"
    if d is None:
        return "近 12 个月无交易" if zh else "no transaction in the last 12 months"
    sym = "≤" if p == 0 else ">"
    return f"最近一笔交易在 {fmt(d)} 天前 {sym} {limit}" if zh else f"last transaction {fmt(d)} days ago {sym} {limit}"


def behaviour_loyalty(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Tenure band (合作年限) from the onboarding date, or the first account opened."""
    bands = std.dimensions["behaviour_loyalty"]["bands"]
    mins = np.array([b["min"] for b in bands], dtype=float)
    tenure = features["tenure_years"].astype(float).to_numpy()
    known = ~np.isnan(tenure)
    pick = np.searchsorted(mins, np.where(known, tenure, 0), side="right") - 1
    inputs = [{"tenure_years": round(float(t), 2) if k else None} for t, k in zip(tenure, known)]
    return tag_frame(
        features["customer_id"], "behaviour_loyalty", bands, pick, np.round(tenure, 2), [KEY] * len(pick), inputs, std
    )


def explain_behaviour_loyalty(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    bands = std.dimensions["behaviour_loyalty"]["bands"]
    t = inputs.get("tenure_years")
    if t is None:
        if lang == "zh":
            return "无开户日期或首个账户开立记录：按新客户计"
        return "no onboarding date nor account opening on record: counted as new"
    band = next((b for b in bands if b["value"] == tag["value"]), bands[0])
    if lang == "zh":
        return f"合作 {fmt(t)} 年 ≥ {fmt(band['min'])} → {band['label_zh']}"
    return f"customer for {fmt(t)} years ≥ {fmt(band['min'])} → {band['label_en']}"
