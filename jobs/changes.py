"""The change feed: one row per (customer, dimension) whose effective value changed, in
commit order. Integrations poll `changes_after(conn, cursor)` and keep the last `seq`.

A sequence hands out numbers at insert time, not at commit, so two writers could commit
seq 11 before seq 10 and a poller that already moved past 11 would never see 10. Every
writer therefore takes `lock_feed` first, in the same transaction: PostgreSQL an EXCLUSIVE
table lock (plain reads still run), SQLite its single write lock (BEGIN IMMEDIATE)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..graph.errors import InvalidInput
from ..graph.models import ClassificationChange, Tag
from ..graph.queries import book_subjects, overrides_in_force

__all__ = ["lock_feed", "append_changes", "changes_after", "run_diff", "effective_value", "MAX_CHANGES"]

MAX_CHANGES = 10_000
_C, _T = ClassificationChange.__table__, Tag.__table__
_COLUMNS = [c.name for c in _C.columns]


def lock_feed(conn: Connection) -> None:
    """Serialise the writers of the feed until this transaction ends (call it first)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE classification_changes IN EXCLUSIVE MODE")
    elif conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if not raw.in_transaction:  # pysqlite defers BEGIN to the first write; take the lock now
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def append_changes(conn: Connection, rows: Sequence[dict]) -> None:
    """Rows: customer_id, dimension, old_value, new_value, source, run_id/override_id, at."""
    for i in range(0, len(rows), 5_000):
        conn.execute(sa.insert(_C), [{"run_id": None, "override_id": None, **r} for r in rows[i:i + 5_000]])


def changes_after(conn: Connection, seq: int = 0, limit: int = 1000, book: str | None = None) -> list[dict]:
    """Changes with seq > `seq`, oldest first, at most `limit` (≤ 10,000). With `book` (a
    relationship manager's id) only changes of customers in that book now: the last row's
    `seq` is still a safe cursor, as the rows skipped before it were not the RM's."""
    if not 1 <= limit <= MAX_CHANGES:
        raise InvalidInput(f"`limit` must be between 1 and {MAX_CHANGES:,}")
    q = sa.select(_C).where(_C.c.seq > seq)
    if book is not None:
        q = q.where(_C.c.customer_id.in_(book_subjects(book)))
    rows = conn.execute(q.order_by(_C.c.seq).limit(limit)).mappings().all()
    return [dict(r) for r in rows]


def effective_value(conn: Connection, run_id: int | None, customer_id: str, dimension: str,
                    at: dt.datetime, exclude_override: int | None = None) -> str | None:
    """What readers see for one tag at `at`: the override in force, else the run's value;
    None when the run has no such tag (an override corrects a tag, it does not invent one)."""
    if run_id is None:
        return None
    computed = conn.execute(sa.select(_T.c.value).where(
        _T.c.run_id == run_id, _T.c.customer_id == customer_id, _T.c.dimension == dimension)).scalar()
    if computed is None:
        return None
    ov = overrides_in_force(conn, [customer_id], at).get((customer_id, dimension))
    return ov["value"] if ov and ov["override_id"] != exclude_override else computed


def run_diff(conn: Connection, old_run: int | None, new_run: int, at: dt.datetime) -> pd.DataFrame:
    """Effective values that differ between two runs at `at`: customer_id, dimension,
    old_value, new_value, the old and new labels and the new explanation. Computed values are
    compared in SQL; an override in force applies to both sides, so it only matters where one
    side has no tag."""
    n, o = _T.alias("n"), _T.alias("o")
    cols = ["customer_id", "dimension", "old_value", "new_value", "old_label_zh", "old_label_en",
            "new_label_zh", "new_label_en", "explanation", "standard_version"]
    on = sa.and_(o.c.run_id == old_run, o.c.customer_id == n.c.customer_id, o.c.dimension == n.c.dimension)
    changed_or_new = (sa.select(n.c.customer_id, n.c.dimension, o.c.value, n.c.value, o.c.label_zh, o.c.label_en,
                                n.c.label_zh, n.c.label_en, n.c.rule, n.c.standard_version)
                      .select_from(n.outerjoin(o, on))
                      .where(n.c.run_id == new_run, sa.or_(o.c.value.is_(None), o.c.value != n.c.value)))
    on = sa.and_(n.c.run_id == new_run, n.c.customer_id == o.c.customer_id, n.c.dimension == o.c.dimension)
    gone = (sa.select(o.c.customer_id, o.c.dimension, o.c.value, sa.null(), o.c.label_zh, o.c.label_en,
                      sa.null(), sa.null(), sa.null(), o.c.standard_version)
            .select_from(o.outerjoin(n, on)).where(o.c.run_id == old_run, n.c.customer_id.is_(None)))
    rows = conn.execute(changed_or_new.union_all(gone) if old_run is not None else changed_or_new).all()
    df = pd.DataFrame([tuple(r) for r in rows], columns=cols)
    if df.empty:
        return df
    ovs = overrides_in_force(conn, None, at)  # few, next to the tags: all of them, not a huge IN list
    keys = pd.Series(list(zip(df["customer_id"], df["dimension"])), index=df.index)
    for i in keys.index[keys.isin(list(ovs))]:
        ov = ovs[keys[i]]
        for side in ("old", "new"):
            if df.at[i, f"{side}_value"] is not None:
                df.loc[i, [f"{side}_value", f"{side}_label_zh", f"{side}_label_en"]] = \
                    [ov["value"], ov["label_zh"] or ov["value"], ov["label_en"] or ov["value"]]
    keep = df["old_value"].fillna("\0") != df["new_value"].fillna("\0")
    return df[keep].sort_values(["customer_id", "dimension"]).reset_index(drop=True)
