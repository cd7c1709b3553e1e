"""What a row may change in a stored row (bundle.md, "Updates").

A bundle row updates the stored row with its key, but an empty cell is not always a decision:
a narrowed extract, a cut row or an emptied spreadsheet cell look the same. So an update keeps
the stored value where the row is empty in an identifying column or in one with a default, and
wherever its file lacks the column; a new row gets the column's default. `with_defaults` fills an
empty cell of a column with a default (stored value or default); the bulk upsert keeps
(COALESCE) the stored value of the other columns `kept_columns` names where a row is empty.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.models import Base

from .bundle import Table

__all__ = ["kept_columns", "with_defaults"]

_LOOKUP = 2000  # keys per lookup query (SQLite binds at most 32,766 values)


def kept_columns(table: Table, file_columns: Iterable[str]) -> tuple[str, ...]:
    """The columns an empty cell leaves as stored: the contract's kept columns and every optional
    column the file does not have (it says nothing about them)."""
    present = set(file_columns)
    absent = [c.name for c in table.columns if not c.required and c.name not in present]
    return tuple(dict.fromkeys([*table.kept, *absent]))


def with_defaults(conn: Connection, table: Table, good: pd.DataFrame) -> pd.DataFrame:
    """`good` with each empty cell of a column with a default filled: with the stored value when
    the record holds the row (an update), with the default when it does not (a new row). The cell
    cannot stay empty for the upsert to keep: the record refuses NULL in most of these columns
    before it sees the conflict. Only rows with such an empty cell are looked up, a few thousand
    keys per query."""
    defaults = table.defaults
    if not defaults or good.empty:
        return good
    empty = good[list(defaults)].isna().any(axis=1)
    if not empty.any():
        return good
    record = Base.metadata.tables[table.name]
    key = sa.tuple_(*(record.c[k] for k in table.key))
    wanted = list(good.loc[empty, list(table.key)].itertuples(index=False, name=None))
    stored: dict[tuple, tuple] = {}
    n = len(table.key)
    for i in range(0, len(wanted), _LOOKUP):
        found = conn.execute(
            sa.select(*key.clauses, *(record.c[c] for c in defaults)).where(key.in_(wanted[i : i + _LOOKUP]))
        )
        stored.update((tuple(row[:n]), tuple(row[n:])) for row in found)
    fallback = [stored.get(k, tuple(defaults.values())) for k in wanted]
    good = good.copy()
    for j, col in enumerate(defaults):
        cell = good.loc[empty, col]
        fill = pd.Series([f[j] for f in fallback], index=cell.index)
        good.loc[empty, col] = cell.where(cell.notna(), fill.where(fill.notna(), defaults[col]))
    return good
