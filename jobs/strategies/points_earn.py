"""What points (积分) the ingested data earns: the queries of the events not yet posted, and the
pure rule that turns events into postings (the specification `points_post` writes in SQL).

An event is a purchase (`purchase:<purchase_id>`), a card spend (`card:<spend_id>`) or a credit
transaction into an individual's deposit account (`txn:<txn_id>`): its source key is stable, so
the ledger's unique (customer, source) key makes earning idempotent. An event earns under the
first earn rule that takes it (the playbook's order), times the multiplier of the customer's
package in the run that posts it; an event worth less than one point earns nothing. A run reads
only the ingests its points job has not read yet under the same rules (`points_scans`), so an
event that earned nothing is not looked at again until the rules of its source change."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.models import (
    LARGE_CREDIT,
    Account,
    Card,
    CardSpend,
    PointsPosting,
    Product,
    Purchase,
    Transaction,
)

from .points_rules import PointsRules
from .points_scans import finished_ingests, rules_digest, scanned_ingests

__all__ = ["EVENT_COLUMNS", "EARN_COLUMNS", "EventQueries", "event_queries", "earned_points"]

EVENT_COLUMNS = ["customer_id", "source", "kind", "family", "amount", "occurred_at"]
EARN_COLUMNS = [
    "customer_id",
    "source",
    "rule",
    "points",
    "basis_amount",
    "multiplier",
    "package",
    "occurred_at",
    "expires_on",
]

_postings = PointsPosting.__table__


def _text(value: str):
    # constants in the SQL itself: a bare bound parameter in a select list has no type on
    # PostgreSQL's server-side binding ("could not determine data type of parameter")
    return sa.literal_column(f"'{value}'", sa.String)


def _unposted(customer, key):
    return ~sa.exists().where(_postings.c.customer_id == customer, _postings.c.source == key)


def _queries(rules: PointsRules) -> list[tuple[str, sa.Select, sa.ColumnElement, sa.ColumnElement]]:
    """(source, query, its customer column, its ingest_id column) per earn source the rules name:
    the events of that source with no posting yet."""
    sources = {r.source for r in rules.earn}
    out = []
    if "purchases" in sources:
        pu, pr = Purchase.__table__, Product.__table__
        key = _text("purchase:") + pu.c.purchase_id
        q = (
            sa.select(
                pu.c.customer_id,
                key.label("source"),
                _text("purchases").label("kind"),
                pr.c.family,
                pu.c.amount,
                pu.c.purchased_at.label("occurred_at"),
            )
            .select_from(pu.join(pr, pr.c.product_id == pu.c.product_id))
            .where(_unposted(pu.c.customer_id, key))
        )
        out.append(("purchases", q, pu.c.customer_id, pu.c.ingest_id))
    if "card_spend" in sources:
        cs, cards = CardSpend.__table__, Card.__table__
        key = _text("card:") + cs.c.spend_id
        q = (
            sa.select(
                cards.c.holder_id.label("customer_id"),
                key.label("source"),
                _text("card_spend").label("kind"),
                sa.cast(sa.null(), sa.String).label("family"),
                cs.c.amount,
                cs.c.spent_at.label("occurred_at"),
            )
            .select_from(cs.join(cards, cards.c.card_id == cs.c.card_id))
            .where(_unposted(cards.c.holder_id, key))
        )
        out.append(("card_spend", q, cards.c.holder_id, cs.c.ingest_id))
    if "deposits" in sources:
        tx, acc, pr = Transaction.__table__, Account.__table__, Product.__table__
        floor = min(r.min_amount for r in rules.earn if r.source == "deposits")
        key = _text("txn:") + tx.c.txn_id
        q = (
            sa.select(
                acc.c.owner_id.label("customer_id"),
                key.label("source"),
                _text("deposits").label("kind"),
                pr.c.family,
                tx.c.amount,
                tx.c.booked_at.label("occurred_at"),
            )
            .select_from(
                tx.join(acc, acc.c.account_id == tx.c.account_id).join(pr, pr.c.product_id == acc.c.product_id)
            )
            .where(
                acc.c.owner_type == "individual",
                pr.c.family == "deposit",
                tx.c.direction == "credit",
                tx.c.amount >= max(floor, 0.01),
                _unposted(acc.c.owner_id, key),
            )
        )
        if floor >= LARGE_CREDIT:  # implied already; stated as the partial index states them, so it is used
            q = q.where(tx.c.direction == _text("credit"), tx.c.amount >= sa.literal_column(str(LARGE_CREDIT)))
        out.append(("deposits", q, acc.c.owner_id, tx.c.ingest_id))
    return out


@dataclass
class EventQueries:
    """The queries of the events a points job posts, and the ingests they read whole."""

    queries: list[sa.Select] = field(default_factory=list)  # each EVENT_COLUMNS, with no posting yet
    scans: list[tuple[str, str, int]] = field(default_factory=list)  # (source, rules digest, ingest) read whole


def event_queries(
    conn: Connection, rules: PointsRules, customer_ids: list[str] | None = None, incremental: bool = True
) -> EventQueries:
    """The queries of the bank's events with no posting yet (of `customer_ids` when given: those
    read every ingest). For the whole bank and `incremental`: only the rows of the ingests not yet
    scanned for a source under its rules (`points_scans`), and rows no ingest stamped; the caller
    records `scans` once it has posted what they earned."""
    out = EventQueries()
    if customer_ids is not None:
        out.queries = [q.where(customer.in_(customer_ids)) for _, q, customer, _ in _queries(rules)]
        return out
    finished = finished_ingests(conn) if incremental else set()
    for source, q, _, ingest in _queries(rules):
        if not incremental:
            out.queries.append(q)
            continue
        digest = rules_digest(rules, source)
        done = scanned_ingests(conn, source, digest)
        todo = sorted(finished - done)
        out.scans += [(source, digest, i) for i in todo]
        if not done:  # nothing scanned under these rules yet: every row, as without a scan
            out.queries.append(q)
            continue
        out.queries.append(q.where(ingest.is_(None)))  # rows loaded by no ingest: always looked at
        out.queries += [q.where(ingest.in_(todo[i : i + 500])) for i in range(0, len(todo), 500)]
    return out


def earned_points(events: pd.DataFrame, rules: PointsRules, packages: pd.DataFrame) -> pd.DataFrame:
    """EARN_COLUMNS for the events that earn at least one point (pure). `packages`: customer_id,
    package (a customer without one earns ×1). Points: floor(amount / 100 × points_per_100 ×
    multiplier); they expire `expiry_months` after the event's month-day. occurred_at comes back
    as timestamps (datetime64), expires_on as dates. A customer's package and a day's expiry are
    looked up once per customer and per day: a first run earns on every event the bank had."""
    if events.empty:
        return pd.DataFrame(columns=EARN_COLUMNS)
    ev = events.reset_index(drop=True)
    rule = pd.Series([None] * len(ev), dtype=object)
    rate = np.zeros(len(ev))
    amount = ev["amount"].astype(float).to_numpy()
    for r in reversed(rules.earn):  # the first rule that takes an event wins: apply the last first
        takes = (ev["kind"] == r.source).to_numpy() & (amount >= r.min_amount)
        if r.families:
            takes &= ev["family"].isin(r.families).to_numpy()
        rule[takes] = r.value
        rate[takes] = r.points_per_100
    who, customers = pd.factorize(ev["customer_id"])
    by = dict(zip(packages["customer_id"], packages["package"])) if len(packages) else {}
    mine = [by.get(c) for c in customers]
    package = np.array([None if p is None or p != p else p for p in mine] + [None], dtype=object)[who]
    multiplier = np.array([_multiplier(rules, p) for p in mine] + [1.0], dtype=float)[who]
    points = np.floor(np.round(amount / 100 * rate * multiplier, 6)).astype(np.int64)
    occurred = pd.to_datetime(ev["occurred_at"], format="ISO8601")  # the driver's text on SQLite
    day, days = pd.factorize(occurred.dt.normalize())
    expires = np.array(list((days + pd.DateOffset(months=rules.expiry_months)).date) + [pd.NaT], dtype=object)[day]
    out = pd.DataFrame(
        {
            "customer_id": ev["customer_id"],
            "source": ev["source"],
            "rule": rule,
            "points": points,
            "basis_amount": amount,
            "multiplier": multiplier,
            "package": pd.Series(package, dtype=object),  # None where none, not text's NaN
            "occurred_at": occurred,
            "expires_on": expires,
        }
    )
    return out[out["rule"].notna() & (out["points"] > 0)].reset_index(drop=True)[EARN_COLUMNS]


def _multiplier(rules: PointsRules, package) -> float:
    """A package's multiplier; ×1 without a package or with one the rules do not name."""
    m = rules.multipliers.get(package) if package is not None and package == package else None
    return 1.0 if m is None or m != m else float(m)
