"""Household reads over the record and its rollups: what CRM integrations pull, current as of
the last ingest (the rollups are refreshed inside it, see `clientstrata.jobs.ingest.rollups`).

`book` is a relationship manager's id (`Principal.book`): such a caller sees only households with
a member in their book, and only those members. The household's AUM, tier and member count stay
the whole household's: facts about the household rather than about any member.

Two orders, each with its keyset cursor: by household id (browsing), and by change (`version`,
then id) whenever `updated_since` is given, so an incremental pull that follows `endCursor` sees
every household that changed after its cursor exactly once per change.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput

from .models import CustomerRollup, Household, HouseholdMember, HouseholdRollup, Individual
from .queries import MAX_PAGE_SIZE, Page

__all__ = [
    "households_of_customers",
    "HouseholdFilter",
    "households_page",
    "households_by_id",
    "household_members",
    "encode_household_cursor",
    "STATUSES",
]

STATUSES = ("confirmed", "candidate")
_households, _household_members, _individuals = Household.__table__, HouseholdMember.__table__, Individual.__table__
_household_rollups, _customer_rollups = HouseholdRollup.__table__, CustomerRollup.__table__
_COLUMNS = (
    _households.c.household_id,
    _households.c.name,
    _households.c.status,
    sa.func.coalesce(_household_rollups.c.aum, 0).label("aum"),
    sa.func.coalesce(_household_rollups.c.member_count, 0).label("member_count"),
    _household_rollups.c.tier,
    sa.func.coalesce(_household_rollups.c.version, 0).label("version"),
    _household_rollups.c.updated_at,
)
_FROM = _households.outerjoin(_household_rollups, _household_rollups.c.household_id == _households.c.household_id)


@dataclass(frozen=True)
class HouseholdFilter:
    """All conditions must hold. `tier` is the latest run's household tier; `branch_id` keeps
    households with a member at that branch; the AUM range reads the combined AUM (≥ min, < max)."""

    tier: str | None = None
    branch_id: str | None = None
    status: str | None = None
    aum_min: float | None = None
    aum_max: float | None = None


def encode_household_cursor(row: dict, by_change: bool) -> str:
    text = f"household@{row['version']}:{row['household_id']}" if by_change else f"household:{row['household_id']}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode(cursor: str, by_change: bool) -> tuple[int | None, str]:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if by_change and text.startswith("household@"):
            version, _, hid = text.removeprefix("household@").partition(":")
            return int(version), hid
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("`after` is not a household cursor returned by this API") from None
    if not by_change and text.startswith("household:"):
        return None, text.removeprefix("household:")
    if text.startswith(("household@", "household:")):
        raise InvalidInput(
            "`after` comes from a households page in the other order: a cursor from a page with "
            "`updatedSince` goes with `updatedSince`, one without it goes without it"
        )
    raise InvalidInput("`after` is not a household cursor returned by this API")


def _member_where(*conds) -> sa.Exists:
    return sa.exists().where(
        _household_members.c.household_id == _households.c.household_id,
        _individuals.c.customer_id == _household_members.c.customer_id,
        *conds,
    )


def _naive(at: dt.datetime) -> dt.datetime:
    """The record keeps local wall-clock time; an aware moment is converted to it."""
    return at.astimezone().replace(tzinfo=None) if at.tzinfo else at


def _scoped(q: sa.Select, flt: HouseholdFilter, book: str | None) -> sa.Select:
    if book is not None:
        q = q.where(_member_where(_individuals.c.rm_id == book))
    if flt.branch_id:
        q = q.where(_member_where(_individuals.c.branch_id == flt.branch_id))
    if flt.status:
        if flt.status not in STATUSES:
            raise InvalidInput(f"household status is one of {', '.join(STATUSES)}, not {flt.status!r}")
        q = q.where(_households.c.status == flt.status)
    if flt.tier:
        q = q.where(_household_rollups.c.tier == flt.tier)
    if flt.aum_min is not None:
        q = q.where(sa.func.coalesce(_household_rollups.c.aum, 0) >= flt.aum_min)
    if flt.aum_max is not None:
        q = q.where(sa.func.coalesce(_household_rollups.c.aum, 0) < flt.aum_max)
    return q


def households_page(
    conn: Connection,
    first: int,
    after: str | None = None,
    flt: HouseholdFilter = HouseholdFilter(),
    book: str | None = None,
    updated_since: dt.datetime | None = None,
) -> Page:
    """A page of households (rows: household_id, name, status, aum, member_count, tier, version,
    updated_at), in id order; with `updated_since`, those whose view changed after it, in change
    order. Two statements whatever the page size: the count and the page."""
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_PAGE_SIZE}")
    by_change = updated_since is not None
    q = _scoped(sa.select(*_COLUMNS).select_from(_FROM), flt, book)
    if by_change:
        q = q.where(_household_rollups.c.updated_at > _naive(updated_since))
    total = conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
    if by_change:
        version = sa.func.coalesce(_household_rollups.c.version, 0)
        if after:
            v, hid = _decode(after, True)
            q = q.where(sa.or_(version > v, sa.and_(version == v, _households.c.household_id > hid)))
        q = q.order_by(version, _households.c.household_id)
    else:
        if after:
            q = q.where(_households.c.household_id > _decode(after, False)[1])
        q = q.order_by(_households.c.household_id)
    rows = conn.execute(q.limit(first + 1)).mappings().all()
    return Page([dict(r) for r in rows[:first]], len(rows) > first, total)


def households_by_id(conn: Connection, ids: Sequence[str], book: str | None = None) -> dict[str, dict]:
    """Household rows by id; for a relationship manager only those with a member in their book."""
    q = _scoped(
        sa.select(*_COLUMNS).select_from(_FROM).where(_households.c.household_id.in_(list(ids))),
        HouseholdFilter(),
        book,
    )
    return {r["household_id"]: dict(r) for r in conn.execute(q).mappings().all()}


def households_of_customers(
    conn: Connection, customer_ids: Sequence[str], book: str | None = None
) -> dict[str, tuple[dict, list[dict]]]:
    """Customer id → (their household's row, its members) in one statement. A member is the
    `household_members` row and, under `customer`, the member's record row with its AUM (what
    `customers_by_id` returns), so the caller can serve members and their customers without
    reading again. For a relationship manager only the members in their book, as everywhere."""
    asked = _household_members.alias("asked")
    member_aum = sa.func.coalesce(_customer_rollups.c.aum, 0)
    q = (
        sa.select(
            asked.c.customer_id.label("asked_id"),
            *(c.label(f"h_{c.name}") for c in _COLUMNS),
            _household_members.c.role.label("member_role"),
            _individuals,
            member_aum.label("member_aum"),
        )
        .select_from(
            _FROM.join(asked, asked.c.household_id == _households.c.household_id)
            .join(_household_members, _household_members.c.household_id == _households.c.household_id)
            .join(_individuals, _individuals.c.customer_id == _household_members.c.customer_id)
            .outerjoin(_customer_rollups, _customer_rollups.c.customer_id == _household_members.c.customer_id)
        )
        .where(asked.c.customer_id.in_(list(customer_ids)))
        .order_by(asked.c.customer_id, _household_members.c.customer_id)
    )
    if book is not None:
        q = q.where(_individuals.c.rm_id == book)
    out: dict[str, tuple[dict, list[dict]]] = {}
    for r in conn.execute(q).mappings():
        row = dict(r)
        if row["asked_id"] not in out:
            household = {c.name: row[f"h_{c.name}"] for c in _COLUMNS}
            out[row["asked_id"]] = (household, [])
        customer = {c.name: row[c.name] for c in _individuals.c} | {"aum": row["member_aum"]}
        out[row["asked_id"]][1].append(
            {
                "household_id": row["h_household_id"],
                "customer_id": row["customer_id"],
                "name": row["name"],
                "role": row["member_role"],
                "aum": float(row["member_aum"]),
                "customer": customer,
            }
        )
    return out


def household_members(conn: Connection, ids: Sequence[str], book: str | None = None) -> dict[str, list[dict]]:
    """Members (customer_id, name, role, aum) of each household, by customer id; for a
    relationship manager only the members in their book."""
    q = (
        sa.select(
            _household_members.c.household_id,
            _household_members.c.customer_id,
            _individuals.c.name,
            _household_members.c.role,
            sa.func.coalesce(_customer_rollups.c.aum, 0).label("aum"),
        )
        .select_from(
            _household_members.join(
                _individuals, _individuals.c.customer_id == _household_members.c.customer_id
            ).outerjoin(_customer_rollups, _customer_rollups.c.customer_id == _household_members.c.customer_id)
        )
        .where(_household_members.c.household_id.in_(list(ids)))
        .order_by(_household_members.c.household_id, _household_members.c.customer_id)
    )
    if book is not None:
        q = q.where(_individuals.c.rm_id == book)
    out: dict[str, list[dict]] = defaultdict(list)
    for r in conn.execute(q).mappings():
        out[r["household_id"]].append({**r, "aum": float(r["aum"])})
    return out
