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

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record.models import Override, Tag
from clientstrata.graph.record.queries import (
    MAX_TABLE_PAGE,
    CustomerFilter,
    customer_ids_clause,
    in_force_clause,
    latest_run_id,
)

from .nba import actions_table

__all__ = ["ACTION_TABLE_COLUMNS", "action_table", "action_cursor", "suitable_clause"]

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
_CUSTOMER_LEVELS = ("C1", "C2", "C3", "C4", "C5")
_PRODUCT_LEVELS = ("R1", "R2", "R3", "R4", "R5")


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


def suitable_clause(customer_level, product_risk, professional):
    """`risk.suitable` as a SQL condition on three column expressions: a product without a risk
    rating suits everyone, a professional investor may take every level, and otherwise the
    customer's level (only C1..C5 counts: `unassessed`, `expired` or none suit nothing rated) must
    be at least the product's. Levels are one digit after the letter, so their text compares as
    their numbers do. tests/jobs/strategies/test_action_suitability.py holds it to `suitable`."""
    product = sa.func.upper(sa.func.trim(product_risk))
    return sa.or_(
        product_risk.is_(None),
        product == "",
        sa.func.coalesce(professional, sa.false()),
        sa.and_(
            customer_level.in_(_CUSTOMER_LEVELS),
            product.in_(_PRODUCT_LEVELS),
            sa.func.substr(customer_level, 2, 1) >= sa.func.substr(product, 2, 1),
        ),
    )


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
    t, tg, ov = actions_table, Tag.__table__, Override.__table__
    ranked = sa.select(
        *[t.c[c] for c in ACTION_TABLE_COLUMNS if c != "rank"],
        sa.func.row_number().over(partition_by=t.c.customer_id, order_by=t.c.rank).label("rank"),
    ).where(t.c.run_id == run, sa.not_(t.c.control))
    flt = flt or CustomerFilter()
    if book is not None or flt != CustomerFilter():
        ranked = ranked.where(t.c.customer_id.in_(customer_ids_clause(conn, flt, book)))
    a = ranked.subquery("a")
    # the customer's level as readers see it now, and whether they are a professional investor
    level = tg.alias("level")
    prof = tg.alias("prof")
    forced = (
        sa.select(ov.c.customer_id, ov.c.value)
        .where(in_force_clause(utcnow()), ov.c.dimension == "risk_preference")
        .subquery("forced")
    )
    # suitability is decided in the query, not on the page read: the total then counts exactly
    # the rows the pages return, and a page is full whenever more rows follow
    kept = (
        sa.select(*[a.c[c] for c in ACTION_TABLE_COLUMNS])
        .select_from(
            a.outerjoin(
                level,
                sa.and_(
                    level.c.run_id == run,
                    level.c.customer_id == a.c.customer_id,
                    level.c.dimension == "risk_preference",
                ),
            )
            .outerjoin(forced, forced.c.customer_id == a.c.customer_id)
            .outerjoin(
                prof,
                sa.and_(prof.c.run_id == run, prof.c.customer_id == a.c.customer_id, prof.c.dimension == "suitability"),
            )
        )
        .where(
            suitable_clause(
                sa.func.coalesce(forced.c.value, level.c.value),
                a.c.product_risk,
                prof.c.inputs["professional"].as_boolean(),
            )
        )
    )
    total = conn.execute(sa.select(sa.func.count()).select_from(kept.subquery())).scalar_one()
    q = kept.order_by(a.c.customer_id, a.c.rank).limit(first + 1)
    if after:
        cid, rank = _decode(after)
        q = q.where(sa.or_(a.c.customer_id > cid, sa.and_(a.c.customer_id == cid, a.c.rank > rank)))
    rows = conn.execute(q).all()
    has_next = len(rows) > first
    df = pd.DataFrame([tuple(r) for r in rows[:first]], columns=ACTION_TABLE_COLUMNS)
    end = action_cursor(df["customer_id"].iat[-1], df["rank"].iat[-1]) if len(df) else None
    return df.astype(object).where(df.notna(), None), has_next, int(total), end
