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

import json

import pandas as pd

from .classify import classify_partition
from .standard import Standard

__all__ = ["TAGS_SCHEMA", "classify_dataframe", "features_dataframe"]

TAGS_SCHEMA = (
    "customer_id string, dimension string, value string, label_zh string, label_en string, "
    "score double, rule string, inputs string, standard_version string"
)


def _partition_fn(std: Standard, params: dict):
    def classify_batches(batches):
        for features in batches:
            tags = classify_partition(features, std, params)
            tags["inputs"] = [json.dumps(i, ensure_ascii=False, sort_keys=True, default=str) for i in tags["inputs"]]
            # plain object text columns: Arrow-backed pandas strings do not cross back into Spark
            out = tags.drop(columns="score").astype(object)
            out.insert(5, "score", pd.to_numeric(tags["score"], errors="coerce").astype("float64"))
            yield out

    return classify_batches


def classify_dataframe(features, std: Standard, params: dict):
    """Spark DataFrame of individual features → Spark DataFrame of tags (TAGS_SCHEMA). `params`
    comes from `population_parameters` over all features (on the driver, or from a sample
    agreed by the committee)."""
    return features.mapInPandas(_partition_fn(std, params), schema=TAGS_SCHEMA)


def features_dataframe(spark, extracts: dict[str, str], sql: str):
    """Spark DataFrame of individual features: `sql` (`feature_sql(..., "spark").sql`) over the
    Parquet extracts `extracts` (table name -> path), each registered as a view of its name.
    The result has the definitions' columns; `features.engine.conform` makes it the frame."""
    for name, path in extracts.items():
        spark.read.parquet(str(path)).createOrReplaceTempView(name)
    return spark.sql(sql)
