"""Demand tier (需求分级): basic, advanced, professional."""

from __future__ import annotations

import pandas as pd

from clientstrata.jobs.classification.standard import Standard

from ._explain import Lang, arrow, match_words
from ._tags import first_match, inputs_of, tag_frame

__all__ = ["demand_tier", "demand_inputs", "explain_demand_tier"]


def demand_inputs(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    # investment families: those of the investment and insurance business categories
    cats = std.dimensions["business_categories"]["categories"]
    invest = {f for c in cats if c["value"] in ("investment", "insurance") for f in c["families"]}
    fams = features["families"].fillna("").str.split(",")
    n_inv = fams.map(lambda f: sum(1 for x in f if x in invest)).astype("int64")
    return pd.DataFrame(
        {
            "aum": features["aum"].astype(float),
            "investment_families": n_inv,
            "professional_investor": features["q_professional"].fillna(False).astype(bool),
            "max_risk_level": features[["max_risk_held", "max_risk_bought"]].max(axis=1).astype("int64"),
        },
        index=features.index,
    )


def demand_tier(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """First matching rule over AUM, investment families held, professional-investor status and
    the highest product risk level held or bought."""
    rules = std.dimensions["demand_tier"]["rules"]
    x = demand_inputs(features, std)
    m = first_match(x, rules)
    return tag_frame(features["customer_id"], "demand_tier", rules, m.pick, None, m.keys, inputs_of(x), std)


def explain_demand_tier(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    rules = std.dimensions["demand_tier"]["rules"]
    return f"{match_words(tag['rule'], rules, inputs, lang)} {arrow(tag, lang)}"
