"""A table's first bulk load: plain inserts, indexes built once afterwards, foreign keys checked once.

An ingest into an empty table has nothing to compare with and nothing to conflict with (the
ingest quarantines repeated keys before they are written), so its rows go in by the cheapest
path each database has: `executemany` of a plain INSERT on SQLite, COPY straight into the table
on PostgreSQL. Maintaining a large secondary index row by row (the transactions' covering index:
random keys, every page touched again and again) costs more than building it once by sorting,
so `first_load` drops a table's non-unique secondary indexes before the load and creates them
again from their own definitions after it, in the same transaction: a failed load leaves them as
they were.

Foreign keys: the ingest checks every reference in Python against the keys it knows (the record's
and the load's own), so the database's row-by-row check repeats it. SQLite's is switched off for
the load (`foreign_keys_off`: the pragma cannot change inside a transaction) and done once per
table at the end (`check_foreign_keys`: `PRAGMA foreign_key_check`); PostgreSQL's constraints on
an empty table are dropped with its indexes and added back after the load, which validates every
row in one join. Either way a dangling reference still fails the whole ingest.

The price on PostgreSQL: dropping an index or a constraint locks the (empty) table until the
ingest commits, so a reader of that table waits for the first load instead of reading nothing.
SQLite's readers (WAL) keep reading the last committed state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import StoreUnavailable

from .bulk_diff import _q
from .db_errors import map_db_errors

__all__ = ["insert_new", "first_load", "foreign_keys_off", "check_foreign_keys", "secondary_indexes"]


def insert_new(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[tuple],
    stamp: Mapping[str, int] | None = None,
) -> None:
    """Plain INSERT of rows whose keys the table does not hold (no ON CONFLICT, no comparison):
    tuples in `columns` order, `stamp` columns set to a constant on every row."""
    if not rows:
        return
    stamp = dict(stamp or {})
    raw = conn.connection.driver_connection
    names = ", ".join(map(_q, [*columns, *stamp]))
    with map_db_errors(conn):
        if conn.dialect.name == "postgresql":
            extra = tuple(int(v) for v in stamp.values())
            with raw.cursor() as cur, cur.copy(f"COPY {_q(table.name)} ({names}) FROM STDIN") as copy:
                if extra:
                    for row in rows:
                        copy.write_row(row + extra)
                else:
                    for row in rows:
                        copy.write_row(row)
        else:
            consts = "".join(f", {int(v)}" for v in stamp.values())
            marks = ", ".join("?" for _ in columns)
            cur = raw.cursor()
            try:
                cur.executemany(f"INSERT INTO {_q(table.name)} ({names}) VALUES ({marks}{consts})", rows)
            finally:
                cur.close()


def secondary_indexes(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's non-unique indexes, as the database holds them
    (a migration's index as much as a model's)."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            sa.text(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = CAST(:t AS regclass) AND NOT i.indisunique AND NOT i.indisprimary "
                "ORDER BY c.relname"
            ),
            {"t": table},
        )
    else:
        rows = conn.execute(
            sa.text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
                "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name"
            ),
            {"t": table},
        )
    return [(name, sql) for name, sql in rows]


def _foreign_keys(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(name, definition) of a PostgreSQL table's foreign keys."""
    rows = conn.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' ORDER BY conname"
        ),
        {"t": table},
    )
    return [(name, sql) for name, sql in rows]


@contextmanager
def first_load(conn: Connection, table: str) -> Iterator[None]:
    """Around the first load of an empty `table`: its non-unique indexes (and on PostgreSQL its
    foreign keys) are dropped on entry and built again on a normal exit, checking every row once.
    Inside the caller's transaction: when the block raises, the caller's rollback restores them."""
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        if not raw.in_transaction:  # the driver begins at a write, not at DDL: DROP INDEX would commit
            raw.execute("BEGIN")
    indexes = secondary_indexes(conn, table)
    fks = _foreign_keys(conn, table) if conn.dialect.name == "postgresql" else []
    for name, _ in fks:
        conn.execute(sa.text(f"ALTER TABLE {_q(table)} DROP CONSTRAINT {_q(name)}"))
    for name, _ in indexes:
        conn.execute(sa.text(f"DROP INDEX {_q(name)}"))
    yield
    for _, sql in indexes:
        conn.execute(sa.text(sql))
    for name, definition in fks:
        conn.execute(sa.text(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}"))


@contextmanager
def foreign_keys_off(conn: Connection) -> Iterator[None]:
    """SQLite: no row-by-row foreign key check on this connection until the block ends (call it
    before the load's transaction begins; `check_foreign_keys` does the check once). A no-op on
    PostgreSQL, whose constraints `first_load` handles."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    if raw.in_transaction:  # the pragma is a silent no-op inside a transaction
        raise RuntimeError("foreign_keys_off must be entered before the transaction begins")
    with map_db_errors(conn):
        raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        if raw.in_transaction:  # the pragma would be ignored: end what the caller left open
            raw.rollback()
        with map_db_errors(conn):
            raw.execute("PRAGMA foreign_keys = ON")


def check_foreign_keys(conn: Connection, tables: Sequence[str]) -> None:
    """SQLite: every foreign key of `tables` checked once, over whole tables (a join per key, not
    a lookup per inserted row); raises StoreUnavailable naming the first violation, as a
    constraint the database enforced row by row would. PostgreSQL
    validates its constraints when `first_load` adds them back, and row by row otherwise."""
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.driver_connection
    with map_db_errors(conn):
        for table in tables:
            bad = raw.execute(f"PRAGMA foreign_key_check({_q(table)})").fetchone()
            if bad is not None:
                raise StoreUnavailable(
                    f"the record refused the load: a row of {table} (rowid {bad[1]}) names a row of {bad[2]} "
                    "it does not hold (foreign key check)"
                )
