"""Every classification dimension: pure functions, features DataFrame in, tags DataFrame out.

Each dimension is `fn(features, std) -> DataFrame[TAG_COLUMNS]`: no I/O, no globals,
vectorised, depending only on its rows and the standard, so the same functions run per
partition on Spark (`mapInPandas`). The one exception is declared, not hidden: a dimension with
a `population` step (value_contribution's deciles) takes `params`, computed once per run over
the whole population by `population_parameters`, and refuses to run without them.

`DIMENSIONS` is the registry: the `dimension` values are a contract other modules code against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from clientstrata.jobs.classification.standard import SCHEMA, Standard

from ._tags import TAG_COLUMNS
from .aml import aml_risk
from .behaviour import behaviour_activity, behaviour_channel, behaviour_loyalty, behaviour_rfm
from .business import business_categories
from .composite import composite_segment
from .cooperation import cooperation_depth
from .credit import credit_risk_tier
from .demand import demand_tier
from .enterprise import enterprise_credit_tier, enterprise_ecosystem_role, enterprise_industry, enterprise_size
from .lifecycle import lifecycle_stage, relationship_stage
from .risk import risk_consistency, risk_preference, suitability, suitable
from .value import contribution, cut_points, value_contribution
from .wealth import household_wealth_tier, wealth_tier

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
]


@dataclass(frozen=True)
class Dimension:
    name: str
    subject: Literal["individual", "enterprise"]
    fn: Callable[..., pd.DataFrame]
    # Per-partition score step and population step; fn then takes (features, std, params).
    score: Callable[[pd.DataFrame, Standard], pd.Series] | None = None
    population: Callable[[pd.Series], dict] | None = None

    def __repr__(self) -> str:
        return f"Dimension({self.name!r}, {self.subject}{', population step' if self.population else ''})"


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("wealth_tier", "individual", wealth_tier),
    Dimension("household_wealth_tier", "individual", household_wealth_tier),
    Dimension("value_contribution", "individual", value_contribution, score=contribution, population=cut_points),
    Dimension("risk_preference", "individual", risk_preference),
    Dimension("risk_consistency", "individual", risk_consistency),
    Dimension("suitability", "individual", suitability),
    Dimension("lifecycle_stage", "individual", lifecycle_stage),
    Dimension("relationship_stage", "individual", relationship_stage),
    Dimension("cooperation_depth", "individual", cooperation_depth),
    Dimension("demand_tier", "individual", demand_tier),
    Dimension("credit_risk_tier", "individual", credit_risk_tier),
    Dimension("aml_risk", "individual", aml_risk),
    Dimension("behaviour_rfm", "individual", behaviour_rfm),
    Dimension("behaviour_channel", "individual", behaviour_channel),
    Dimension("behaviour_activity", "individual", behaviour_activity),
    Dimension("behaviour_loyalty", "individual", behaviour_loyalty),
    Dimension("business_categories", "individual", business_categories),
    Dimension("composite_segment", "individual", composite_segment),
    Dimension("enterprise_industry", "enterprise", enterprise_industry),
    Dimension("enterprise_size", "enterprise", enterprise_size),
    Dimension("enterprise_credit_tier", "enterprise", enterprise_credit_tier),
    Dimension("enterprise_ecosystem_role", "enterprise", enterprise_ecosystem_role),
)
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
