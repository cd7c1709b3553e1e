"""The feature definitions, written once, run as Spark SQL on a local Spark session over
Parquet extracts of a small bank and give the frame DuckDB gives on the record."""

import datetime as dt
import shutil

import pandas as pd
import pytest

from clientstrata.jobs.classification.features._sql import scalar
from clientstrata.jobs.classification.features.definitions import feature_sql
from clientstrata.jobs.classification.features.engine import conform, duckdb_features
from clientstrata.jobs.classification.features.extract import read_tables, write_parquet
from clientstrata.jobs.classification.features.reference import recent_months, reference_date
from clientstrata.jobs.classification.standard import load_standard

pyspark = pytest.importorskip("pyspark", reason="pip install 'clientstrata[spark]'")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not shutil.which("java"), reason="PySpark needs Java 17+")]


def test_spark_sql_features_equal_duckdb(spark, loaded_ro, tmp_path):
    from clientstrata.jobs.classification.spark import features_dataframe

    engine, _ = loaded_ro
    if engine.dialect.name != "sqlite":
        pytest.skip("one backend is enough: Spark reads the extracts, not the database")
    std = load_standard()
    with engine.connect() as conn:
        as_of = reference_date(conn)
        months = recent_months(conn, as_of)
        has_txn = scalar(conn, "SELECT 1 FROM transactions LIMIT 1") is not None
        expected = duckdb_features(conn, std, as_of)
        # full extracts (every transaction since 1900): the definitions bound the year themselves
        extracts = write_parquet(read_tables(conn, dt.datetime(1900, 1, 1)), tmp_path / "extracts")
    query = feature_sql(std, as_of, months, has_txn, "spark")
    got = conform(features_dataframe(spark, extracts, query.sql).toPandas(), query, as_of, has_txn)
    assert len(got) > 100 and got["txn_count"].sum() > 0 and (got["families"] != "").any()
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, atol=1e-6)
