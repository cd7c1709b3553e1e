"""The wide features frame of individuals, as the run reads it: computed whole by DuckDB
(`engine`), then handed over in parts of CHUNK customers, in customer_id order — the partitions
tagging, publishing and the change feed already work in, one at a time.

The per-range SQL + pandas build this replaced is kept outside the run's path, as the reference
the new frame is held equal to (tests/benchmarks/baselines/per_range_features.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.jobs.classification.standard import Standard

from .engine import duckdb_features

__all__ = ["individual_features", "iter_individual_features", "CHUNK"]

# Customers per part handed to the run. Read when a build starts: a test patches it here, on this module.
CHUNK = 50_000


def individual_features(
    conn: Connection, std: Standard, as_of: dt.date | None = None, progress: bool | None = None
) -> pd.DataFrame:
    """One row per individual with every column the dimensions read (see `jobs/dimensions`)."""
    return pd.concat(list(iter_individual_features(conn, std, as_of, progress=progress)), ignore_index=True)


def iter_individual_features(
    conn: Connection,
    std: Standard,
    as_of: dt.date | None = None,
    chunk: int | None = None,
    progress: bool | None = None,
) -> Iterator[pd.DataFrame]:
    """`individual_features` in parts of `chunk` customers (a generator of DataFrames, in id
    order). The whole frame is built first: one columnar pass beats ranges of small queries."""
    from clientstrata.jobs.progress import bar

    total = conn.execute(sa.text("SELECT COUNT(*) FROM individuals")).scalar()
    with bar(total, desc="features", unit="customers", progress=progress) as pbar:
        frame = duckdb_features(conn, std, as_of)
        size = chunk or CHUNK
        for start in range(0, len(frame), size):
            part = frame.iloc[start : start + size].reset_index(drop=True)
            pbar.update(len(part))
            yield part
