"""The whole bank's next-best actions of the live run as a page of columns (the SDK's
`actions()`): the bulk path, like `customerTable`, so a campaign's worth of actions travels as
rows, not as GraphQL objects.

The rows are what the latest published run chose, held-out (control) actions left out and the
rest ranked 1, 2, … per customer, exactly as a customer page shows them. Suitability is a hard
rule here as well as in `decide`: the page reads each customer's risk level as readers see it
now (a manual override in force included), and a row offering a product above it is never
returned — an override lowering a customer's level after the run must not leave an unsuitable
offer in a campaign list."""

from __future__ import annotations

import base64

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record.queries import (
    MAX_TABLE_PAGE,
    CustomerFilter,
    customer_ids_clause,
    latest_run_id,
)

from .nba import actions_table
from .suitable_now import suitable_now

__all__ = ["ACTION_TABLE_COLUMNS", "action_table", "action_cursor"]

ACTION_TABLE_COLUMNS = [
    "customer_id",
    "rank",
    "action",
    "action_key",
    "product_id",
    "product_risk",
    "channel",
    "trigger",
    "segment",
    "propensity",
    "value",
    "priority",
    "due_on",
    "rm_id",
    "reason_en",
    "reason_zh",
    "run_id",
]
_CURSOR = "action:"


def action_cursor(customer_id: str, rank: int) -> str:
    """The cursor after one row: (customer, rank) is the table's order."""
    return base64.urlsafe_b64encode(f"{_CURSOR}{int(rank)}:{customer_id}".encode()).decode()


def _decode(cursor: str) -> tuple[str, int]:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        rank, customer = text.removeprefix(_CURSOR).split(":", 1)
        if not text.startswith(_CURSOR):
            raise ValueError
        return customer, int(rank)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("`after` is not a cursor returned by actionTable") from None


def action_table(
    conn: Connection,
    first: int,
    after: str | None = None,
    flt: CustomerFilter | None = None,
    book: str | None = None,
) -> tuple[pd.DataFrame, bool, int, str | None]:
    """A page of ACTION_TABLE_COLUMNS after the cursor, by customer then rank, for the customers
    `flt` selects; `book` (a relationship manager's id) keeps their customers only. Returns the
    page, whether more follow, the total of the rows all pages return (the run's actions selected,
    held-out and unsuitable ones left out), and the cursor after the page."""
    if not 1 <= first <= MAX_TABLE_PAGE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_TABLE_PAGE:,}")
    run = latest_run_id(conn)
    if run is None:
        return pd.DataFrame(columns=ACTION_TABLE_COLUMNS), False, 0, None
    # suitability is decided before the ranks, in the query the count and the pages share: the
    # total counts exactly the rows the pages return, a page is full whenever more rows follow,
    # and the ranks are 1, 2, … over what is shown, as the customer page ranks them
    t = actions_table
    joined, suitable = suitable_now(t, run)
    ranked = (
        sa.select(
            *[t.c[c] for c in ACTION_TABLE_COLUMNS if c != "rank"],
            sa.func.row_number().over(partition_by=t.c.customer_id, order_by=t.c.rank).label("rank"),
        )
        .select_from(joined)
        .where(t.c.run_id == run, sa.not_(t.c.control), suitable)
    )
    flt = flt or CustomerFilter()
    if book is not None or flt != CustomerFilter():
        ranked = ranked.where(t.c.customer_id.in_(customer_ids_clause(conn, flt, book)))
    a = ranked.subquery("a")
    total = conn.execute(sa.select(sa.func.count()).select_from(a)).scalar_one()
    q = sa.select(*[a.c[c] for c in ACTION_TABLE_COLUMNS]).order_by(a.c.customer_id, a.c.rank).limit(first + 1)
    if after:
        cid, rank = _decode(after)
        q = q.where(sa.or_(a.c.customer_id > cid, sa.and_(a.c.customer_id == cid, a.c.rank > rank)))
    rows = conn.execute(q).all()
    has_next = len(rows) > first
    df = pd.DataFrame([tuple(r) for r in rows[:first]], columns=ACTION_TABLE_COLUMNS)
    end = action_cursor(df["customer_id"].iat[-1], df["rank"].iat[-1]) if len(df) else None
    return df.astype(object).where(df.notna(), None), has_next, int(total), end
