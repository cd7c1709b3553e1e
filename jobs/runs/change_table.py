"""The change feed as pages of columns (the SDK's `changes()`): the bulk path, like
`customer_table`, so a full pull of hundreds of thousands of changes travels as columns (Arrow, or
JSON rows) in one statement per page rather than as one GraphQL object per change.

It reads what `changes_after` reads — the same rows, the same order (`seq`), the same book —
so a cursor from either path resumes the other."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record.access import book_subjects
from clientstrata.graph.record.frames import driver_rows
from clientstrata.graph.record.models import ClassificationChange
from clientstrata.graph.record.queries import MAX_TABLE_PAGE

__all__ = ["CHANGE_TABLE_COLUMNS", "change_table", "changes_count"]

_changes = ClassificationChange.__table__
CHANGE_TABLE_COLUMNS = [
    "seq",
    "at",
    "source",
    "run_id",
    "override_id",
    "customer_id",
    "dimension",
    "old_value",
    "new_value",
]
_AT = pa.timestamp("us", tz="UTC")
_TYPES = {"seq": pa.int64(), "run_id": pa.int64(), "override_id": pa.int64()}


def _after(seq: int, book: str | None) -> sa.Select:
    q = sa.select(*(_changes.c[c] for c in CHANGE_TABLE_COLUMNS)).where(_changes.c.seq > seq)
    if book is not None:
        q = q.where(_changes.c.customer_id.in_(book_subjects(book)))
    return q


def _moments(values: Sequence) -> pa.Array:
    """`at` as UTC moments: SQLite's driver gives the stored ISO text (naive UTC), PostgreSQL's naive
    datetimes; a run's changes share one, so each distinct text is parsed once by Arrow."""
    if any(isinstance(v, str) for v in values):
        return pa.array(values).cast(pa.timestamp("us")).cast(_AT)
    return pa.array(values, pa.timestamp("us")).cast(_AT)


def change_table(conn: Connection, first: int, seq: int = 0, book: str | None = None) -> tuple[pa.Table, bool]:
    """Up to `first` (≤ MAX_TABLE_PAGE) changes with seq > `seq`, oldest first, as an Arrow table
    of CHANGE_TABLE_COLUMNS (`at` a UTC moment, ids 64-bit integers, null where a change has none),
    and whether more follow. With `book` (a relationship manager's id) only changes of customers in
    that book now; the last row's `seq` is still a safe cursor, as the rows skipped before it were
    not the RM's. Read from the driver's tuples: a SQLAlchemy row and a parsed datetime per change
    were most of a page's time."""
    if not 1 <= first <= MAX_TABLE_PAGE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_TABLE_PAGE:,}")
    rows = driver_rows(conn, _after(seq, book).order_by(_changes.c.seq).limit(first + 1))
    read = list(zip(*rows[:first])) or [()] * len(CHANGE_TABLE_COLUMNS)
    arrays = [
        _moments(values) if name == "at" else pa.array(values, _TYPES.get(name, pa.string()))
        for name, values in zip(CHANGE_TABLE_COLUMNS, read)
    ]
    return pa.Table.from_arrays(arrays, names=CHANGE_TABLE_COLUMNS), len(rows) > first


def changes_count(conn: Connection, seq: int = 0, book: str | None = None) -> int:
    """How many changes follow `seq` for the caller (a progress bar's total)."""
    return conn.execute(sa.select(sa.func.count()).select_from(_after(seq, book).subquery())).scalar_one()
