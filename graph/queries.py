"""Read functions over the relational record, for the API, the SDK's server and notebooks.

All take a connection and a batch of keys, so callers (dataloaders included) make one
query per batch instead of one per customer. `book` is a relationship manager's id: when set,
only that RM's customers exist for the caller (see `clientstrata.graph.access.Principal.book`).
"""
from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .errors import InvalidInput
from .models import ClassificationRun, HouseholdMember, Individual, Tag

__all__ = ["CustomerFilter", "Page", "customer_page", "customers_by_id", "tags_by_customer",
           "household_ids", "in_book", "latest_run_id", "encode_cursor", "decode_cursor", "MAX_PAGE_SIZE"]

MAX_PAGE_SIZE = 1000
_I, _T, _M, _R = Individual.__table__, Tag.__table__, HouseholdMember.__table__, ClassificationRun.__table__


@dataclass(frozen=True)
class CustomerFilter:
    tier: str | None = None
    cooperation_depth: str | None = None
    branch_id: str | None = None
    rm_id: str | None = None


@dataclass
class Page:
    rows: list[dict]
    has_next: bool
    total: int


def encode_cursor(customer_id: str) -> str:
    return base64.urlsafe_b64encode(f"customer:{customer_id}".encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("`after` is not a cursor returned by this API") from None
    if not text.startswith("customer:"):
        raise InvalidInput("`after` is not a cursor returned by this API")
    return text.removeprefix("customer:")


def latest_run_id(conn: Connection) -> int | None:
    return conn.execute(sa.select(sa.func.max(_R.c.run_id)).where(_R.c.status == "published")).scalar()


def _filtered(conn: Connection, flt: CustomerFilter, book: str | None) -> sa.Select:
    q = sa.select(_I)
    if book is not None:
        q = q.where(_I.c.rm_id == book)
    if flt.branch_id:
        q = q.where(_I.c.branch_id == flt.branch_id)
    if flt.rm_id:
        q = q.where(_I.c.rm_id == flt.rm_id)
    run = latest_run_id(conn) if (flt.tier or flt.cooperation_depth) else None
    for dim, value in (("wealth_tier", flt.tier), ("cooperation_depth", flt.cooperation_depth)):
        if value:
            q = q.where(_I.c.customer_id.in_(sa.select(_T.c.customer_id).where(
                _T.c.run_id == run, _T.c.dimension == dim, _T.c.value == value)))
    return q


def customer_page(conn: Connection, first: int, after: str | None = None,
                  flt: CustomerFilter = CustomerFilter(), book: str | None = None) -> Page:
    """Keyset pagination by customer_id: stable while data is loaded, fast at any depth."""
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_PAGE_SIZE}")
    q = _filtered(conn, flt, book)
    total = conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
    if after:
        q = q.where(_I.c.customer_id > decode_cursor(after))
    rows = conn.execute(q.order_by(_I.c.customer_id).limit(first + 1)).mappings().all()
    return Page([dict(r) for r in rows[:first]], len(rows) > first, total)


def customers_by_id(conn: Connection, ids: Sequence[str], book: str | None = None) -> dict[str, dict]:
    q = sa.select(_I).where(_I.c.customer_id.in_(list(ids)))
    if book is not None:
        q = q.where(_I.c.rm_id == book)
    return {r["customer_id"]: dict(r) for r in conn.execute(q).mappings().all()}


def in_book(conn: Connection, ids: Sequence[str], book: str | None) -> set[str]:
    """The subset of `ids` that are customers the caller may see."""
    q = sa.select(_I.c.customer_id).where(_I.c.customer_id.in_(list(ids)))
    if book is not None:
        q = q.where(_I.c.rm_id == book)
    return set(conn.execute(q).scalars())


def tags_by_customer(conn: Connection, ids: Sequence[str], run_id: int | None = None) -> dict[str, list[dict]]:
    """Tags of the latest published run (or `run_id`), per customer, in dimension order."""
    run_id = run_id if run_id is not None else latest_run_id(conn)
    out: dict[str, list[dict]] = defaultdict(list)
    if run_id is None:
        return out
    rows = conn.execute(sa.select(_T).where(_T.c.run_id == run_id, _T.c.customer_id.in_(list(ids)))
                        .order_by(_T.c.customer_id, _T.c.dimension)).mappings().all()
    for r in rows:
        out[r["customer_id"]].append(dict(r))
    return out


def household_ids(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    """Household of each customer id (callers pass only ids they may see)."""
    rows = conn.execute(sa.select(_M.c.customer_id, _M.c.household_id).where(_M.c.customer_id.in_(list(ids))))
    return dict(rows.all())
