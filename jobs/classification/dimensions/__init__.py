"""Every classification dimension: pure functions, features DataFrame in, tags DataFrame out.

Each dimension is `fn(features, std) -> DataFrame[TAG_COLUMNS]`: no I/O, no globals,
vectorised, depending only on its rows and the standard, so the same functions run per
partition on Spark (`mapInPandas`). The one exception is declared, not hidden: a dimension with
a `population` step (value_contribution's deciles) takes `params`, computed once per run over
the whole population by `population_parameters`, and refuses to run without them.

`DIMENSIONS` is the registry: the `dimension` values are a contract other modules code against.
A tag keeps a rule key and its inputs, not words: `explain` puts its reason into the reader's
language from the standard of the run being read (`_explain.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from clientstrata.jobs.classification.standard import SCHEMA, Standard

from . import (
    aml,
    behaviour,
    business,
    composite,
    cooperation,
    credit,
    demand,
    enterprise,
    lifecycle,
    risk,
    value,
    wealth,
)
from ._explain import LANGS, Lang, inputs_dict, is_key
from ._tags import TAG_COLUMNS
from .risk import suitable

__all__ = [
    "TAG_COLUMNS",
    "Dimension",
    "DIMENSIONS",
    "INDIVIDUAL",
    "ENTERPRISE",
    "classify_partition",
    "classify_enterprises",
    "population_parameters",
    "population_scores",
    "population_from_scores",
    "suitable",
    "explain",
    "explain_frame",
    "Lang",
    "LANGS",
]


@dataclass(frozen=True)
class Dimension:
    name: str
    subject: Literal["individual", "enterprise"]
    fn: Callable[..., pd.DataFrame]
    # (tag, its inputs, the standard of the run read, language) -> the reason in words
    explain: Callable[[Mapping, dict, Standard, Lang], str]
    # Per-partition score step and population step; fn then takes (features, std, params).
    score: Callable[[pd.DataFrame, Standard], pd.Series] | None = None
    population: Callable[[pd.Series], dict] | None = None

    def __repr__(self) -> str:
        return f"Dimension({self.name!r}, {self.subject}{', population step' if self.population else ''})"


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("wealth_tier", "individual", wealth.wealth_tier, wealth.explain_wealth_tier),
    Dimension(
        "household_wealth_tier", "individual", wealth.household_wealth_tier, wealth.explain_household_wealth_tier
    ),
    Dimension(
        "value_contribution",
        "individual",
        value.value_contribution,
        value.explain_value_contribution,
        score=value.contribution,
        population=value.cut_points,
    ),
    Dimension("risk_preference", "individual", risk.risk_preference, risk.explain_risk_preference),
    Dimension("risk_consistency", "individual", risk.risk_consistency, risk.explain_risk_consistency),
    Dimension("suitability", "individual", risk.suitability, risk.explain_suitability),
    Dimension("lifecycle_stage", "individual", lifecycle.lifecycle_stage, lifecycle.explain_lifecycle_stage),
    Dimension("relationship_stage", "individual", lifecycle.relationship_stage, lifecycle.explain_relationship_stage),
    Dimension("cooperation_depth", "individual", cooperation.cooperation_depth, cooperation.explain_cooperation_depth),
    Dimension("demand_tier", "individual", demand.demand_tier, demand.explain_demand_tier),
    Dimension("credit_risk_tier", "individual", credit.credit_risk_tier, credit.explain_credit_risk_tier),
    Dimension("aml_risk", "individual", aml.aml_risk, aml.explain_aml_risk),
    Dimension("behaviour_rfm", "individual", behaviour.behaviour_rfm, behaviour.explain_behaviour_rfm),
    Dimension("behaviour_channel", "individual", behaviour.behaviour_channel, behaviour.explain_behaviour_channel),
    Dimension("behaviour_activity", "individual", behaviour.behaviour_activity, behaviour.explain_behaviour_activity),
    Dimension("behaviour_loyalty", "individual", behaviour.behaviour_loyalty, behaviour.explain_behaviour_loyalty),
    Dimension("business_categories", "individual", business.business_categories, business.explain_business_categories),
    Dimension("composite_segment", "individual", composite.composite_segment, composite.explain_composite_segment),
    Dimension(
        "enterprise_industry", "enterprise", enterprise.enterprise_industry, enterprise.explain_enterprise_industry
    ),
    Dimension("enterprise_size", "enterprise", enterprise.enterprise_size, enterprise.explain_enterprise_size),
    Dimension(
        "enterprise_credit_tier",
        "enterprise",
        enterprise.enterprise_credit_tier,
        enterprise.explain_enterprise_credit_tier,
    ),
    Dimension(
        "enterprise_ecosystem_role",
        "enterprise",
        enterprise.enterprise_ecosystem_role,
        enterprise.explain_enterprise_ecosystem_role,
    ),
)
_BY_NAME = {d.name: d for d in DIMENSIONS}
INDIVIDUAL = tuple(d.name for d in DIMENSIONS if d.subject == "individual")
ENTERPRISE = tuple(d.name for d in DIMENSIONS if d.subject == "enterprise")
assert {d.name: d.subject for d in DIMENSIONS} == {k: v[0] for k, v in SCHEMA.items()}, (
    "the registry and the standard's schema must list the same dimensions"
)


def _active(std: Standard, subject: str) -> list[Dimension]:
    return [d for d in DIMENSIONS if d.subject == subject and d.name in std.dimensions]


def population_scores(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """One partition's scores for every dimension with a population step (a column each): all a
    run needs from the partitions to set the population parameters (on Spark, all that comes
    back to the driver)."""
    return pd.DataFrame(
        {d.name: d.score(features, std).to_numpy(dtype=float) for d in _active(std, "individual") if d.population}
    )


def population_from_scores(scores: pd.DataFrame, std: Standard) -> dict:
    """The population parameters from every partition's `population_scores`, concatenated."""
    return {d.name: d.population(scores[d.name]) for d in _active(std, "individual") if d.population is not None}


def population_parameters(features: pd.DataFrame | Iterable[pd.DataFrame], std: Standard) -> dict:
    """Once per run, over the whole population (one frame or an iterable of partitions): the
    parameters of every dimension with a population step, e.g. value_contribution's percentiles."""
    parts = [features] if isinstance(features, pd.DataFrame) else list(features)
    scores = [population_scores(p, std) for p in parts]
    empty = pd.DataFrame({d.name: pd.Series(dtype=float) for d in _active(std, "individual") if d.population})
    return population_from_scores(pd.concat(scores, ignore_index=True) if scores else empty, std)


def classify_partition(features: pd.DataFrame, std: Standard, params: dict | None = None) -> pd.DataFrame:
    """Every individual dimension the standard configures, for one partition of customers.
    Depends only on these rows, the standard and `params` (from `population_parameters`)."""
    params = params or {}
    frames = []
    for d in _active(std, "individual"):
        if d.population is not None:
            if d.name not in params:
                raise ValueError(
                    f"{d.name} needs population parameters: pass population_parameters(all features, std) as params"
                )
            frames.append(d.fn(features, std, params[d.name]))
        else:
            frames.append(d.fn(features, std))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=TAG_COLUMNS)


def classify_enterprises(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Every enterprise dimension the standard configures (features: one row per enterprise)."""
    frames = [d.fn(features, std) for d in _active(std, "enterprise")]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=TAG_COLUMNS)


def explain(tag: Mapping, std: Standard, lang: Lang = "en") -> str:
    """A tag's reason in words (`lang`: en or zh), from its rule key and inputs and `std`, the
    standard of the run being read. A rule stored as words (before keys) is returned as stored."""
    rule = tag["rule"]
    if not is_key(rule):
        return rule
    if lang not in LANGS:
        raise ValueError(f"no explanations in {lang!r}: one of {', '.join(LANGS)}")
    found = _BY_NAME.get(tag["dimension"])
    if found is None:  # the data-driven behaviour clusters, outside the standard's registry
        from clientstrata.jobs.classification.segments import DIMENSION, explain_behaviour_cluster

        if tag["dimension"] != DIMENSION:
            raise ValueError(f"no explanation for dimension {tag['dimension']!r}")
        return explain_behaviour_cluster(tag, inputs_dict(tag["inputs"]), lang)
    return found.explain(tag, inputs_dict(tag["inputs"]), std, lang)


def explain_frame(tags: pd.DataFrame, std: Standard, lang: Lang = "en") -> list[str]:
    """`explain` for every row of a TAG_COLUMNS frame (a partition's tags, a what-if's), in order."""
    return [
        explain(t, std, lang)
        for t in tags[["dimension", "value", "label_zh", "label_en", "score", "rule", "inputs"]].to_dict("records")
    ]
