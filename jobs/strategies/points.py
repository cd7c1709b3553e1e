"""The points ledger (积分): append-only postings, each with its source, and a balance per customer.

Invariants, each held by the database and not only by this code:
- **Idempotent**: (customer_id, source) is unique, so replaying a source (an event, a fee, a
  redemption request, an expiry) never posts twice; a replayed redemption answers the first one.
- **Balance = sum of postings**: the balance row changes only in the transaction that appends
  the postings it sums, by exactly their points.
- **No overdraft**: a redemption debits with `balance >= points` in the UPDATE's own WHERE, under
  the customer's lock (`SELECT … FOR UPDATE` on PostgreSQL, the write lock taken up front on
  SQLite), and `CHECK (balance >= 0)` refuses anything that slipped past.

Expiry is first in, first out: points expire `expiry_months` after the event that earned them,
and redemptions and earlier expiries are taken from the oldest points. So what expires as of a
day is (points earned that expire by then) − (points already redeemed or expired), when positive.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record import audit
from clientstrata.graph.record.access import require_in_book
from clientstrata.graph.record.models import FeeEvent, Individual, PointsAccount, PointsPosting
from clientstrata.jobs.errors import InvalidState

from .playbook import Playbook
from .points_earn import event_queries
from .points_post import post_events
from .points_scans import record_scans
from .store import run_packages

__all__ = [
    "POSTING_COLUMNS",
    "InsufficientPoints",
    "NotRedeemable",
    "post_earned",
    "expire",
    "post_points",
    "redeem",
    "balances",
    "postings",
    "ledger_mismatches",
]

POSTING_COLUMNS = [
    "posting_id",
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
MAX_REQUEST_ID = 80
_BATCH = 5_000

_accounts = PointsAccount.__table__
_postings = PointsPosting.__table__


class InsufficientPoints(InvalidState):
    """A redemption needs more points than the customer has (after what expired)."""

    code = "INSUFFICIENT_POINTS"


class NotRedeemable(InvalidInput):
    """Points cannot pay this: a fee item the playbook does not let points pay, a fee of zero,
    or a playbook without points rules."""

    code = "NOT_REDEEMABLE"


def _insert(conn: Connection, table: sa.Table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _open_accounts(conn: Connection, customer_ids: list[str], now: dt.datetime) -> None:
    rows = [{"customer_id": c, "balance": 0, "updated_at": now} for c in customer_ids]
    for i in range(0, len(rows), _BATCH):
        conn.execute(
            _insert(conn, _accounts).on_conflict_do_nothing(index_elements=["customer_id"]), rows[i : i + _BATCH]
        )


def _credit(conn: Connection, deltas: dict[str, int], now: dt.datetime) -> None:
    """Add each customer's new postings' points to their balance (sorted: one lock order)."""
    rows = [{"c": c, "d": int(d), "now": now} for c, d in sorted(deltas.items()) if d]
    if rows:
        conn.execute(
            sa.update(_accounts)
            .where(_accounts.c.customer_id == sa.bindparam("c"))
            .values(balance=_accounts.c.balance + sa.bindparam("d"), updated_at=sa.bindparam("now")),
            rows,
        )


def _append(conn: Connection, rows: list[dict], now: dt.datetime) -> int:
    """Append postings, skipping any whose (customer, source) is already posted, and move the
    balances by exactly the points of those appended. Returns how many were appended."""
    if not rows:
        return 0
    _open_accounts(conn, sorted({r["customer_id"] for r in rows}), now)
    stmt = (
        _insert(conn, _postings)
        .on_conflict_do_nothing(index_elements=["customer_id", "source"])
        .returning(_postings.c.customer_id, _postings.c.points)
    )
    deltas: dict[str, int] = {}
    appended = 0
    for i in range(0, len(rows), _BATCH):
        for customer, points in conn.execute(stmt, rows[i : i + _BATCH]):
            deltas[customer] = deltas.get(customer, 0) + int(points)
            appended += 1
    _credit(conn, deltas, now)
    return appended


def _lock(conn: Connection, customer_id: str, now: dt.datetime) -> None:
    """Serialise everything that debits this customer's points until the transaction ends."""
    if conn.dialect.name == "sqlite":
        # sqlite3 begins lazily, at the first write; take the write lock now, so what is read
        # below cannot go stale before the debit (a transaction that has written holds it).
        if not conn.connection.dbapi_connection.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    _open_accounts(conn, [customer_id], now)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(_accounts.c.balance).where(_accounts.c.customer_id == customer_id).with_for_update())


def post_earned(
    conn: Connection,
    playbook: Playbook,
    packages: pd.DataFrame,
    actor: str,
    now: dt.datetime | None = None,
    customer_ids: list[str] | None = None,
) -> dict:
    """Post the points every not-yet-posted event earns (of `customer_ids` when given), times the
    multiplier of each customer's package in `packages` (customer_id, package), inside the
    database (`points_post`). For the whole bank only the ingests not read yet are read
    (`points_scans`), and recorded as read with the postings. Returns {"postings", "points",
    "events_read"}: postings appended, their points, event rows the read found."""
    rules = playbook.points
    if rules is None:
        return {"postings": 0, "points": 0, "events_read": 0}
    now = now or utcnow()
    found = event_queries(conn, rules, customer_ids)
    posted = post_events(conn, rules, found.queries, packages[["customer_id", "package"]], actor, now)
    record_scans(conn, found.scans, now)
    return posted


def _due(conn: Connection, as_of: dt.date, customer_ids: list[str] | None) -> pd.DataFrame:
    """customer_id, earned_due (earned points expiring by `as_of`), debited (redeemed + expired)."""
    p = _postings.c
    earned_due = sa.func.sum(sa.case((sa.and_(p.kind == "earn", p.expires_on <= as_of), p.points), else_=0))
    debited = -sa.func.sum(sa.case((p.kind != "earn", p.points), else_=0))
    # only the customers with something to expire come back: every run asks, few have any. Only
    # a customer with earned points due can have any (earned points are positive, every other
    # posting negative: ck_points_sign), so only their postings are grouped, not the whole
    # ledger's (found by one plain scan, which reads no posting twice)
    due = sa.select(p.customer_id).where(p.kind == "earn", p.expires_on <= as_of)
    q = (
        sa.select(p.customer_id, earned_due, debited)
        .where(p.customer_id.in_(due))
        .group_by(p.customer_id)
        .having(earned_due > debited)
        .order_by(p.customer_id)  # the expiries appended in customer order, on either database
    )
    if customer_ids is not None:
        q = q.where(p.customer_id.in_(customer_ids))
    return pd.DataFrame([tuple(r) for r in conn.execute(q)], columns=["customer_id", "earned_due", "debited"])


def expire(
    conn: Connection,
    as_of: dt.date,
    actor: str,
    now: dt.datetime | None = None,
    customer_ids: list[str] | None = None,
) -> int:
    """Post the expiry of every point due by `as_of` and not yet redeemed or expired (oldest
    first); the source names the day and the earned total it settles, so a replay posts nothing."""
    now = now or utcnow()
    d = _due(conn, as_of, customer_ids)
    d = d[d["earned_due"].astype(int) > d["debited"].astype(int)]
    rows = [
        {
            "customer_id": r.customer_id,
            "source": f"expire:{as_of.isoformat()}:{int(r.earned_due)}",
            "kind": "expire",
            "rule": None,
            "points": -(int(r.earned_due) - int(r.debited)),
            "occurred_at": dt.datetime.combine(as_of, dt.time()),
            "posted_at": now,
            "posted_by": actor,
        }
        for r in d.itertuples()
    ]
    return _append(conn, rows, now)


def post_points(
    conn: Connection,
    playbook: Playbook,
    run_id: int,
    actor: str,
    now: dt.datetime,
    packages: pd.DataFrame | None = None,
) -> dict:
    """The points job of a run (its strategy stage, in the publish transaction): the points the
    record's events earn, multiplied by the packages this run gave, then what expired by today.
    `packages` (customer_id, package): the run's, when the caller has them in hand; else read."""
    if playbook.points is None:
        return {"postings": 0, "points": 0, "expired": 0, "events_read": 0}
    if packages is None:
        packages = run_packages(conn, run_id)
    earned = post_earned(conn, playbook, packages, actor, now)
    expired = expire(conn, now.date(), actor, now)
    return {**earned, "expired": expired}


def _posting(conn: Connection, customer_id: str, source: str) -> dict | None:
    row = (
        conn.execute(sa.select(_postings).where(_postings.c.customer_id == customer_id, _postings.c.source == source))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def _balance(conn: Connection, customer_id: str) -> int:
    found = conn.execute(sa.select(_accounts.c.balance).where(_accounts.c.customer_id == customer_id)).scalar()
    return int(found or 0)


def redeem(
    conn: Connection,
    actor: str,
    customer_id: str,
    playbook: Playbook,
    *,
    fee_event_id: str | None = None,
    fee_item: str | None = None,
    price: float | None = None,
    request_id: str | None = None,
    book: str | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """Pay a fee with points: a recorded fee event (`fee_event_id`, its amount, once), or one
    `fee_item` at the customer's `price` under the caller's idempotency key `request_id`.
    Points that expired by today go first. Returns the posting, the balance after it and
    `replayed` (true when this source was already redeemed: nothing new is posted)."""
    now = now or utcnow()
    require_in_book(conn, customer_id, book)
    individuals = Individual.__table__
    if (
        conn.execute(sa.select(individuals.c.customer_id).where(individuals.c.customer_id == customer_id)).first()
        is None
    ):
        raise NotFound("customer", customer_id)
    rules = playbook.points
    if rules is None:
        raise NotRedeemable(f"the playbook of standard {playbook.version} has no points rules")
    occurred = now
    if fee_event_id is not None:
        fees = FeeEvent.__table__
        event = conn.execute(sa.select(fees).where(fees.c.fee_id == fee_event_id)).mappings().first()
        if event is None or event["customer_id"] != customer_id:  # another's fee is not this customer's to see
            raise NotFound("fee event", fee_event_id)
        fee_item, cny, source, occurred = (
            event["fee_item"],
            float(event["amount"]),
            f"fee:{fee_event_id}",
            event["charged_at"],
        )
    else:
        if not fee_item:
            raise InvalidInput("name what the points pay: a feeEventId, or a feeItem with a requestId")
        request_id = (request_id or "").strip()
        if not request_id or len(request_id) > MAX_REQUEST_ID:
            raise InvalidInput(
                f"a feeItem redemption needs a requestId of 1 to {MAX_REQUEST_ID} characters "
                "(the same id again answers the first redemption)"
            )
        if playbook.fee(fee_item) is None:
            items = ", ".join(f.value for f in playbook.fee_schedule) or "none"
            raise InvalidInput(f"no fee item {fee_item!r} in the fee schedule (items: {items})")
        cny, source = float(price if price is not None else playbook.fee(fee_item).price), f"request:{request_id}"
    if fee_item not in rules.fee_items:
        raise NotRedeemable(f"points cannot pay {fee_item!r} (they pay: {', '.join(rules.fee_items)})")
    _lock(conn, customer_id, now)
    expire(conn, now.date(), actor, now, [customer_id])
    if (first := _posting(conn, customer_id, source)) is not None:
        return {**first, "balance": _balance(conn, customer_id), "replayed": True}
    if cny <= 0:
        raise NotRedeemable(f"{fee_item!r} costs this customer nothing: there is nothing for points to pay")
    points = rules.points_for(cny)
    debited = conn.execute(
        sa.update(_accounts)
        .where(_accounts.c.customer_id == customer_id, _accounts.c.balance >= points)
        .values(balance=_accounts.c.balance - points, updated_at=now)
    ).rowcount
    if debited != 1:
        have = _balance(conn, customer_id)
        raise InsufficientPoints(
            f"paying CNY {cny:,.2f} of {fee_item} takes {points:,} points; the customer has {have:,}"
        )
    conn.execute(
        sa.insert(_postings).values(
            customer_id=customer_id,
            source=source,
            kind="redeem",
            rule=fee_item,
            points=-points,
            basis_amount=cny,
            occurred_at=occurred,
            posted_at=now,
            posted_by=actor,
        )
    )
    audit.record(
        conn,
        actor,
        "points.redeemed",
        "customer",
        customer_id,
        {"source": source, "fee_item": fee_item, "points": points, "cny": cny},
        at=now,
    )
    return {**_posting(conn, customer_id, source), "balance": _balance(conn, customer_id), "replayed": False}


def balances(conn: Connection, customer_ids: list[str]) -> dict[str, int]:
    """Each customer's balance (0 for one with no postings)."""
    rows = conn.execute(
        sa.select(_accounts.c.customer_id, _accounts.c.balance).where(_accounts.c.customer_id.in_(list(customer_ids)))
    )
    found = {c: int(b) for c, b in rows}
    return {c: found.get(c, 0) for c in customer_ids}


def postings(conn: Connection, customer_id: str, first: int | None = None) -> pd.DataFrame:
    """POSTING_COLUMNS of a customer's postings, newest first (the `first` newest when given)."""
    q = sa.select(*[_postings.c[c] for c in POSTING_COLUMNS]).where(_postings.c.customer_id == customer_id)
    q = q.order_by(_postings.c.posting_id.desc())
    if first is not None:
        q = q.limit(first)
    return pd.DataFrame([tuple(r) for r in conn.execute(q)], columns=POSTING_COLUMNS)


def ledger_mismatches(conn: Connection) -> pd.DataFrame:
    """customer_id, balance, posted: every account whose balance is not the sum of its postings
    (empty when the ledger holds; an operator's check)."""
    sums = (
        sa.select(_postings.c.customer_id, sa.func.sum(_postings.c.points).label("posted"))
        .group_by(_postings.c.customer_id)
        .subquery()
    )
    q = (
        sa.select(_accounts.c.customer_id, _accounts.c.balance, sa.func.coalesce(sums.c.posted, 0))
        .select_from(_accounts.outerjoin(sums, sums.c.customer_id == _accounts.c.customer_id))
        .where(_accounts.c.balance != sa.func.coalesce(sums.c.posted, 0))
    )
    orphans = (
        sa.select(sums.c.customer_id, sa.cast(sa.null(), sa.BigInteger), sums.c.posted)
        .select_from(sums.outerjoin(_accounts, _accounts.c.customer_id == sums.c.customer_id))
        .where(_accounts.c.customer_id.is_(None))
    )
    rows = conn.execute(q.union_all(orphans)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["customer_id", "balance", "posted"])
