"""Wealth tier (资产规模) of a customer and of their household, from monthly daily-average AUM."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.features import AUM_PREFIX, HH_AUM_PREFIX, aum_columns
from clientstrata.jobs.classification.standard import Standard

from ._tags import fmt, fmt_many, round2, tag_frame

__all__ = ["wealth_tier", "household_wealth_tier", "stable_tier", "tier_index"]


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


def _tier_tags(features: pd.DataFrame, std: Standard, dimension: str, prefix: str, whose: str) -> pd.DataFrame:
    spec = std.dimensions[dimension]
    bands = spec["bands"]
    mins = np.array([b["min"] for b in bands], dtype=float)
    grace = np.array([b.get("downgrade_after_months", 3) for b in bands])
    months, aum = _matrix(features, prefix)
    tier, below = stable_tier(aum, mins, grace)
    latest = aum[:, -1]
    hnw = latest >= float(spec.get("hnw_min", np.inf))
    latest_txt = fmt_many(latest).tolist()
    # each band's words once; a row only picks its band's pieces
    head = f"{whose} month-average AUM "
    held = [
        f" ≥ {fmt(b['min'])}{f' < {fmt(mins[k + 1])}' if k + 1 < len(mins) else ''} → {b['label_en']} ({b['label_zh']})"
        for k, b in enumerate(bands)
    ]
    below_from = [f" is below {b['label_en']} (min {fmt(b['min'])}) for " for b in bands]
    below_to = [f" of {grace[k]} months: stays {b['label_en']}, on watch (关注)" for k, b in enumerate(bands)]
    hnw_txt = f"; ≥ {fmt(spec['hnw_min'])}: high net worth (高净值)" if "hnw_min" in spec else ""
    rules = [
        head + t + (below_from[k] + str(n) + below_to[k] if n else held[k]) + (hnw_txt if h else "")
        for t, k, n, h in zip(latest_txt, tier.tolist(), below.tolist(), hnw.tolist())
    ]
    month = months[-1] if months else None
    if months:
        monthly = [dict(zip(months, row)) for row in round2(aum).tolist()]
    else:
        monthly = [{} for _ in range(len(tier))]
    inputs = [
        {"aum": a, "month": month, "months_below": n, "watch": bool(n), "hnw": h, "monthly_aum": m}
        for a, n, h, m in zip(round2(latest).tolist(), below.tolist(), hnw.tolist(), monthly)
    ]
    return tag_frame(features["customer_id"], dimension, bands, tier, np.round(latest, 2), rules, inputs, std)


def wealth_tier(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Tier from the customer's own monthly AUM (`aum:YYYY-MM` columns); watch flag, HNW flag."""
    return _tier_tags(features, std, "wealth_tier", AUM_PREFIX, "own")


def household_wealth_tier(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Every member gets their household's tier, from household monthly AUM (`hh_aum:YYYY-MM`,
    the sum over members). A customer without a confirmed household (none, or a candidate
    awaiting review) is a household of one, so every individual has this tag and it equals
    their own tier until a household is confirmed."""
    out = _tier_tags(features, std, "household_wealth_tier", HH_AUM_PREFIX, "household")
    hid = (
        features["household_id"].astype(object).where(features["household_id"].notna(), None).to_numpy()
        if "household_id" in features
        else [None] * len(out)
    )
    size = features["household_size"].to_numpy() if "household_size" in features else np.ones(len(out))
    for inp, h, s in zip(out["inputs"], hid, size):
        inp["household_id"] = h
        inp["household_size"] = int(s)
    out["rule"] = [
        r if h else r.replace("household month-average", "no confirmed household: own month-average", 1)
        for r, h in zip(out["rule"], hid)
    ]
    return out
