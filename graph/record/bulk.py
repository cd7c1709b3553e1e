"""Bulk loading into the relational record, one fast path per database.

Rows arrive as tuples of plain Python values in the table's storage form (dates as ISO text,
booleans as bool), already validated. Both paths upsert on the key and skip rows whose
values are unchanged, so re-loading a bundle rewrites nothing; a NULL in a column the caller
names in `keep` leaves the stored value (COALESCE in the same statement, no extra pass); and
both write inside the caller's transaction, so a job that dies leaves nothing behind.

- SQLite: one `executemany` of a prepared INSERT … ON CONFLICT per batch (the sqlite3
  module binds in C; SQLAlchemy's per-value processors were most of the old cost); when the
  caller wants to know what changes, the batch goes through a temporary staging table first.
- PostgreSQL: COPY into a temporary staging table (psycopg 3 `cursor.copy`), then one
  INSERT … SELECT … ON CONFLICT per batch.

What changed is measured in the staging table with the upsert's own comparison
(`bulk_diff.py`), so the counts an ingest reports are the rows the statement rewrote. A table's
first load, where nothing can conflict, skips all of this (`bulk_first.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .bulk_diff import UpsertDiff, _q, measure, new_value, row_differs
from .db_errors import map_db_errors

__all__ = ["bulk_insert", "bulk_upsert", "load_tuning", "UpsertDiff", "SQLITE_LOAD_CACHE_KIB"]

SQLITE_LOAD_CACHE_KIB = 1 << 20  # 1 GiB page cache while loading: the indexes stay in memory


def _upsert_sql(
    dialect: str,
    table: str,
    columns: Sequence[str],
    key: Sequence[str],
    keep: Sequence[str] = (),
    stamp: Mapping[str, int] | None = None,
    stage: str | None = None,
) -> str:
    """The upsert of one row (`VALUES (?, …)`, for executemany) or of a staging table's rows.
    `stamp` columns get a constant on insert and on a real change and are never compared: a row
    that differs only in them is unchanged."""
    stamp = dict(stamp or {})
    consts = "".join(f", {int(v)}" for v in stamp.values())
    cols = ", ".join(map(_q, columns))
    if stage is None:
        source = f"VALUES ({', '.join('?' for _ in columns)}{consts})"
    else:  # WHERE true: without it SQLite reads ON CONFLICT as a join's ON
        source = f"SELECT {cols}{consts} FROM {_q(stage)}" + (" WHERE true" if dialect == "sqlite" else "")
    excluded = "excluded" if dialect == "sqlite" else "EXCLUDED"
    rest = [c for c in columns if c not in key]
    target = ", ".join(map(_q, [*columns, *stamp]))
    head = f"INSERT INTO {_q(table)} ({target}) {source} ON CONFLICT ({', '.join(map(_q, key))}) "
    if not rest:
        return head + "DO NOTHING"
    sets = ", ".join(
        [f"{_q(c)} = {new_value(table, c, excluded, keep)}" for c in rest]
        + [f"{_q(c)} = {excluded}.{_q(c)}" for c in stamp]
    )
    # only rows that differ are rewritten: a re-ingest of the same bundle writes no pages
    return head + f"DO UPDATE SET {sets} WHERE {row_differs(dialect, table, rest, excluded, keep)}"


def bulk_upsert(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[tuple],
    key: Sequence[str],
    keep: Sequence[str] = (),
    stamp: Mapping[str, int] | None = None,
    diff: UpsertDiff | None = None,
) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE of `rows` (tuples in `columns` order). A stored row
    keeps its value in the `keep` columns where the new row has NULL (an empty cell). `stamp`:
    integer columns set on every row inserted or changed (the ingest id). `diff`, when given,
    is told what the statement is about to do (inserted, updated, unchanged rows and the
    changed values), measured with the statement's own comparison before it runs."""
    if not rows:
        return
    dialect = conn.dialect.name
    raw = conn.connection.driver_connection
    cols = ", ".join(map(_q, columns))
    stage = f"_stage_{table.name}"
    with map_db_errors(conn):  # the driver's own cursor: SQLAlchemy does not see its errors
        if dialect == "sqlite" and diff is None:
            sql = _upsert_sql(dialect, table.name, columns, key, keep, stamp)
            cur = raw.cursor()
            try:
                cur.executemany(sql, rows)
            finally:
                cur.close()
        elif dialect == "sqlite":
            # staged, so the rows can be compared with the stored ones before the upsert
            marks = ", ".join("?" for _ in columns)
            cur = raw.cursor()
            try:
                cur.execute(f"DROP TABLE IF EXISTS temp.{_q(stage)}")
                # CREATE … AS SELECT keeps each column's affinity: values compare as stored
                cur.execute(f"CREATE TEMP TABLE {_q(stage)} AS SELECT {cols} FROM {_q(table.name)} WHERE 0")
                cur.executemany(f"INSERT INTO {_q(stage)} ({cols}) VALUES ({marks})", rows)
                measure(cur, dialect, table.name, stage, columns, key, keep, diff)
                cur.execute(_upsert_sql(dialect, table.name, columns, key, keep, stamp, stage))
                cur.execute(f"DROP TABLE temp.{_q(stage)}")
            finally:
                cur.close()
        elif dialect == "postgresql":
            with raw.cursor() as cur:
                # ON COMMIT DROP: the staging table never outlives the load's transaction
                cur.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS {_q(stage)} (LIKE {_q(table.name)} INCLUDING DEFAULTS) ON COMMIT DROP"
                )
                cur.execute(f"TRUNCATE {_q(stage)}")
                with cur.copy(f"COPY {_q(stage)} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                if diff is not None:
                    measure(cur, dialect, table.name, stage, columns, key, keep, diff)
                cur.execute(_upsert_sql(dialect, table.name, columns, key, keep, stamp, stage))
        else:  # pragma: no cover - other dialects are not supported yet
            raise NotImplementedError(dialect)


def _python(column: sa.Column, values: pd.Series | pd.Index) -> list:
    """Values as the driver takes them before the column type's processing: timestamps as
    datetimes (dates for a Date column), everything else as the Python objects they hold."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values.dt if isinstance(values, pd.Series) else values
        return list(stamps.date if isinstance(column.type, sa.Date) else stamps.to_pydatetime())
    return values.to_numpy(dtype=object).tolist()


# Types whose bind processing reads only the value (a date's text, a flag's integer): a column of
# them holds a handful of distinct values (a run's moment, its due dates), each processed once.
_BY_VALUE = (sa.Date, sa.DateTime, sa.Boolean)


def _stored_column(conn: Connection, column: sa.Column, values: pd.Series) -> list:
    """One column as the driver takes it: missing (None, NaN, NaT) as NULL, timestamps as
    datetimes, then the column type's own bind processing (SQLite stores datetimes as
    SQLAlchemy's fixed-width text, so an appended row compares in SQL like one the ORM wrote)."""
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    if process is not None and isinstance(column.type, _BY_VALUE):
        codes, uniques = pd.factorize(values)  # missing values: -1, the None appended last
        done = [process(v) for v in _python(column, uniques)] + [process(None)]
        return np.array(done, dtype=object)[codes].tolist()
    out = _python(column, values)
    missing = pd.isna(values).to_numpy()
    if missing.any():
        out = [None if m else v for v, m in zip(out, missing)]
    return [process(v) for v in out] if process is not None else out


def bulk_insert(conn: Connection, table: sa.Table, frame: pd.DataFrame) -> int:
    """Append a frame's rows (columns named as the table's) in the caller's transaction; returns
    how many. A column at a time rather than a dict per row: a run appends hundreds of
    thousands of rows, where `to_dict("records")` and SQLAlchemy's per-row binding cost more
    than the insert (SQLite: one `executemany`; PostgreSQL: COPY)."""
    if frame.empty:
        return 0
    columns = list(frame.columns)
    rows = list(zip(*(_stored_column(conn, table.c[c], frame[c]) for c in columns)))
    names = ", ".join(map(_q, columns))
    raw = conn.connection.driver_connection
    with map_db_errors(conn):
        if conn.dialect.name == "postgresql":
            with raw.cursor() as cur, cur.copy(f"COPY {_q(table.name)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cur = raw.cursor()
            try:
                cur.executemany(
                    f"INSERT INTO {_q(table.name)} ({names}) VALUES ({', '.join('?' * len(columns))})", rows
                )
            finally:
                cur.close()
    return len(rows)


@contextmanager
def load_tuning(conn: Connection) -> Iterator[None]:
    """Settings for one bulk load on this connection, put back afterwards. SQLite: a large page
    cache, so index pages are not re-read for every batch. Journal mode and synchronous stay as
    they are (WAL, NORMAL): switching journal mode needs the database to itself, and a rollback
    journal would block the API's readers for the whole load."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    with map_db_errors(conn):
        before = raw.execute("PRAGMA cache_size").fetchone()[0]
        raw.execute(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}")
    try:
        yield
    finally:
        with map_db_errors(conn):
            raw.execute(f"PRAGMA cache_size = {int(before)}")
