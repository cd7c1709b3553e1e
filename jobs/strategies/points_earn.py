"""What points (积分) the ingested data earns: the events not yet posted, read from the record,
and the pure rule that turns them into postings.

An event is a purchase (`purchase:<purchase_id>`), a card spend (`card:<spend_id>`) or a credit
transaction into an individual's deposit account (`txn:<txn_id>`): its source key is stable, so
the ledger's unique (customer, source) key makes earning idempotent. An event earns under the
first earn rule that takes it (the playbook's order), times the multiplier of the customer's
package in the run that posts it; an event worth less than one point earns nothing and is
looked at again next time (still nothing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.models import Account, Card, CardSpend, PointsPosting, Product, Purchase, Transaction

from .points_rules import PointsRules

__all__ = ["EVENT_COLUMNS", "EARN_COLUMNS", "unposted_events", "earned_points"]

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


def unposted_events(conn: Connection, rules: PointsRules, customer_ids: list[str] | None = None) -> pd.DataFrame:
    """EVENT_COLUMNS of every event a rule could take that has no posting yet."""
    sources = {r.source for r in rules.earn}
    queries = []
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
        queries.append(q if customer_ids is None else q.where(pu.c.customer_id.in_(customer_ids)))
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
        queries.append(q if customer_ids is None else q.where(cards.c.holder_id.in_(customer_ids)))
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
        queries.append(q if customer_ids is None else q.where(acc.c.owner_id.in_(customer_ids)))
    frames = [pd.DataFrame([tuple(r) for r in conn.execute(q)], columns=EVENT_COLUMNS) for q in queries]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def earned_points(events: pd.DataFrame, rules: PointsRules, packages: pd.DataFrame) -> pd.DataFrame:
    """EARN_COLUMNS for the events that earn at least one point (pure). `packages`: customer_id,
    package (a customer without one earns ×1). Points: floor(amount / 100 × points_per_100 ×
    multiplier); they expire `expiry_months` after the event's month-day."""
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
    by = dict(zip(packages["customer_id"], packages["package"])) if len(packages) else {}
    package = ev["customer_id"].map(by)
    multiplier = package.map(rules.multipliers).fillna(1.0).to_numpy(dtype=float)
    points = np.floor(np.round(amount / 100 * rate * multiplier, 6)).astype(np.int64)
    occurred = pd.to_datetime(ev["occurred_at"])
    expires = (occurred + pd.DateOffset(months=rules.expiry_months)).dt.date
    out = pd.DataFrame(
        {
            "customer_id": ev["customer_id"],
            "source": ev["source"],
            "rule": rule,
            "points": points,
            "basis_amount": amount,
            "multiplier": multiplier,
            "package": package.astype(object).where(package.notna(), None),
            "occurred_at": occurred.dt.to_pydatetime(),
            "expires_on": expires,
        }
    )
    return out[out["rule"].notna() & (out["points"] > 0)].reset_index(drop=True)[EARN_COLUMNS]
