"""What a bulk upsert changes: the comparison it makes, and the measure of a staged batch.

The upsert (`bulk.py`) rewrites a stored row only where a column differs from its new value
(null-safe; a NULL in a `keep` column is no new value). The same SQL fragments measure a staged
batch before it is written: how many rows are new, how many change and in which columns, and a
few changed rows with their values before and after. The database does the comparison, so what
is reported is what the statement does, type for type, on both databases.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["UpsertDiff", "measure", "new_value", "row_differs"]

SAMPLE_ROWS = 10  # changed rows kept with their before/after values, per table


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def new_value(table: str, c: str, excluded: str, keep: Sequence[str]) -> str:
    """The value a conflicting row gets: a NULL never overwrites a `keep` column."""
    if c in keep:
        return f"COALESCE({excluded}.{_q(c)}, {_q(table)}.{_q(c)})"
    return f"{excluded}.{_q(c)}"


def _differs(dialect: str, table: str, c: str, excluded: str, keep: Sequence[str]) -> str:
    op = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"  # null-safe inequality
    return f"{_q(table)}.{_q(c)} {op} {new_value(table, c, excluded, keep)}"


def row_differs(dialect: str, table: str, columns: Sequence[str], excluded: str, keep: Sequence[str]) -> str:
    """True where the stored row differs from the new one in any of `columns`."""
    if dialect == "sqlite":
        return " OR ".join(_differs(dialect, table, c, excluded, keep) for c in columns)
    stored = ", ".join(f"{_q(table)}.{_q(c)}" for c in columns)
    return f"({stored}) IS DISTINCT FROM ({', '.join(new_value(table, c, excluded, keep) for c in columns)})"


def _plain(v: object) -> object:
    """A driver value as JSON holds it (PostgreSQL hands back dates and Decimals)."""
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    return v


@dataclass
class UpsertDiff:
    """What upserts into one table did, added up over batches: `rows` offered, `inserted`,
    `updated` (a stored row with at least one changed column), rows per changed column, and up
    to `sample_size` changed rows as {"key": {…}, "changes": {column: [before, after]}}."""

    sample_size: int = SAMPLE_ROWS
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    fields: Counter = field(default_factory=Counter)
    sample: list[dict] = field(default_factory=list)

    @property
    def unchanged(self) -> int:
        return self.rows - self.inserted - self.updated

    def all_new(self, rows: int) -> None:
        """Rows known to be new without asking (the table held nothing with their keys)."""
        self.rows += rows
        self.inserted += rows

    def __repr__(self) -> str:
        return (
            f"UpsertDiff(rows={self.rows}, inserted={self.inserted}, updated={self.updated}, "
            f"unchanged={self.unchanged})"
        )


def measure(
    cur,
    dialect: str,
    table: str,
    stage: str,
    columns: Sequence[str],
    key: Sequence[str],
    keep: Sequence[str],
    diff: UpsertDiff,
) -> None:
    """Add what upserting the rows of `stage` into `table` will do to `diff` (a driver cursor,
    inside the load's transaction, before the upsert)."""
    rest = [c for c in columns if c not in key]
    s, t = _q(stage), _q(table)
    on = " AND ".join(f"{s}.{_q(k)} = {t}.{_q(k)}" for k in key)
    stored = f"{t}.{_q(key[0])} IS NOT NULL"
    flags = [_differs(dialect, table, c, s, keep) for c in rest]
    changed = row_differs(dialect, table, rest, s, keep) if rest else "1 = 0"
    sums = [
        "COUNT(*)",
        f"SUM(CASE WHEN {stored} THEN 0 ELSE 1 END)",
        f"SUM(CASE WHEN {stored} AND ({changed}) THEN 1 ELSE 0 END)",
        *(f"SUM(CASE WHEN {stored} AND {f} THEN 1 ELSE 0 END)" for f in flags),
    ]
    cur.execute(f"SELECT {', '.join(sums)} FROM {s} LEFT JOIN {t} ON {on}")
    total, inserted, updated, *per_column = (int(v or 0) for v in cur.fetchone())
    diff.rows += total
    diff.inserted += inserted
    diff.updated += updated
    diff.fields.update({c: n for c, n in zip(rest, per_column) if n})
    room = diff.sample_size - len(diff.sample)
    if not updated or room <= 0:
        return
    picks = [
        *(f"{s}.{_q(k)}" for k in key),
        *(f"{t}.{_q(c)}" for c in rest),
        *(new_value(table, c, s, keep) for c in rest),
    ]
    order = ", ".join(f"{s}.{_q(k)}" for k in key)
    cur.execute(f"SELECT {', '.join(picks)} FROM {s} JOIN {t} ON {on} WHERE {changed} ORDER BY {order} LIMIT {room}")
    for row in cur.fetchall():
        keys, before, after = row[: len(key)], row[len(key) : len(key) + len(rest)], row[len(key) + len(rest) :]
        changes = {c: [_plain(b), _plain(a)] for c, b, a in zip(rest, before, after) if _plain(b) != _plain(a)}
        if changes:
            diff.sample.append({"key": {k: _plain(v) for k, v in zip(key, keys)}, "changes": changes})
