"""The pure classification functions run unchanged per partition on Spark (mapInPandas, a real
local PySpark session) and agree with the pandas run on the same features."""

import json

import pandas as pd
import pytest

from clientstrata.jobs.classification import features as F
from clientstrata.jobs.classification.classify import classify_partition, population_parameters
from clientstrata.jobs.classification.spark import classify_dataframe
from clientstrata.jobs.classification.standard import load_standard

pyspark = pytest.importorskip("pyspark", reason="pip install 'clientstrata[spark]'")
pytestmark = pytest.mark.slow


def test_spark_partitions_agree_with_pandas(spark, engine, graph, bundle_dir):
    from clientstrata.jobs.ingest.load import ingest
    from clientstrata.jobs.ingest.sync import sync_graph

    if engine.dialect.name != "sqlite":
        pytest.skip("one backend is enough: Spark reads the same features frame")
    ingest(bundle_dir, engine=engine, progress=False)
    sync_graph(engine, graph, progress=False)
    std = load_standard()
    with engine.connect() as conn:
        features = pd.concat(list(F.iter_individual_features(conn, std, progress=False)), ignore_index=True)
    params = population_parameters(features, std)
    expected = classify_partition(features, std, params)
    expected["inputs"] = [json.dumps(i, ensure_ascii=False, sort_keys=True, default=str) for i in expected["inputs"]]

    sdf = spark.createDataFrame(features).repartition(3)  # three partitions, none the whole population
    assert sdf.rdd.getNumPartitions() == 3
    got = classify_dataframe(sdf, std, params).toPandas()

    key = ["customer_id", "dimension"]
    expected = expected.sort_values(key).reset_index(drop=True)
    got = got.sort_values(key).reset_index(drop=True)
    assert len(got) == len(expected) == features["customer_id"].nunique() * expected["dimension"].nunique()
    for col in ["customer_id", "dimension", "value", "label_zh", "label_en", "rule", "standard_version"]:
        assert got[col].tolist() == expected[col].astype(str).tolist(), col
    assert [json.loads(x) for x in got["inputs"]] == [json.loads(x) for x in expected["inputs"]]
    pd.testing.assert_series_equal(got["score"], pd.to_numeric(expected["score"]).astype("float64"), check_names=False)
