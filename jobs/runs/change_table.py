"""The change feed as pages of columns (the SDK's `changes()`): the bulk path, like
`customer_table`, so a full pull of hundreds of thousands of changes travels as rows in one
statement per page rather than as one GraphQL object per change.

It reads what `changes_after` reads — the same rows, the same order (`seq`), the same book —
so a cursor from either path resumes the other."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record.access import book_subjects
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


def _after(seq: int, book: str | None) -> sa.Select:
    q = sa.select(*(_changes.c[c] for c in CHANGE_TABLE_COLUMNS)).where(_changes.c.seq > seq)
    if book is not None:
        q = q.where(_changes.c.customer_id.in_(book_subjects(book)))
    return q


def change_table(conn: Connection, first: int, seq: int = 0, book: str | None = None) -> tuple[pd.DataFrame, bool]:
    """Up to `first` (≤ MAX_TABLE_PAGE) changes with seq > `seq`, oldest first, as
    CHANGE_TABLE_COLUMNS (object columns of the stored values), and whether more follow. With `book` (a relationship manager's id)
    only changes of customers in that book now; the last row's `seq` is still a safe cursor,
    as the rows skipped before it were not the RM's."""
    if not 1 <= first <= MAX_TABLE_PAGE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_TABLE_PAGE:,}")
    rows = conn.execute(_after(seq, book).order_by(_changes.c.seq).limit(first + 1)).all()
    # as the record holds them (no NaN for a missing run_id, no Timestamps): a transport serialises them
    df = pd.DataFrame([tuple(r) for r in rows[:first]], columns=CHANGE_TABLE_COLUMNS, dtype=object)
    return df, len(rows) > first


def changes_count(conn: Connection, seq: int = 0, book: str | None = None) -> int:
    """How many changes follow `seq` for the caller (a progress bar's total)."""
    return conn.execute(sa.select(sa.func.count()).select_from(_after(seq, book).subquery())).scalar_one()
