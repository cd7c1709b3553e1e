"""Lifecycle stage (生命周期) and relationship stage (客户旅程)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.features import AUM_PREFIX, aum_columns
from clientstrata.jobs.classification.standard import Standard

from ._explain import Lang, arrow, match_words
from ._tags import first_match, inputs_of, tag_frame

__all__ = [
    "lifecycle_stage",
    "relationship_stage",
    "lifecycle_inputs",
    "relationship_inputs",
    "explain_lifecycle_stage",
    "explain_relationship_stage",
]


def lifecycle_inputs(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    spec = std.dimensions["lifecycle_stage"]
    salaried = (features["salary_monthly"].astype(float) > 0) | features["employed"].astype(bool)
    business = features["controls_enterprise"].astype(bool)
    age = features["age"].astype(float)
    parent = features["household_role"].isin(["head", "spouse"]) & (features["children"] > 0)
    return pd.DataFrame(
        {
            "age": np.floor(age),
            "retired": (age >= float(spec["retired_early_age"])) & ~salaried & ~business,
            "parent_with_children": parent,
            "has_mortgage": features["has_mortgage"].astype(bool),
            "children": features["children"].astype("int64"),
            "household_size": features["household_size"].astype("int64"),
            "annual_income": features["annual_income"].astype(float),
            "salaried": salaried,
        },
        index=features.index,
    )


def lifecycle_stage(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Young professional, family growth, mature, retirement: first matching rule of the standard
    over age, household composition (children, role), mortgage and income pattern (salaried,
    business owner, retired: past the early-retirement age with neither)."""
    rules = std.dimensions["lifecycle_stage"]["rules"]
    x = lifecycle_inputs(features, std)
    m = first_match(x, rules)
    return tag_frame(features["customer_id"], "lifecycle_stage", rules, m.pick, None, m.keys, inputs_of(x), std)


def explain_lifecycle_stage(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    rules = std.dimensions["lifecycle_stage"]["rules"]
    return f"{match_words(tag['rule'], rules, inputs, lang)} {arrow(tag, lang)}"


def relationship_inputs(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    back = int(std.dimensions["relationship_stage"]["lookback_months"])
    cols = aum_columns(features, AUM_PREFIX)
    now = features[cols[-1]].astype(float) if cols else pd.Series(0.0, index=features.index)
    before = features[cols[max(0, len(cols) - 1 - back)]].astype(float) if cols else now
    change = np.where(before > 0, (now - before) / before.where(before > 0, 1.0), np.nan)
    return pd.DataFrame(
        {
            "aum": now,
            "aum_before": before,
            "aum_change": change,
            "tenure_years": features["tenure_years"].astype(float).round(2),
        },
        index=features.index,
    )


def relationship_stage(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Acquisition, growth, maturity, retention (assets flowing out): first matching rule over
    tenure and the AUM change across the standard's look-back months."""
    spec = std.dimensions["relationship_stage"]
    rules = spec["rules"]
    x = relationship_inputs(features, std)
    m = first_match(x, rules)
    inputs = inputs_of(x.assign(lookback_months=int(spec["lookback_months"])), round_to=4)
    return tag_frame(
        features["customer_id"], "relationship_stage", rules, m.pick, x["aum_change"].to_numpy(), m.keys, inputs, std
    )


def explain_relationship_stage(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    rules = std.dimensions["relationship_stage"]["rules"]
    return f"{match_words(tag['rule'], rules, inputs, lang)} {arrow(tag, lang)}"
