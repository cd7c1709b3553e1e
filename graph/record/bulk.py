"""Bulk loading into the relational record, one fast path per database.

Rows arrive as tuples of plain Python values in the table's storage form (dates as ISO text,
booleans as bool), already validated. Both paths upsert on the key and skip rows whose
values are unchanged, so re-loading a bundle rewrites nothing; a NULL in a column the caller
names in `keep` leaves the stored value (COALESCE in the same statement, no extra pass); and
both write inside the caller's transaction, so a job that dies leaves nothing behind.

- SQLite: one `executemany` of a prepared INSERT … ON CONFLICT per batch (the sqlite3
  module binds in C; SQLAlchemy's per-value processors were most of the old cost).
- PostgreSQL: COPY into a temporary staging table (psycopg 3 `cursor.copy`), then one
  INSERT … SELECT … ON CONFLICT per batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .db_errors import map_db_errors

__all__ = ["bulk_upsert", "load_tuning", "SQLITE_LOAD_CACHE_KIB"]

SQLITE_LOAD_CACHE_KIB = 1 << 20  # 1 GiB page cache while loading: the indexes stay in memory


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _upsert_sql(
    table: str, columns: Sequence[str], key: Sequence[str], source: str, excluded: str, keep: Sequence[str] = ()
) -> str:
    cols = ", ".join(map(_q, columns))
    rest = [c for c in columns if c not in key]
    head = f"INSERT INTO {_q(table)} ({cols}) {source} ON CONFLICT ({', '.join(map(_q, key))}) "
    if not rest:
        return head + "DO NOTHING"

    def new(c: str) -> str:  # the value a conflicting row gets: a NULL never overwrites a `keep` column
        if c in keep:
            return f"COALESCE({excluded}.{_q(c)}, {_q(table)}.{_q(c)})"
        return f"{excluded}.{_q(c)}"

    sets = ", ".join(f"{_q(c)} = {new(c)}" for c in rest)
    # only rows that differ are rewritten: a re-ingest of the same bundle writes no pages
    if excluded == "excluded":  # SQLite: IS NOT is the null-safe inequality
        changed = " OR ".join(f"{_q(table)}.{_q(c)} IS NOT {new(c)}" for c in rest)
    else:
        changed = (
            f"({', '.join(f'{_q(table)}.{_q(c)}' for c in rest)}) IS DISTINCT FROM ({', '.join(new(c) for c in rest)})"
        )
    return head + f"DO UPDATE SET {sets} WHERE {changed}"


def bulk_upsert(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[tuple],
    key: Sequence[str],
    keep: Sequence[str] = (),
) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE of `rows` (tuples in `columns` order). A stored row
    keeps its value in the `keep` columns where the new row has NULL (an empty cell)."""
    if not rows:
        return
    dialect = conn.dialect.name
    raw = conn.connection.driver_connection
    with map_db_errors(conn):  # the driver's own cursor: SQLAlchemy does not see its errors
        if dialect == "sqlite":
            marks = ", ".join("?" for _ in columns)
            sql = _upsert_sql(table.name, columns, key, f"VALUES ({marks})", "excluded", keep)
            cur = raw.cursor()
            try:
                cur.executemany(sql, rows)
            finally:
                cur.close()
        elif dialect == "postgresql":
            stage = f"_stage_{table.name}"
            cols = ", ".join(map(_q, columns))
            with raw.cursor() as cur:
                # ON COMMIT DROP: the staging table never outlives the load's transaction
                cur.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS {_q(stage)} (LIKE {_q(table.name)} INCLUDING DEFAULTS) ON COMMIT DROP"
                )
                cur.execute(f"TRUNCATE {_q(stage)}")
                with cur.copy(f"COPY {_q(stage)} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cur.execute(_upsert_sql(table.name, columns, key, f"SELECT {cols} FROM {_q(stage)}", "EXCLUDED", keep))
        else:  # pragma: no cover - other dialects are not supported yet
            raise NotImplementedError(dialect)


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
