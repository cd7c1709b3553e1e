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

from clientstrata.jobs.classification.standard import Standard

from ._explain import KEY, Lang, arrow
from ._tags import fmt, inputs_of, tag_frame

__all__ = ["aml_risk", "aml_factors", "explain_aml_risk"]

_RATING_ORDER = ("low", "medium", "high")


def aml_factors(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Which factor holds for each customer (booleans, one column per factor)."""
    spec = std.dimensions["aml_risk"]
    t = spec["thresholds"]
    txn_amount = features["txn_amount"].astype(float)
    cash_share = np.where(
        txn_amount > 0, features["cash_amount"].astype(float) / txn_amount.where(txn_amount > 0, 1), 0
    )
    inds = set(spec["high_risk_industries"])
    linked = features["linked_industries"].fillna("").str.split(",")
    return pd.DataFrame(
        {
            "pep": features["is_pep"].fillna(False).astype(bool),
            "missing_id_number": ~features["has_id_number"].fillna(False).astype(bool),
            "high_risk_region": features["region"].isin(spec["high_risk_regions"]),
            "high_risk_country": features["high_risk_country_count"] > 0,
            "cash_intensive": (features["cash_count"] >= t["cash_intensive_min_count"])
            & (cash_share >= t["cash_intensive_share"]),
            "frequent_cross_border": features["cross_border_count"] >= t["frequent_cross_border_count"],
            "rapid_in_out": features["rapid_in_out_count"] >= t["rapid_in_out_count"],
            "structuring": features["structuring_count"] >= t["structuring_count"],
            "high_risk_occupation": features["occupation"].isin(spec["high_risk_occupations"]),
            "high_risk_industry": linked.map(lambda xs: any(x in inds for x in xs)),
        },
        index=features.index,
    )


def aml_risk(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    spec = std.dimensions["aml_risk"]
    fired = aml_factors(features, std)
    n = len(features)
    score = np.zeros(n)
    points = {}
    for group in spec["groups"].values():
        g = np.zeros(n)
        for factor, pts in group["factors"].items():
            p = fired[factor].to_numpy(dtype=bool) * float(pts)
            points[factor] = p
            g += p
        score += np.minimum(g, float(group["max_points"]))
    ratings = spec["ratings"]
    mins = np.array([r["min"] for r in ratings], dtype=float)
    pick = np.searchsorted(mins, score, side="right") - 1
    order = {r["value"]: i for i, r in enumerate(ratings)}
    for factor, floor in spec.get("minimum_rating", {}).items():
        if floor in order and factor in fired:
            pick = np.where(fired[factor].to_numpy(dtype=bool), np.maximum(pick, order[floor]), pick)
    review = np.array([int(r["review_months"]) for r in ratings])[pick]
    due = {}  # one date computation per (as_of, months) pair, not per customer
    next_review = [
        due.get(k) or due.setdefault(k, (pd.Timestamp(k[0]) + pd.DateOffset(months=k[1])).strftime("%Y-%m-%d"))
        for k in zip(features["as_of"].astype(str), review.tolist())
    ]
    names = list(points)
    mat = np.column_stack([points[f] for f in names]) if names else np.zeros((n, 0))
    raw = features[
        [
            "cash_count",
            "cash_amount",
            "txn_amount",
            "cross_border_count",
            "high_risk_country_count",
            "structuring_count",
            "rapid_in_out_count",
        ]
    ].astype(float)
    counts = inputs_of(raw.astype({c: "int64" for c in raw.columns if c.endswith("count")}))
    inputs = [
        {"factor_points": dict(zip(names, row)), "score": sc, "next_review": nr, "review_months": rm, **c}
        for row, sc, nr, rm, c in zip(mat.tolist(), score.tolist(), next_review, review.tolist(), counts)
    ]
    return tag_frame(features["customer_id"], "aml_risk", ratings, pick, score, [KEY] * n, inputs, std)


def explain_aml_risk(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    ratings = std.dimensions["aml_risk"]["ratings"]
    points = inputs.get("factor_points") or {}
    score = float(inputs.get("score") or 0.0)
    mins = np.array([r["min"] for r in ratings], dtype=float)
    by_band = ratings[int(np.searchsorted(mins, score, side="right")) - 1]
    zh = lang == "zh"
    hits = ", ".join(f"{f} +{v:g}" for f, v in points.items() if v) or ("无风险因素" if zh else "no risk factor")
    text = f"评分 {fmt(score)}（{hits}）{arrow(tag, lang)}" if zh else f"score {fmt(score)} ({hits}) {arrow(tag, lang)}"
    if by_band["value"] != tag["value"]:
        if zh:
            text += f"，因风险因素的最低评级由{by_band['label_zh']}上调"
        else:
            text += f", raised from {by_band['label_en']} by the minimum rating of a factor"
    due = inputs.get("next_review")
    return text + (f"；下次复核 {due}" if zh else f"; next review {due}")
