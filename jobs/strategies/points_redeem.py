"""A redemption as a caller asks for it (API, CLI): under the live playbook, a fee item at the
customer's own price (their package's discount and contribution bonus), the book checked first."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Connection

from clientstrata.graph.record.access import require_in_book

from .points import redeem
from .strategy import customer_strategy, live_playbook

__all__ = ["redeem_points"]


def redeem_points(
    conn: Connection,
    actor: str,
    customer_id: str,
    *,
    fee_event_id: str | None = None,
    fee_item: str | None = None,
    request_id: str | None = None,
    book: str | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """`points.redeem` for one customer; see there for what it returns and refuses."""
    require_in_book(conn, customer_id, book)
    playbook = live_playbook(conn)
    price = None
    if fee_event_id is None and fee_item and playbook.fee(fee_item) is not None:
        found = customer_strategy(conn, customer_id, playbook=playbook)
        price = found.price(fee_item)["price"] if found is not None else None  # untagged: the base price
    return redeem(
        conn,
        actor,
        customer_id,
        playbook,
        fee_event_id=fee_event_id,
        fee_item=fee_item,
        price=price,
        request_id=request_id,
        book=book,
        now=now,
    )
