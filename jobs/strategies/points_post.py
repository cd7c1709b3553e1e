"""Earned points (积分) posted inside the database: one INSERT … SELECT per event query, the earn
rule written in SQL, and the balances moved by one grouped upsert of what was appended.

A bank's first run posts every event it ever had (about seven per individual). Read into Python,
turned into a frame and written back row by row, that was most of the strategy stage; here the
events never leave the database. Only the run's packages go in (a temporary table).

The SQL is `points_earn.earned_points` (the pure rule, which stays the specification) to the
bit: the same IEEE double arithmetic in the same order — amount / 100 × points_per_100 ×
multiplier — then numpy's `round(·, 6)` (× 10⁶, round half to even, ÷ 10⁶) and floor, both
written out so SQLite and PostgreSQL agree with numpy (SQLite's round() goes half away from
zero; PostgreSQL's integer cast rounds). Expiry is the event's day plus `expiry_months`, the
last day of the month when that day does not exist (pandas' `DateOffset`; SQLite's own date
arithmetic would roll over into the next month). On SQLite `occurred_at` is copied as stored
(SQLAlchemy's text); text in another shape is rewritten to it, to the millisecond.

The ledger's guarantees stay the database's: the unique (customer, source) key skips anything
posted already (`ON CONFLICT DO NOTHING`), and the balances move by exactly the points the
statements appended — on PostgreSQL in the same statement (data-modifying CTEs), on SQLite from
the postings numbered past the ledger's last before this call, which are this call's alone
because the transaction holds the database's write lock from before that number is read.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.models import PointsAccount, PointsPosting

from .points_earn import EVENT_COLUMNS
from .points_rules import PointsRules

__all__ = ["post_events"]

_postings = PointsPosting.__table__
_accounts = PointsAccount.__table__
_temp = sa.MetaData()
_events = sa.Table(  # the events read, in the order read (which numbers their postings)
    "points_run_events",
    _temp,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("customer_id", sa.String(40)),
    sa.Column("source", sa.String(120)),
    sa.Column("kind", sa.String(16)),
    sa.Column("family", sa.String(40)),
    sa.Column("amount", sa.Float),
    sa.Column("occurred_at", sa.DateTime),
    prefixes=["TEMPORARY"],
)
_packages = sa.Table(  # the run's package per customer and its multiplier
    "points_run_packages",
    _temp,
    sa.Column("customer_id", sa.String(40), primary_key=True),
    sa.Column("package", sa.String(40)),
    sa.Column("multiplier", sa.Float),
    prefixes=["TEMPORARY"],
)
_days = sa.Table(  # each day the events fell on, and the day their points expire
    "points_run_days",
    _temp,
    sa.Column("day", sa.String(10).with_variant(sa.Date, "postgresql"), primary_key=True),  # SQLite: ISO text
    sa.Column("expires_on", sa.Date),
    prefixes=["TEMPORARY"],
)
_EVENTS = EVENT_COLUMNS
_INSERTED = [
    "customer_id",
    "source",
    "kind",
    "rule",
    "points",
    "basis_amount",
    "multiplier",
    "package",
    "occurred_at",
    "expires_on",
    "posted_at",
    "posted_by",
]
_SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite text for a datetime


def _create(conn: Connection) -> None:
    """The temporary tables, empty (a connection keeps them between calls on SQLite)."""
    for table in (_events, _packages, _days):
        table.create(conn, checkfirst=True)
        conn.execute(table.delete())


def _drop(conn: Connection) -> None:
    prefix = "temp." if conn.dialect.name == "sqlite" else ""
    for table in (_events, _packages, _days):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {prefix}{table.name}")


def _executemany(conn: Connection, table: sa.Table, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    if conn.dialect.name == "sqlite":  # the driver's own executemany: no per-row dicts for 1M customers
        cur = conn.connection.dbapi_connection.cursor()
        try:
            marks = ", ".join("?" * len(columns))
            cur.executemany(f"INSERT INTO temp.{table.name} ({', '.join(columns)}) VALUES ({marks})", rows)
        finally:
            cur.close()
    else:
        conn.execute(table.insert(), [dict(zip(columns, r)) for r in rows])


def _stage_packages(conn: Connection, rules: PointsRules, packages: pd.DataFrame) -> None:
    given = packages.dropna(subset=["package"]).drop_duplicates("customer_id", keep="last")  # as a dict would
    names = given["package"].astype(object)
    factor = {p: _multiplier(rules, p) for p in names.unique()}
    rows = list(zip(given["customer_id"].astype(object).tolist(), names.tolist(), names.map(factor).tolist()))
    _executemany(conn, _packages, ["customer_id", "package", "multiplier"], rows)


def _stage_days(conn: Connection, rules: PointsRules, sqlite: bool) -> None:
    """The expiry of each day the staged events fell on, by the pure rule's own date arithmetic
    (pandas' `DateOffset`: the month's last day when the day does not exist)."""
    day = _day(_events.c.occurred_at, sqlite)
    found = [d for (d,) in conn.execute(sa.select(day).distinct()) if d is not None]
    if not found:
        return
    days = pd.DatetimeIndex(pd.to_datetime(pd.Series(found).astype(str), format="ISO8601"))
    expires = (days + pd.DateOffset(months=rules.expiry_months)).date
    keys = [str(d) for d in found] if sqlite else found
    values = [e.isoformat() for e in expires] if sqlite else list(expires)
    _executemany(conn, _days, ["day", "expires_on"], list(zip(keys, values)))


def _day(occurred: sa.ColumnElement, sqlite: bool) -> sa.ColumnElement:
    # ISO text on SQLite: its day is its first ten characters
    return sa.func.substr(occurred, 1, 10) if sqlite else sa.cast(occurred, sa.Date)


def _trunc(x: sa.ColumnElement, sqlite: bool) -> sa.ColumnElement:
    """Toward zero: SQLite's integer cast truncates, PostgreSQL's rounds (its trunc() does not)."""
    return sa.cast(x, sa.Integer) if sqlite else sa.func.trunc(x)


def _fenced(select: sa.Select, name: str) -> sa.Subquery:
    """A subquery the planner keeps whole (OFFSET stops SQLite and PostgreSQL from flattening it):
    each column computed once per row, not once per mention in the query around it."""
    return select.offset(0).subquery(name)


def _earned(rules: PointsRules, sqlite: bool, now: dt.datetime, actor: str) -> sa.Select:
    """The postings the staged events earn, as `_INSERTED`, in the order the events were read."""
    ev = _events
    amount = sa.cast(ev.c.amount, sa.Float)
    takes = []
    for r in rules.earn:  # CASE takes the first rule that matches: the playbook's order
        cond = sa.and_(ev.c.kind == r.source, amount >= r.min_amount)
        if r.families:
            cond = sa.and_(cond, ev.c.family.in_(r.families))
        takes.append((cond, r))
    rule = sa.case(*[(c, sa.literal(r.value, sa.String)) for c, r in takes], else_=sa.null())
    rate = sa.case(*[(c, sa.literal(r.points_per_100, sa.Float)) for c, r in takes], else_=sa.literal(0.0, sa.Float))
    multiplier = sa.func.coalesce(_packages.c.multiplier, sa.literal(1.0, sa.Float))
    # numpy's order: ((amount / 100) × rate) × multiplier, then × 10⁶ for round(·, 6)
    micro = amount / sa.literal(100.0, sa.Float) * rate * multiplier * sa.literal(1e6, sa.Float)
    read = _fenced(
        sa.select(
            ev.c.seq,
            ev.c.customer_id,
            ev.c.source,
            rule.label("rule"),
            amount.label("amount"),
            micro.label("micro"),
            multiplier.label("multiplier"),
            _packages.c.package,
            ev.c.occurred_at,
            _days.c.expires_on,
        )
        .select_from(
            ev.outerjoin(_packages, _packages.c.customer_id == ev.c.customer_id).outerjoin(
                _days, _days.c.day == _day(ev.c.occurred_at, sqlite)
            )
        )
        .order_by(ev.c.seq),
        "earning",
    )
    # at least one point: rint(micro) >= 10⁶, and 999,999.5 rounds (half to even) up to 10⁶
    earning = sa.select(read, _trunc(read.c.micro, sqlite).label("whole"))
    earning = _fenced(earning.where(read.c.rule.is_not(None), read.c.micro >= 999_999.5), "whole")
    whole = earning.c.whole
    parity = (whole if sqlite else sa.cast(whole, sa.BigInteger)) % 2
    frac = earning.c.micro - whole
    up = sa.case((sa.or_(frac > 0.5, sa.and_(frac == 0.5, parity == 1)), 1), else_=0)  # numpy's rint
    points = _trunc((whole + up) / sa.literal(1e6, sa.Float), sqlite)
    points = points if sqlite else sa.cast(points, sa.BigInteger)
    occurred = earning.c.occurred_at
    if sqlite:  # SQLAlchemy's text, as stored; text in another shape rewritten to it (to the millisecond)
        canonical = sa.and_(sa.func.length(occurred) == 26, sa.func.substr(occurred, 11, 1) == " ")
        fallback = sa.func.strftime("%Y-%m-%d %H:%M:%f", occurred).op("||")(sa.literal_column("'000'"))
        occurred = sa.case((canonical, occurred), else_=fallback)
        posted_at = sa.literal(now.strftime(_SQLITE_STAMP), sa.String)
    else:
        posted_at = sa.cast(sa.literal(now, sa.DateTime), sa.DateTime)
    return sa.select(
        earning.c.customer_id,
        earning.c.source,
        sa.literal_column("'earn'", sa.String),
        earning.c.rule,
        points,
        earning.c.amount,
        earning.c.multiplier,
        earning.c.package,
        occurred,
        earning.c.expires_on,
        posted_at,
        sa.cast(sa.literal(actor, sa.String), sa.String),
    ).where(sa.true())  # SQLite: without a WHERE, the upsert's ON would read as the join's
    # no ORDER BY: the fenced subqueries hand their rows on in the order read (sorting them all was a
    # second of a first run)


def _multiplier(rules: PointsRules, package) -> float:
    """A package's multiplier; ×1 with one the rules do not name (as `points_earn`)."""
    m = rules.multipliers.get(package)
    return 1.0 if m is None or m != m else float(m)


def _insert(conn: Connection, select: sa.Select):
    """Postings appended, each one whose (customer, source) is not posted yet."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return (
        insert(_postings)
        .from_select(_INSERTED, select)
        .on_conflict_do_nothing(index_elements=["customer_id", "source"])
    )


def _upsert_accounts(conn: Connection, grouped: sa.Select):
    """Accounts opened or moved by `grouped` (customer_id, points, updated_at), in customer order
    (one lock order)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(_accounts).from_select(["customer_id", "balance", "updated_at"], grouped)
    return stmt.on_conflict_do_update(
        index_elements=["customer_id"],
        set_={"balance": _accounts.c.balance + stmt.excluded.balance, "updated_at": stmt.excluded.updated_at},
    )


def post_events(
    conn: Connection,
    rules: PointsRules,
    queries: list[sa.Select],
    packages: pd.DataFrame,
    actor: str,
    now: dt.datetime,
) -> dict:
    """Post what the events of `queries` (EVENT_COLUMNS) earn, times the multiplier of the run's
    package (`packages`: customer_id, package), and move the balances by exactly what was
    appended. {"postings", "points", "events_read"}: postings appended, their points, event rows
    the queries found."""
    sqlite = conn.dialect.name == "sqlite"
    out = {"postings": 0, "points": 0, "events_read": 0}
    if not queries:
        return out
    if sqlite and not conn.connection.dbapi_connection.in_transaction:
        # sqlite3 begins at the first write: take the write lock before the ledger's last number
        # is read, so the postings past it are this call's alone
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    _create(conn)  # a failure rolls the transaction back, and the temporary tables with it
    for q in queries:  # staged once: the read (joins, and NOT EXISTS on the ledger) is most of it
        conn.execute(sa.insert(_events).from_select(_EVENTS, q))
    out["events_read"] = int(conn.execute(sa.select(sa.func.count()).select_from(_events)).scalar_one())
    if not out["events_read"]:
        _drop(conn)
        return out
    _stage_packages(conn, rules, packages)
    _stage_days(conn, rules, sqlite)
    earned = _earned(rules, sqlite, now, actor)
    if sqlite:
        before = conn.execute(sa.select(sa.func.coalesce(sa.func.max(_postings.c.posting_id), 0))).scalar_one()
        conn.execute(_insert(conn, earned))
        mine = sa.select(_postings.c.customer_id, _postings.c.points).where(_postings.c.posting_id > before)
        mine = mine.subquery("mine")
        n, points = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(mine.c.points), 0))).one()
        grouped = (
            sa.select(mine.c.customer_id, sa.func.sum(mine.c.points), sa.literal(now.strftime(_SQLITE_STAMP)))
            .group_by(mine.c.customer_id)
            .order_by(mine.c.customer_id)
        )
        conn.execute(_upsert_accounts(conn, grouped))
    else:
        n, points = _post_postgres(conn, earned, now)
    out.update(postings=int(n), points=int(points))
    _drop(conn)
    return out


def _post_postgres(conn: Connection, earned: sa.Select, now: dt.datetime) -> tuple[int, int]:
    """One statement: the postings appended (RETURNING what the unique key let in) and the
    accounts moved by exactly those, grouped per customer."""
    ins = _insert(conn, earned).returning(_postings.c.customer_id, _postings.c.points).cte("appended")
    grouped = (
        sa.select(ins.c.customer_id, sa.func.sum(ins.c.points), sa.cast(sa.literal(now, sa.DateTime), sa.DateTime))
        .group_by(ins.c.customer_id)
        .order_by(ins.c.customer_id)
    )
    moved = _upsert_accounts(conn, grouped).cte("moved")
    q = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(ins.c.points), 0)).select_from(ins).add_cte(moved)
    n, points = conn.execute(q).one()
    return int(n), int(points)
