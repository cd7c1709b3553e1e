"""Whether an object exists at all, whatever the caller's book: for the boundary to tell a read
refused by the book (audited) from one of nothing. Never for answering the caller, who gets the
same answer either way."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .models import Enterprise, Household, Individual

__all__ = ["KINDS", "exists"]

KINDS = {
    "customer": Individual.__table__.c.customer_id,
    "enterprise": Enterprise.__table__.c.enterprise_id,
    "household": Household.__table__.c.household_id,
}


def exists(conn: Connection, kind: str, key: str) -> bool:
    column = KINDS[kind]
    return conn.execute(sa.select(column).where(column == key)).first() is not None
