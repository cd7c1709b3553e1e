"""AML risk rating (反洗钱风险等级): a weighted 0–100 score over four factor groups.

Groups (SPEC): customer characteristics (PEP, missing identity), region (home region, high-risk
counterparty countries), business and transactions (cash intensity, frequent cross-border,
rapid in-and-out, structuring just under the cash reporting threshold) and industry/occupation.
Each factor that holds adds its points; a group is capped at its max_points; the caps add up to
100. Ratings by score band (high ≥ 80, medium 60–80, low < 60 by default), raised to a factor's
minimum rating (a PEP is at least medium); higher risk, more frequent review."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..standard import Standard
from ._tags import fmt, tag_frame

__all__ = ["aml_risk", "aml_factors"]

_RATING_ORDER = ("low", "medium", "high")


def aml_factors(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Which factor holds for each customer (booleans, one column per factor)."""
    spec = std.dimensions["aml_risk"]
    t = spec["thresholds"]
    txn_amount = features["txn_amount"].astype(float)
    cash_share = np.where(txn_amount > 0, features["cash_amount"].astype(float) / txn_amount.where(txn_amount > 0, 1), 0)
    inds = set(spec["high_risk_industries"])
    linked = features["linked_industries"].fillna("").str.split(",")
    return pd.DataFrame({
        "pep": features["is_pep"].fillna(False).astype(bool),
        "missing_id_number": ~features["has_id_number"].fillna(False).astype(bool),
        "high_risk_region": features["region"].isin(spec["high_risk_regions"]),
        "high_risk_country": features["high_risk_country_count"] > 0,
        "cash_intensive": (features["cash_count"] >= t["cash_intensive_min_count"]) & (cash_share >= t["cash_intensive_share"]),
        "frequent_cross_border": features["cross_border_count"] >= t["frequent_cross_border_count"],
        "rapid_in_out": features["rapid_in_out_count"] >= t["rapid_in_out_count"],
        "structuring": features["structuring_count"] >= t["structuring_count"],
        "high_risk_occupation": features["occupation"].isin(spec["high_risk_occupations"]),
        "high_risk_industry": linked.map(lambda xs: any(x in inds for x in xs)),
    }, index=features.index)


def aml_risk(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    spec = std.dimensions["aml_risk"]
    fired = aml_factors(features, std)
    n = len(features)
    score = np.zeros(n)
    points = {}
    for group in spec["groups"].values():
        g = np.zeros(n)
        for factor, pts in group["factors"].items():
            p = fired[factor].to_numpy() * float(pts)
            points[factor] = p
            g += p
        score += np.minimum(g, float(group["max_points"]))
    ratings = spec["ratings"]
    mins = np.array([r["min"] for r in ratings], dtype=float)
    pick = np.searchsorted(mins, score, side="right") - 1
    by_band = pick.copy()
    order = {r["value"]: i for i, r in enumerate(ratings)}
    for factor, floor in spec.get("minimum_rating", {}).items():
        if floor in order and factor in fired:
            pick = np.where(fired[factor].to_numpy(), np.maximum(pick, order[floor]), pick)
    review = np.array([int(r["review_months"]) for r in ratings])[pick]
    as_of = pd.to_datetime(features["as_of"])
    next_review = [(d + pd.DateOffset(months=int(m))).strftime("%Y-%m-%d") for d, m in zip(as_of, review)]
    names = list(points)
    mat = np.column_stack([points[f] for f in names]) if names else np.zeros((n, 0))
    rule, inputs = [], []
    raw = features[["cash_count", "cash_amount", "txn_amount", "cross_border_count", "high_risk_country_count",
                    "structuring_count", "rapid_in_out_count"]].astype(float).to_numpy()
    for i in range(n):
        hits = [f"{names[j]} +{fmt(mat[i, j])}" for j in range(len(names)) if mat[i, j]]
        r = f"score {fmt(score[i])} ({', '.join(hits) if hits else 'no risk factor'})"
        r += f" → {ratings[pick[i]]['label_en']} ({ratings[pick[i]]['label_zh']})"
        if pick[i] != by_band[i]:
            r += f", raised from {ratings[by_band[i]]['label_en']} by the minimum rating of a factor"
        rule.append(r + f"; next review {next_review[i]}")
        inputs.append({"factor_points": {names[j]: float(mat[i, j]) for j in range(len(names))},
                       "score": float(score[i]), "next_review": next_review[i], "review_months": int(review[i]),
                       "cash_count": int(raw[i, 0]), "cash_amount": round(raw[i, 1], 2), "txn_amount": round(raw[i, 2], 2),
                       "cross_border_count": int(raw[i, 3]), "high_risk_country_count": int(raw[i, 4]),
                       "structuring_count": int(raw[i, 5]), "rapid_in_out_count": int(raw[i, 6])})
    return tag_frame(features["customer_id"], "aml_risk", ratings, pick, score, rule, inputs, std)
