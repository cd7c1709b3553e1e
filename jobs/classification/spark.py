"""Classification on Spark: the same pure `classify_partition` per partition (`mapInPandas`),
for banks whose customers outgrow one machine. Spark is optional (`pip install 'clientstrata[spark]'`).

The features come first, from the same definitions DuckDB runs on one machine
(`features.definitions`, dialect 'spark') over Parquet extracts of the record
(`features.extract.write_parquet`): `features_dataframe`. Its session must count time in UTC
(`spark.sql.session.timeZone`), as the definitions count whole days in seconds.

The driver computes the population parameters once (value_contribution's percentiles) from the
scores, then ships them with the standard to every partition; tag `inputs` travel as JSON text,
the column type of the tags table.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from .classify import DIMENSIONS, classify_partition
from .dimensions import population_from_scores, population_scores
from .dimensions._tags import inputs_text
from .standard import Standard

__all__ = ["TAGS_SCHEMA", "classify_dataframe", "features_dataframe", "spark_population_parameters"]

TAGS_SCHEMA = (
    "customer_id string, dimension string, value string, label_zh string, label_en string, "
    "score double, rule string, inputs string, standard_version string"
)


def _partition_fn(std: Standard, params: dict, conform: Callable | None):
    def classify_batches(batches):
        for features in batches:
            tags = classify_partition(conform(features) if conform else features, std, params)
            tags["inputs"] = inputs_text(tags["inputs"])  # the record's text: a publish compares it as text
            # plain object text columns: Arrow-backed pandas strings do not cross back into Spark
            out = tags.drop(columns="score").astype(object)
            out.insert(5, "score", pd.to_numeric(tags["score"], errors="coerce").astype("float64"))
            yield out

    return classify_batches


def classify_dataframe(features, std: Standard, params: dict, conform: Callable | None = None):
    """Spark DataFrame of individual features → Spark DataFrame of tags (TAGS_SCHEMA). `params`
    comes from `population_parameters` over all features (`spark_population_parameters`, or a
    sample agreed by the committee). With `conform` (`features.engine.conformer`), `features`
    is the raw result of `features_dataframe`, made the features frame batch by batch."""
    return features.mapInPandas(_partition_fn(std, params, conform), schema=TAGS_SCHEMA)


def spark_population_parameters(features, std: Standard, conform: Callable | None = None) -> dict:
    """`population_parameters` of a Spark DataFrame of features: each partition's population
    scores are computed where it lies, and only they (one float per customer) reach the driver."""
    names = [d.name for d in DIMENSIONS if d.subject == "individual" and d.population and d.name in std.dimensions]
    if not names:
        return {}

    def scores(batches):
        for b in batches:
            yield population_scores(conform(b) if conform else b, std)

    collected = features.mapInPandas(scores, schema=", ".join(f"{n} double" for n in names)).toPandas()
    return population_from_scores(collected, std)


def features_dataframe(spark, extracts: dict[str, str], sql: str):
    """Spark DataFrame of individual features: `sql` (`feature_sql(..., "spark").sql`) over the
    Parquet extracts `extracts` (table name -> path), each registered as a view of its name.
    The result has the definitions' columns; `features.engine.conform` makes it the frame."""
    for name, path in extracts.items():
        spark.read.parquet(str(path)).createOrReplaceTempView(name)
    return spark.sql(sql)
