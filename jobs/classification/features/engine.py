"""The individual features computed by DuckDB: the record's tables fetched as Arrow
(`extract`), the definitions (`definitions`) run in one in-process DuckDB query, and the result
conformed to the frame the dimensions read (the same columns, order and dtypes the per-range
SQL + pandas build gave; tests/jobs/classification/test_features_engine.py holds them equal).

Why DuckDB: the per-range build ran ~80 small SQL statements and pandas merges per range;
a columnar engine does the same aggregates in one vectorised pass over all customers (the
issue measured 4.2x at 100k customers). The frame is handed to the run in CHUNK-row parts,
the partitions tagging and publishing already work in."""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from collections.abc import Callable

import pandas as pd
from sqlalchemy.engine import Connection

from clientstrata.graph.config import settings
from clientstrata.jobs.classification.standard import Standard
from clientstrata.jobs.errors import FeaturesOutOfMemory

from ._sql import scalar
from .definitions import FeatureQuery, feature_sql
from .extract import read_tables
from .reference import recent_months, reference_date

__all__ = ["duckdb_features", "duckdb_raw", "conform", "conformer", "feature_query"]


def feature_query(
    conn: Connection, std: Standard, as_of: dt.date | None = None, dialect: str = "duckdb"
) -> tuple[FeatureQuery, dt.date, bool]:
    """The features query for the record as it stands (its date, balance months, whether it has
    transactions), with what `conform` needs beside the result: (query, as_of, has_txn)."""
    as_of = as_of or reference_date(conn)
    has_txn = scalar(conn, "SELECT 1 FROM transactions LIMIT 1") is not None
    return feature_sql(std, as_of, recent_months(conn, as_of), has_txn, dialect), as_of, has_txn


def conformer(query: FeatureQuery, as_of: dt.date, has_txn: bool) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """`conform` with its query bound, to ship to Spark executors (it pickles) or apply on read."""
    return functools.partial(conform, query=query, as_of=as_of, has_txn=has_txn)


def duckdb_features(
    conn: Connection, std: Standard, as_of: dt.date | None = None, memory_mb: int | None = None
) -> pd.DataFrame:
    """One row per individual, in customer_id order, every column the dimensions read."""
    query, as_of, has_txn = feature_query(conn, std, as_of)
    return conform(duckdb_raw(conn, query, as_of, memory_mb), query, as_of, has_txn)


def duckdb_raw(conn: Connection, query: FeatureQuery, as_of: dt.date, memory_mb: int | None = None) -> pd.DataFrame:
    """The features query's raw result in DuckDB over the record's last year (what Spark's
    `features_dataframe` gives over the extracts): `conform` makes it the frame.

    DuckDB's buffers are held to `memory_mb` (CLIENTSTRATA_FEATURES_MEMORY_MB) and spill to a
    temporary folder past it: its default, 80% of the machine, let one query take 8 GB at 1M
    customers on top of the tables it reads (docs/benchmarks.md, "One bank of 1,000,000")."""
    import duckdb

    tables = read_tables(conn, dt.datetime.combine(as_of - dt.timedelta(days=365), dt.time()))
    memory_mb = memory_mb or settings().features_memory_mb
    with tempfile.TemporaryDirectory(prefix="clientstrata-features-") as spill:
        config = {
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "memory_limit": f"{memory_mb}MB",
            "temp_directory": spill,
        }
        db = duckdb.connect(":memory:", config=config)
        try:
            for name, table in tables.items():
                db.register(name, table)
            return db.execute(query.sql).df()
        except duckdb.OutOfMemoryException:
            raise FeaturesOutOfMemory(
                f"the features needed more than CLIENTSTRATA_FEATURES_MEMORY_MB={memory_mb} MB of working "
                "memory; raise it (nothing was published)"
            ) from None
        finally:
            db.close()


def conform(raw: pd.DataFrame, query: FeatureQuery, as_of: dt.date, has_txn: bool) -> pd.DataFrame:
    """The engine's result (DuckDB's or Spark's) as the features frame: the constant columns
    added, every column in order with its dtype (int64, float64, bool, or object with None)."""
    raw = raw.reset_index(drop=True)
    out = {}
    for col, kind in query.kinds.items():
        if col == "as_of":
            out[col] = pd.Series([as_of.isoformat()] * len(raw), dtype="str")
        elif col == "txn_data":
            out[col] = pd.Series([has_txn] * len(raw), dtype=bool)
        elif kind == "int":
            out[col] = pd.to_numeric(raw[col]).fillna(0).astype("int64")
        elif kind == "float":
            out[col] = pd.to_numeric(raw[col]).astype(float)
        elif kind == "str":
            out[col] = raw[col].astype("str")
        elif kind == "bool":
            out[col] = raw[col].fillna(False).astype(bool)
        else:
            s = raw[col].astype(object)
            out[col] = s.where(s.notna(), None)
    return pd.DataFrame(out).rename(columns=query.renames)
