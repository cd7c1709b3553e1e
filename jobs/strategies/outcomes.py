"""Recording what came of an action (跟踪反馈): contacted, not reachable, accepted, declined,
converted (with the product and the amount). Append-only; the learning and the effect read them.

A relationship manager records outcomes only on their own book. A held-out (control) action
is never taken, so only a conversion the customer made on their own may be recorded on it —
that is what the effect compares the treated with."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record import audit
from clientstrata.graph.record.access import require_in_book
from clientstrata.graph.record.models import Product
from clientstrata.jobs.errors import ActorRequired, InvalidState

from .learning import OUTCOMES
from .nba import actions_table, outcomes_table

__all__ = ["OUTCOMES", "MAX_NOTE", "record_outcome"]

MAX_NOTE = 2000


def record_outcome(
    conn: Connection,
    actor: str,
    nba_id: int,
    outcome: str,
    product_id: str | None = None,
    amount: float | None = None,
    note: str | None = None,
    book: str | None = None,
    at: dt.datetime | None = None,
) -> dict:
    """Record one outcome of action `nba_id`; returns the stored row. `book` (an RM's id)
    refuses actions on customers outside it."""
    actor = (actor or "").strip()
    if not actor:
        raise ActorRequired("who is recording the outcome? pass an actor")
    row = conn.execute(sa.select(actions_table).where(actions_table.c.nba_id == nba_id)).mappings().first()
    if row is None:
        raise NotFound("action", str(nba_id))
    # another book's action reads exactly as one that does not exist (no customer named)
    require_in_book(conn, row["customer_id"], book, kind="action", key=nba_id)
    if outcome not in OUTCOMES:
        raise InvalidInput(f"unknown outcome {outcome!r} (outcomes: {', '.join(OUTCOMES)})")
    if row["control"] and outcome != "converted":
        raise InvalidState(
            f"action {nba_id} was held out for the control group: it is not to be taken "
            "(only a conversion the customer made on their own is recorded on it)"
        )
    if outcome == "converted":
        if amount is None or not amount > 0 or amount != amount or amount > 1e15:
            raise InvalidInput("a conversion needs the `amount` converted, a positive number of CNY")
        product_id = product_id or row["product_id"]
        if product_id is None:
            raise InvalidInput("a conversion needs the `productId` the customer took")
        products = Product.__table__
        if conn.execute(sa.select(products.c.product_id).where(products.c.product_id == product_id)).first() is None:
            raise InvalidInput(f"there is no product {product_id!r}")
    elif amount is not None or product_id is not None:
        raise InvalidInput("`productId` and `amount` are recorded with a conversion only")
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput(f"`note` is longer than {MAX_NOTE:,} characters")
    at = at or utcnow()
    oid = conn.execute(
        sa.insert(outcomes_table).values(
            nba_id=nba_id,
            customer_id=row["customer_id"],
            action_key=row["action_key"],
            channel=row["channel"],
            outcome=outcome,
            product_id=product_id,
            amount=amount,
            note=note,
            recorded_by=actor,
            recorded_at=at,
        )
    ).inserted_primary_key[0]
    audit.record(
        conn,
        actor,
        "action.outcome",
        "next_best_action",
        nba_id,
        {"customer_id": row["customer_id"], "action": row["action_key"], "outcome": outcome, "amount": amount},
        at=at,
    )
    return dict(conn.execute(sa.select(outcomes_table).where(outcomes_table.c.outcome_id == oid)).mappings().one())
