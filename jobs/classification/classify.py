"""The public entry to classification: pure functions, features DataFrame in, tags DataFrame out.

No I/O and no global state, so `classify_partition` runs per partition on Spark
(`mapInPandas`) when a bank outgrows one machine. Every tag says why: the inputs it used, the
rule that fired and the standard version. The dimensions themselves live in
`clientstrata.jobs.classification.dimensions`, one small module per dimension or tight group.
"""

from __future__ import annotations

from clientstrata.jobs.classification.dimensions.cooperation import cooperation_depth
from clientstrata.jobs.classification.dimensions.wealth import wealth_tier

from .dimensions import (
    DIMENSIONS,
    ENTERPRISE,
    INDIVIDUAL,
    TAG_COLUMNS,
    classify_enterprises,
    classify_partition,
    population_parameters,
    suitable,
)

__all__ = [
    "TAG_COLUMNS",
    "DIMENSIONS",
    "INDIVIDUAL",
    "ENTERPRISE",
    "classify_partition",
    "classify_enterprises",
    "population_parameters",
    "suitable",
    "wealth_tier",
    "cooperation_depth",
]
