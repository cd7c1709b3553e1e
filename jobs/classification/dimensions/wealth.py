"""Wealth tier (资产规模) of a customer and of their household, from monthly daily-average AUM."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.features import AUM_PREFIX, HH_AUM_PREFIX, aum_columns
from clientstrata.jobs.classification.standard import Standard

from ._explain import KEY, Lang
from ._tags import fmt, round2, tag_frame

__all__ = [
    "wealth_tier",
    "household_wealth_tier",
    "stable_tier",
    "tier_index",
    "explain_wealth_tier",
    "explain_household_wealth_tier",
]


def stable_tier(aum: np.ndarray, mins: np.ndarray, grace: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Band index per row of a (customers × months) AUM matrix, oldest month first, stable as
    banks run it: up as soon as a month's average meets a higher band; down only after the held
    band's `grace` consecutive months below it. Returns (tier, months below the held band)."""
    raw = np.searchsorted(mins, aum, side="right") - 1
    tier = raw[:, 0].copy()
    below = np.zeros(len(tier), dtype=int)
    for t in range(1, raw.shape[1]):
        r = raw[:, t]
        up = r > tier
        down = r < tier
        below = np.where(down, below + 1, 0)
        demote = down & (below >= grace[tier])
        tier = np.where(up | demote, r, tier)
        below = np.where(demote | up, 0, below)
    return tier, below


def _matrix(features: pd.DataFrame, prefix: str) -> tuple[list[str], np.ndarray]:
    cols = aum_columns(features, prefix)
    if not cols:
        return [], np.zeros((len(features), 1))
    return [c[len(prefix) :] for c in cols], features[cols].to_numpy(dtype=float)


def tier_index(features: pd.DataFrame, std: Standard, dimension: str = "wealth_tier") -> np.ndarray:
    """The band index each customer holds (for other dimensions that build on the tier)."""
    spec = std.dimensions[dimension]
    mins = np.array([b["min"] for b in spec["bands"]], dtype=float)
    grace = np.array([b.get("downgrade_after_months", 3) for b in spec["bands"]])
    prefix = AUM_PREFIX if dimension == "wealth_tier" else HH_AUM_PREFIX
    return stable_tier(_matrix(features, prefix)[1], mins, grace)[0]


def _tier_tags(features: pd.DataFrame, std: Standard, dimension: str, prefix: str) -> pd.DataFrame:
    spec = std.dimensions[dimension]
    bands = spec["bands"]
    mins = np.array([b["min"] for b in bands], dtype=float)
    grace = np.array([b.get("downgrade_after_months", 3) for b in bands])
    months, aum = _matrix(features, prefix)
    tier, below = stable_tier(aum, mins, grace)
    latest = aum[:, -1]
    hnw = latest >= float(spec.get("hnw_min", np.inf))
    month = months[-1] if months else None
    if months:
        monthly = [dict(zip(months, row)) for row in round2(aum).tolist()]
    else:
        monthly = [{} for _ in range(len(tier))]
    inputs = [
        {"aum": a, "month": month, "months_below": n, "watch": bool(n), "hnw": h, "monthly_aum": m}
        for a, n, h, m in zip(round2(latest).tolist(), below.tolist(), hnw.tolist(), monthly)
    ]
    return tag_frame(
        features["customer_id"], dimension, bands, tier, np.round(latest, 2), [KEY] * len(tier), inputs, std
    )


def _tier_words(tag: dict, inputs: dict, std: Standard, lang: Lang, dimension: str, whose: str) -> str:
    spec = std.dimensions[dimension]
    bands = spec["bands"]
    k = next((i for i, b in enumerate(bands) if b["value"] == tag["value"]), 0)
    b, n = bands[k], int(inputs.get("months_below") or 0)
    aum, low, grace = fmt(inputs.get("aum")), fmt(b["min"]), b.get("downgrade_after_months", 3)
    upper = f" < {fmt(bands[k + 1]['min'])}" if k + 1 < len(bands) else ""
    hnw = fmt(spec["hnw_min"]) if inputs.get("hnw") and "hnw_min" in spec else None
    zh, en = b["label_zh"], b["label_en"]
    if lang == "zh":
        if n:
            text = f"{whose}月日均资产 {aum} 低于{zh}（下限 {low}）已 {n} 个月，未满 {grace} 个月：维持{zh}，列入关注"
        else:
            text = f"{whose}月日均资产 {aum} ≥ {low}{upper} → {zh}"
        return text + (f"；≥ {hnw}：高净值" if hnw else "")
    if n:
        text = (
            f"{whose} month-average AUM {aum} is below {en} (min {low}) for {n} "
            f"of {grace} months: stays {en}, on watch (关注)"
        )
    else:
        text = f"{whose} month-average AUM {aum} ≥ {low}{upper} → {en} ({zh})"
    return text + (f"; ≥ {hnw}: high net worth (高净值)" if hnw else "")


def explain_wealth_tier(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    return _tier_words(tag, inputs, std, lang, "wealth_tier", "本人" if lang == "zh" else "own")


def explain_household_wealth_tier(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    if inputs.get("household_id"):
        whose = "家庭" if lang == "zh" else "household"
    else:
        whose = "无确认家庭：本人" if lang == "zh" else "no confirmed household: own"
    return _tier_words(tag, inputs, std, lang, "household_wealth_tier", whose)


def wealth_tier(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Tier from the customer's own monthly AUM (`aum:YYYY-MM` columns); watch flag, HNW flag."""
    return _tier_tags(features, std, "wealth_tier", AUM_PREFIX)


def household_wealth_tier(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Every member gets their household's tier, from household monthly AUM (`hh_aum:YYYY-MM`,
    the sum over members). A customer without a confirmed household (none, or a candidate
    awaiting review) is a household of one, so every individual has this tag and it equals
    their own tier until a household is confirmed."""
    out = _tier_tags(features, std, "household_wealth_tier", HH_AUM_PREFIX)
    hid = (
        features["household_id"].astype(object).where(features["household_id"].notna(), None).to_numpy()
        if "household_id" in features
        else [None] * len(out)
    )
    size = features["household_size"].to_numpy() if "household_size" in features else np.ones(len(out))
    for inp, h, s in zip(out["inputs"], hid, size):
        inp["household_id"] = h
        inp["household_size"] = int(s)
    return out
