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

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record.access import book_subjects
from clientstrata.graph.record.models import ClassificationChange, Tag
from clientstrata.graph.record.queries import overrides_in_force

from .spans import STAGE, dimension_condition

__all__ = [
    "lock_feed",
    "append_changes",
    "changes_after",
    "run_diff",
    "run_diff_sql",
    "effective_value",
    "RunChanges",
    "MAX_CHANGES",
]

MAX_CHANGES = 10_000
_changes, _tags = ClassificationChange.__table__, Tag.__table__
_COLUMNS = [c.name for c in _changes.columns]


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
        conn.execute(sa.insert(_changes), [{"run_id": None, "override_id": None, **r} for r in rows[i : i + 5_000]])


def changes_after(conn: Connection, seq: int = 0, limit: int = 1000, book: str | None = None) -> list[dict]:
    """Changes with seq > `seq`, oldest first, at most `limit` (≤ 10,000). With `book` (a
    relationship manager's id) only changes of customers in that book now: the last row's
    `seq` is still a safe cursor, as the rows skipped before it were not the RM's."""
    if not 1 <= limit <= MAX_CHANGES:
        raise InvalidInput(f"`limit` must be between 1 and {MAX_CHANGES:,}")
    q = sa.select(_changes).where(_changes.c.seq > seq)
    if book is not None:
        q = q.where(_changes.c.customer_id.in_(book_subjects(book)))
    rows = conn.execute(q.order_by(_changes.c.seq).limit(limit)).mappings().all()
    return [dict(r) for r in rows]


def effective_value(
    conn: Connection,
    run_id: int | None,
    customer_id: str,
    dimension: str,
    at: dt.datetime,
    exclude_override: int | None = None,
) -> str | None:
    """What readers see for one tag at `at`: the override in force, else the run's value;
    None when the run has no such tag (an override corrects a tag, it does not invent one)."""
    if run_id is None:
        return None
    computed = conn.execute(
        sa.select(_tags.c.value).where(
            _tags.c.run_id == run_id, _tags.c.customer_id == customer_id, _tags.c.dimension == dimension
        )
    ).scalar()
    if computed is None:
        return None
    ov = overrides_in_force(conn, [customer_id], at).get((customer_id, dimension))
    return ov["value"] if ov and ov["override_id"] != exclude_override else computed


_DIFF_COLUMNS = [
    "customer_id",
    "dimension",
    "old_value",
    "new_value",
    "old_label_zh",
    "old_label_en",
    "new_label_zh",
    "new_label_en",
    "explanation",  # the new tag's rule key: `notify` puts it into words with `score` and `inputs`
    "standard_version",
    "score",
    "inputs",
]


def run_diff(conn: Connection, old_run: int | None, new_run: int, at: dt.datetime) -> pd.DataFrame:
    """Effective values that differ between two runs at `at`: customer_id, dimension,
    old_value, new_value, the old and new labels and the new explanation. Computed values are
    compared in SQL; an override in force applies to both sides, so it only matters where one
    side has no tag."""
    new_tags, old_tags = _tags.alias("n"), _tags.alias("o")
    on = sa.and_(
        old_tags.c.run_id == old_run,
        old_tags.c.customer_id == new_tags.c.customer_id,
        old_tags.c.dimension == new_tags.c.dimension,
    )
    changed_or_new = (
        sa.select(
            new_tags.c.customer_id,
            new_tags.c.dimension,
            old_tags.c.value,
            new_tags.c.value,
            old_tags.c.label_zh,
            old_tags.c.label_en,
            new_tags.c.label_zh,
            new_tags.c.label_en,
            new_tags.c.rule,
            new_tags.c.standard_version,
            new_tags.c.score,
            new_tags.c.inputs,
        )
        .select_from(new_tags.outerjoin(old_tags, on))
        .where(new_tags.c.run_id == new_run, sa.or_(old_tags.c.value.is_(None), old_tags.c.value != new_tags.c.value))
    )
    on = sa.and_(
        new_tags.c.run_id == new_run,
        new_tags.c.customer_id == old_tags.c.customer_id,
        new_tags.c.dimension == old_tags.c.dimension,
    )
    gone = (
        sa.select(
            old_tags.c.customer_id,
            old_tags.c.dimension,
            old_tags.c.value,
            sa.null(),
            old_tags.c.label_zh,
            old_tags.c.label_en,
            sa.null(),
            sa.null(),
            sa.null(),
            old_tags.c.standard_version,
            sa.null(),
            sa.null(),
        )
        .select_from(old_tags.outerjoin(new_tags, on))
        .where(old_tags.c.run_id == old_run, new_tags.c.customer_id.is_(None))
    )
    rows = conn.execute(changed_or_new.union_all(gone) if old_run is not None else changed_or_new).all()
    df = pd.DataFrame([tuple(r) for r in rows], columns=_DIFF_COLUMNS)
    if df.empty:
        return df
    ovs = overrides_in_force(conn, None, at)  # few, next to the tags: all of them, not a huge IN list
    keys = pd.Series(list(zip(df["customer_id"], df["dimension"])), index=df.index)
    for i in keys.index[keys.isin(list(ovs))]:
        ov = ovs[keys[i]]
        for side in ("old", "new"):
            if df.at[i, f"{side}_value"] is not None:
                df.loc[i, [f"{side}_value", f"{side}_label_zh", f"{side}_label_en"]] = [
                    ov["value"],
                    ov["label_zh"] or ov["value"],
                    ov["label_en"] or ov["value"],
                ]
    keep = df["old_value"].fillna("\0") != df["new_value"].fillna("\0")
    return df[keep].sort_values(["customer_id", "dimension"]).reset_index(drop=True)


# --- the same diff in SQL, for a publish: a first run of a million customers changes every tag ---

_OV = "run_overrides"
_SPAN_SIDES = (STAGE, "1 = 1", "tag_spans", "o.to_seq IS NULL")


def _stage_overrides(conn: Connection, at: dt.datetime) -> bool:
    """The overrides in force at `at` (few) in a temporary table the diff joins; False if none."""
    ovs = overrides_in_force(conn, None, at)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_OV}")
    if not ovs:
        return False
    tail = " ON COMMIT DROP" if conn.dialect.name == "postgresql" else ""
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {_OV} (customer_id VARCHAR(40), dimension VARCHAR(40), "
        f"value VARCHAR(40), label_zh VARCHAR(40), label_en VARCHAR(60)){tail}"
    )
    conn.execute(
        sa.text(f"INSERT INTO {_OV} VALUES (:c, :d, :v, :zh, :en)"),
        [
            {"c": c, "d": d, "v": o["value"], "zh": o["label_zh"] or o["value"], "en": o["label_en"] or o["value"]}
            for (c, d), o in ovs.items()
        ],
    )
    return True


def run_diff_sql(
    conn: Connection,
    old_run: int | None,
    new_run: int,
    overrides: bool,
    lo: bool = False,
    hi: bool = False,
    dimensions: str = "",
    sides: tuple[str, str, str, str] = ("tags", "n.run_id = :new", "tags", "o.run_id = :old"),
) -> str:
    """`run_diff` as one SELECT (same columns, same effective values; params :old, :new), for a
    publish to insert from or filter without bringing every tag into Python. `lo` and `hi`
    bound both sides to customer_id > :lo and ≤ :hi (plain comparisons, so the primary key
    serves them); `dimensions` is an extra condition on `{t}.dimension` (trusted text, built
    by `RunChanges`). `sides` names the new side's table and condition (alias n) and the old
    side's (alias o): by default two runs of the `tags` view; a publish diffs its staged
    partition against the open spans (`RunChanges`)."""
    new_table, new_cond, old_table, old_cond = sides
    ov_join = lambda t: (
        f" LEFT JOIN {_OV} ov ON ov.customer_id = {t}.customer_id AND ov.dimension = {t}.dimension"
        if overrides
        else " LEFT JOIN (SELECT NULL AS value, NULL AS label_zh, NULL AS label_en) ov ON 1 = 0"
    )
    where = lambda t: (
        (f" AND {t}.customer_id > :lo" if lo else "")
        + (f" AND {t}.customer_id <= :hi" if hi else "")
        + (f" AND {dimensions.format(t=t)}" if dimensions else "")
    )
    # an override in force applies to both sides: with both tags present nothing changed
    side = lambda col: f"CASE WHEN o.value IS NULL THEN NULL ELSE COALESCE(ov.{col}, o.{col}) END"
    changed_or_new = (
        f"SELECT n.customer_id, n.dimension, {side('value')} AS old_value, COALESCE(ov.value, n.value) AS new_value, "
        f"{side('label_zh')} AS old_label_zh, {side('label_en')} AS old_label_en, "
        f"COALESCE(ov.label_zh, n.label_zh) AS new_label_zh, COALESCE(ov.label_en, n.label_en) AS new_label_en, "
        f"n.rule AS explanation, n.standard_version, n.score, n.inputs FROM {new_table} n LEFT JOIN {old_table} o ON {old_cond} "
        f"AND o.customer_id = n.customer_id AND o.dimension = n.dimension{ov_join('n')} "
        f"WHERE {new_cond}{where('n')} AND (o.value IS NULL OR (o.value <> n.value AND ov.value IS NULL))"
    )
    if old_run is None:
        return changed_or_new
    gone = (
        f"SELECT o.customer_id, o.dimension, COALESCE(ov.value, o.value), NULL, COALESCE(ov.label_zh, o.label_zh), "
        f"COALESCE(ov.label_en, o.label_en), NULL, NULL, NULL, o.standard_version, NULL, NULL FROM {old_table} o "
        f"LEFT JOIN {new_table} n ON {new_cond} AND n.customer_id = o.customer_id AND n.dimension = o.dimension"
        f"{ov_join('o')} WHERE {old_cond}{where('o')} AND n.customer_id IS NULL"
    )
    return f"{changed_or_new} UNION ALL {gone}"


class RunChanges:
    """A publish's change feed (`run_diff` of the previous run and this one), appended one
    customer range at a time as the run's tags are written. The new side is the partition in
    the span writer's stage (`spans.STAGE`), the old side the open spans (the previous run's
    tags, before `SpanWriter.close` moves them): call `append` between the two.

    One diff over a whole run of a million customers walked 19.2M tags in (dimension, value)
    order and looked up each old tag at random in a 38M-row index: cold pages on every probe.
    A range of customers is one contiguous stretch of each run's primary key, so its diff
    stays in cache. Every tag of the old run falls in exactly one call: individual dimensions
    by the range holding their customer (`append(lo, hi)` with lo = the previous hi, the last
    with hi=None), `ENTERPRISE` dimensions by their own call (`append(dimensions=…)`).
    Rows go in range order, each range in (customer, dimension) order."""

    def __init__(
        self,
        conn: Connection,
        old_run: int | None,
        new_run: int,
        at: dt.datetime,
        notify_dimensions=(),
        enterprise_dimensions=(),
    ):
        self.conn, self.old, self.new, self.at = conn, old_run, new_run, at
        self.notify_dims, self.ent = list(notify_dimensions), list(enterprise_dimensions)
        self.overrides = _stage_overrides(conn, at)
        self.count, self._notify = 0, []

    def _enterprise(self, negate: bool) -> str:
        """The condition on `{t}.dimension` selecting the enterprise dimensions, or the others."""
        return dimension_condition(self.ent, negate)

    def append(self, lo: str | None = None, hi: str | None = None, enterprise: bool = False, only: str = "") -> int:
        """Diff customers in (lo, hi] on the individual dimensions, or (`enterprise`) every
        customer on the enterprise dimensions; `only`, a condition on `{t}.customer_id`,
        narrows both sides to the subjects the publish touches. Returns the rows appended."""
        if enterprise and not self.ent:
            return 0
        dims = " AND ".join(c for c in (self._enterprise(negate=not enterprise), only) if c)
        diff = run_diff_sql(
            self.conn,
            self.old,
            self.new,
            self.overrides,
            lo=lo is not None,
            hi=hi is not None,
            dimensions=dims,
            sides=_SPAN_SIDES,
        )
        c = ' COLLATE "C"' if self.conn.dialect.name == "postgresql" else ""  # Python's order, not the locale's
        params = {
            "old": self.old,
            "new": self.new,
            "at": self.at,
            **({"lo": lo} if lo is not None else {}),
            **({"hi": hi} if hi is not None else {}),
        }
        n = self.conn.execute(
            sa.text(
                f"INSERT INTO {_changes.name} "
                "(at, source, run_id, override_id, customer_id, dimension, old_value, new_value) "
                f"SELECT :at, 'run', :new, NULL, customer_id, dimension, old_value, new_value FROM ({diff}) d "
                f"ORDER BY customer_id{c}, dimension{c}"
            ).bindparams(sa.bindparam("at", type_=_changes.c.at.type)),
            params,
        ).rowcount
        self.count += n
        if n and self.old is not None and self.notify_dims:  # a first run has no old values to notify
            rows = self.conn.execute(
                sa.text(
                    f"SELECT * FROM ({diff}) d WHERE dimension IN :dims AND old_value IS NOT NULL "
                    f"AND new_value IS NOT NULL ORDER BY customer_id{c}, dimension{c}"
                ).bindparams(sa.bindparam("dims", expanding=True)),
                {**params, "dims": self.notify_dims},
            ).all()
            self._notify += [tuple(r) for r in rows]
        return n

    def close(self) -> tuple[int, pd.DataFrame]:
        """The rows appended and the diff rows a notification needs: `notify_dimensions`
        with a value on both sides."""
        if self.overrides:
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_OV}")
        return self.count, pd.DataFrame(self._notify, columns=_DIFF_COLUMNS)
