"""BASELINE: the features as plainly as DuckDB computes them on one SQLite file — the columns
fetched by the ADBC SQLite driver straight into Arrow (plain column lists: no SQLAlchemy, no
casts that make SQLite and PostgreSQL extracts alike, no schema), the same feature SQL run, the
result left as Arrow (no reference date or months looked up, no conforming to pandas dtypes).
On PostgreSQL (`baseline_features_postgres`) the ADBC PostgreSQL driver, which reads by binary
COPY, does the fetching.

What the run's path adds on top of this (SQLAlchemy fetches, the casts that make SQLite and
PostgreSQL extracts alike, the pandas frame the dimensions read) is the ratio
tests/benchmarks/bench_features.py reports. The SQL is shared on purpose: the baseline measures
the engine's floor for the same definitions, not a second set of definitions to keep equal."""

from __future__ import annotations

import datetime as dt

import adbc_driver_sqlite.dbapi as adbc
import duckdb
import pyarrow as pa

from clientstrata.jobs.classification.features.definitions import feature_sql
from clientstrata.jobs.classification.features.extract import _NAMES

__all__ = ["baseline_features", "baseline_features_postgres"]

_COLUMNS = {t: list(c) for t, c in _NAMES.items()}
_COMPUTED = {"has_id_number": "id_number IS NOT NULL"}


def _features(cursor, computed: dict[str, str], placeholder: str, since, std, as_of, months, has_txn) -> pa.Table:
    """Each table's columns fetched by the ADBC `cursor` straight into Arrow, then the feature SQL."""
    duck = duckdb.connect(":memory:")
    keep = []  # the registered Arrow tables must outlive the query
    for table, cols in _COLUMNS.items():
        sel = ", ".join(f"{computed[c]} AS {c}" if c in computed else c for c in cols)
        where = f" WHERE booked_at >= {placeholder}" if table == "transactions" else ""
        cursor.execute(f"SELECT {sel} FROM {table}{where}", (since,) if where else None)
        arrow: pa.Table = cursor.fetch_arrow_table()
        keep.append(arrow)
        duck.register(table, arrow)
    out = duck.sql(feature_sql(std, as_of, months, has_txn, "duckdb").sql).to_arrow_table()
    duck.close()
    return out


def baseline_features(path: str, std, as_of: dt.date, months: list[str], has_txn: bool) -> pa.Table:
    since = dt.datetime.combine(as_of - dt.timedelta(days=365), dt.time()).isoformat(" ")
    with adbc.connect(path) as db, db.cursor() as cursor:
        return _features(cursor, _COMPUTED, "?", since, std, as_of, months, has_txn)


def baseline_features_postgres(uri: str, std, as_of: dt.date, months: list[str], has_txn: bool) -> pa.Table:
    """The same on PostgreSQL: `uri` is a libpq URI (postgresql://user:password@host:port/db)."""
    import adbc_driver_postgresql.dbapi as adbc_pg

    since = dt.datetime.combine(as_of - dt.timedelta(days=365), dt.time())
    with adbc_pg.connect(uri) as db, db.cursor() as cursor:
        return _features(cursor, _COMPUTED_PG, "$1", since, std, as_of, months, has_txn)


# PostgreSQL's booleans arrive as Arrow booleans and its NUMERIC as text (ADBC keeps the exact
# digits); the definitions count flags as 0/1 and amounts as doubles, as the record's projections
# (features/extract.py) cast them too
_DOUBLES = ("annual_income", "balance", "avg_daily_balance", "principal", "outstanding", "monthly_payment")
_COMPUTED_PG = {
    **{c: f"{c}::double precision" for c in (*_DOUBLES, "score", "monthly_salary", "amount")},
    "has_id_number": "(id_number IS NOT NULL)::int",
    "is_pep": "is_pep::int",
    "is_professional": "is_professional::int",
    "payroll": "payroll::int",
    "is_cash": "is_cash::int",
}
