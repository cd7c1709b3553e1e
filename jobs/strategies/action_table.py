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

import orjson
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
from clientstrata.jobs.classification.dimensions.risk import suitable

from .nba import actions_table

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


def _professional(inputs) -> bool:
    if isinstance(inputs, (str, bytes)):
        inputs = orjson.loads(inputs)
    return bool(inputs.get("professional")) if isinstance(inputs, dict) else False


def action_table(
    conn: Connection,
    first: int,
    after: str | None = None,
    flt: CustomerFilter | None = None,
    book: str | None = None,
) -> tuple[pd.DataFrame, bool, int, str | None]:
    """A page of ACTION_TABLE_COLUMNS after the cursor, by customer then rank, for the customers
    `flt` selects; `book` (a relationship manager's id) keeps their customers only. Returns the
    page, whether more follow, the total of the run's (non-held-out) actions selected, and the
    cursor after the page."""
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
    total = conn.execute(sa.select(sa.func.count()).select_from(a)).scalar_one()
    # the customer's level as readers see it now, and whether they are a professional investor
    level = tg.alias("level")
    prof = tg.alias("prof")
    forced = (
        sa.select(ov.c.customer_id, ov.c.value)
        .where(in_force_clause(utcnow()), ov.c.dimension == "risk_preference")
        .subquery("forced")
    )
    q = (
        sa.select(
            *[a.c[c] for c in ACTION_TABLE_COLUMNS],
            sa.func.coalesce(forced.c.value, level.c.value).label("_level"),
            prof.c.inputs.label("_suit"),
        )
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
        .order_by(a.c.customer_id, a.c.rank)
        .limit(first + 1)
    )
    if after:
        cid, rank = _decode(after)
        q = q.where(sa.or_(a.c.customer_id > cid, sa.and_(a.c.customer_id == cid, a.c.rank > rank)))
    rows = conn.execute(q).mappings().all()
    has_next = len(rows) > first
    kept = [
        r
        for r in rows[:first]
        if suitable(
            r["_level"] if r["_level"] in ("C1", "C2", "C3", "C4", "C5") else None,
            r["product_risk"],
            _professional(r["_suit"]),
        )
    ]
    df = pd.DataFrame([[r[c] for c in ACTION_TABLE_COLUMNS] for r in kept], columns=ACTION_TABLE_COLUMNS)
    # the cursor follows the last row read, kept or not, so a left-out row never stalls paging
    read = rows[:first]
    end = action_cursor(read[-1]["customer_id"], read[-1]["rank"]) if read else None
    return df.astype(object).where(df.notna(), None), has_next, int(total), end
