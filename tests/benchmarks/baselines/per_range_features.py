"""BASELINE, not on a run's path: the per-range SQL + pandas build the DuckDB features replaced
(issue 15), kept as the reference tests/jobs/classification/test_features_engine.py holds the
new frame equal to, and as the "old" column of tests/benchmarks/bench_features.py.

The wide features frame of individuals, built one keyset range of customers at a time:
each range is read group by group (identity, household, AUM, products, questionnaire, credit,
transactions, ecosystem) and the groups' columns put side by side, in that order.

Ranges are built side by side in worker processes (spawned: they import
`_range_features_in_worker` from this module by name, so it stays here, at module level)."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.jobs.classification.features._sql import scalar
from clientstrata.jobs.classification.features.aum import household_aum, own_aum
from clientstrata.jobs.classification.features.credit import employment, loans
from clientstrata.jobs.classification.features.ecosystem import with_ecosystem
from clientstrata.jobs.classification.features.household import household_size
from clientstrata.jobs.classification.features.identity import identity
from clientstrata.jobs.classification.features.products import holdings
from clientstrata.jobs.classification.features.questionnaire import questionnaire
from clientstrata.jobs.classification.features.reference import (
    CustomerRange,
    customer_ranges,
    recent_months,
    reference_date,
)
from clientstrata.jobs.classification.features.transactions import transactions
from clientstrata.jobs.classification.standard import Standard

__all__ = ["individual_features", "iter_individual_features", "CHUNK"]  # the old names, for the reference

# Customers per keyset range. Read when a build starts: a test patches it here, on this module.
CHUNK = 50_000


def individual_features(
    conn: Connection,
    std: Standard,
    as_of: dt.date | None = None,
    chunk: int = CHUNK,
    progress: bool | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """One row per individual with every column the dimensions read (see `jobs/dimensions`).

    Customers are read in keyset ranges of customer_id (`chunk` at a time) and every table is
    aggregated in SQL per range, so memory is bounded by the chunk, not by the transactions."""
    return pd.concat(list(iter_individual_features(conn, std, as_of, chunk, progress, workers)), ignore_index=True)


def iter_individual_features(
    conn: Connection,
    std: Standard,
    as_of: dt.date | None = None,
    chunk: int | None = None,
    progress: bool | None = None,
    workers: int | None = None,
):
    """`individual_features` one keyset range at a time (a generator of DataFrames, in id order).

    With more than one range, `workers` processes (default: one per core) build ranges side by
    side, each on its own connection: the aggregation is SQL and pandas, which hold one core
    each, so threads would not help. A database only this process can see (SQLite in memory)
    is read here, one range after another."""
    from clientstrata.jobs.progress import bar

    as_of = as_of or reference_date(conn)
    total = conn.execute(sa.text("SELECT COUNT(*) FROM individuals")).scalar()
    months = recent_months(conn, as_of)
    has_txn = scalar(conn, "SELECT 1 FROM transactions LIMIT 1") is not None
    ranges = list(customer_ranges(conn, chunk or CHUNK))
    url = conn.engine.url
    workers = min(workers or os.cpu_count() or 1, len(ranges))
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        workers = 1
    with bar(total, desc="features", unit="customers", progress=progress) as pbar:
        if workers <= 1:
            for lo, hi, n in ranges:
                yield _range_features(conn, std, as_of, months, lo, hi, has_txn)
                pbar.update(n)
            return
        job = partial(
            _range_features_in_worker, url.render_as_string(hide_password=False), std, as_of, months, has_txn=has_txn
        )
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            for part, (_, _, n) in zip(pool.map(job, [r[0] for r in ranges], [r[1] for r in ranges]), ranges):
                pbar.update(n)
                yield part


def _range_features(
    conn: Connection, std: Standard, as_of: dt.date, months: list[str], lo: str, hi: str, has_txn: bool
) -> pd.DataFrame:
    """One range's rows, every group's columns side by side (the groups align row for row)."""
    r = CustomerRange(conn, std, as_of, months, lo, hi, has_txn)
    f, onboarded = identity(r)
    ids, hid = f["customer_id"], f["household_id"]
    size = household_size(r, hid)
    own = own_aum(r, ids)
    part = pd.concat(
        [
            f,
            size,
            own,
            household_aum(r, hid, own),
            holdings(r, ids, onboarded),
            questionnaire(r, ids),
            loans(r, ids),
            employment(r, ids),
            transactions(r, ids),
        ],
        axis=1,
    )
    return with_ecosystem(conn, part, lo, hi)


def _range_features_in_worker(
    url: str, std: Standard, as_of: dt.date, months: list[str], lo: str, hi: str, has_txn: bool
) -> pd.DataFrame:
    from clientstrata.graph.record.db import engine_for

    engine = _WORKER_ENGINES.get(url) or _WORKER_ENGINES.setdefault(url, engine_for(url))
    with engine.connect() as conn:
        return _range_features(conn, std, as_of, months, lo, hi, has_txn)


_WORKER_ENGINES: dict[str, object] = {}  # per worker process: one engine (and pool) per database
