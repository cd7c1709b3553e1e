"""Every customer's package of the live run as a page of columns (the SDK's `packages()`): the
bulk path, like `customerTable`, so a whole bank travels as rows, not as GraphQL objects."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record.models import CustomerPackage, Individual, PointsAccount
from clientstrata.graph.record.queries import MAX_TABLE_PAGE, decode_cursor, latest_run_id

__all__ = ["PACKAGE_TABLE_COLUMNS", "package_table"]

PACKAGE_TABLE_COLUMNS = [
    "customer_id",
    "run_id",
    "package",
    "selector",
    "explanation_en",
    "explanation_zh",
    "points_balance",
]


def package_table(
    conn: Connection, first: int, after: str | None = None, book: str | None = None
) -> tuple[pd.DataFrame, bool, int]:
    """A page of PACKAGE_TABLE_COLUMNS after the cursor, by customer id; `book` (a relationship
    manager's id) keeps their customers only. Returns the page, whether more follow, the total."""
    if not 1 <= first <= MAX_TABLE_PAGE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_TABLE_PAGE:,}")
    run = latest_run_id(conn)
    if run is None:
        return pd.DataFrame(columns=PACKAGE_TABLE_COLUMNS), False, 0
    pk, acc, ind = CustomerPackage.__table__, PointsAccount.__table__, Individual.__table__
    q = (
        sa.select(
            pk.c.customer_id,
            pk.c.run_id,
            pk.c.package,
            pk.c.selector,
            pk.c.explanation_en,
            pk.c.explanation_zh,
            sa.func.coalesce(acc.c.balance, 0).label("points_balance"),
        )
        .select_from(pk.outerjoin(acc, acc.c.customer_id == pk.c.customer_id))
        .where(pk.c.run_id == run)
    )
    if book is not None:
        q = q.where(pk.c.customer_id.in_(sa.select(ind.c.customer_id).where(ind.c.rm_id == book)))
    total = conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
    if after:
        q = q.where(pk.c.customer_id > decode_cursor(after))
    rows = conn.execute(q.order_by(pk.c.customer_id).limit(first + 1)).all()
    df = pd.DataFrame([tuple(r) for r in rows[:first]], columns=PACKAGE_TABLE_COLUMNS)
    return df, len(rows) > first, int(total)
