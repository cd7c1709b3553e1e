"""Read functions over the relational record, for the API, the SDK's server and notebooks.

All take a connection and a batch of keys, so callers (dataloaders included) make one
query per batch instead of one per customer.
"""
from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .errors import InvalidInput
from .models import ClassificationRun, HouseholdMember, Individual, Override, Tag

__all__ = ["CustomerFilter", "Page", "customer_page", "customers_by_id", "tags_by_customer",
           "household_ids", "latest_run_id", "overrides_in_force", "in_force_clause", "apply_override",
           "encode_cursor", "decode_cursor", "MAX_PAGE_SIZE"]

MAX_PAGE_SIZE = 1000
_I, _T, _M, _R = Individual.__table__, Tag.__table__, HouseholdMember.__table__, ClassificationRun.__table__
_O = Override.__table__


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


def latest_run_id(conn: Connection, at: dt.datetime | None = None) -> int | None:
    """The run published last (at or before `at`). Publishers are serialised, so publication
    order is commit order; a run reserved early but published late is the newer one."""
    q = sa.select(_R.c.run_id).where(_R.c.status == "published")
    if at is not None:
        q = q.where(_R.c.published_at <= at)
    return conn.execute(q.order_by(_R.c.published_at.desc(), _R.c.run_id.desc()).limit(1)).scalar()


def in_force_clause(at: dt.datetime):
    """Overrides that apply at `at`: approved by then, not yet revoked (or superseded) and
    not expired. An override stops applying on its `expires_on` day. Approving a new override
    revokes the one before it at the same instant, so at most one is in force per tag."""
    return sa.and_(_O.c.status.in_(("approved", "revoked", "expired")), _O.c.decided_at <= at,
                   sa.or_(_O.c.revoked_at.is_(None), _O.c.revoked_at > at),
                   sa.or_(_O.c.expires_on.is_(None), _O.c.expires_on > at.date()))


def overrides_in_force(conn: Connection, ids: Sequence[str] | None = None,
                       at: dt.datetime | None = None) -> dict[tuple[str, str], dict]:
    """(customer_id, dimension) → the override row that applies at `at` (default: now)."""
    q = sa.select(_O).where(in_force_clause(at or dt.datetime.now()))
    if ids is not None:
        q = q.where(_O.c.customer_id.in_(list(ids)))
    rows = conn.execute(q.order_by(_O.c.decided_at)).mappings().all()
    return {(r["customer_id"], r["dimension"]): dict(r) for r in rows}


def apply_override(tag: dict, ov: dict | None) -> dict:
    """A tag as readers see it: the computed value and, when a manual override applies, the
    overriding value as `value`, with who approved it and why."""
    out = {**tag, "computed_value": tag["value"], "computed_label_zh": tag["label_zh"],
           "computed_label_en": tag["label_en"], "computed_rule": tag["rule"], "override_id": None,
           "overridden_by": None, "override_reason": None, "override_expires_on": None}
    if ov is None:
        return out
    out.update(value=ov["value"], label_zh=ov["label_zh"] or ov["value"], label_en=ov["label_en"] or ov["value"],
               override_id=ov["override_id"], overridden_by=ov["decided_by"], override_reason=ov["reason"],
               override_expires_on=ov["expires_on"],
               rule=(f"manual override #{ov['override_id']} (proposed by {ov['proposed_by']}, approved by "
                     f"{ov['decided_by']}): {ov['reason']}; computed: {tag['value']} — {tag['rule']}"))
    return out


def _filtered(conn: Connection, flt: CustomerFilter) -> sa.Select:
    q = sa.select(_I)
    if flt.branch_id:
        q = q.where(_I.c.branch_id == flt.branch_id)
    if flt.rm_id:
        q = q.where(_I.c.rm_id == flt.rm_id)
    run = latest_run_id(conn) if (flt.tier or flt.cooperation_depth) else None
    for dim, value in (("wealth_tier", flt.tier), ("cooperation_depth", flt.cooperation_depth)):
        if value:
            q = q.where(_I.c.customer_id.in_(_effective_value_is(run, dim, value)))
    return q


def _effective_value_is(run: int | None, dim: str, value: str) -> sa.Select:
    """Customers whose tag in `run` reads `value` once manual overrides in force are applied."""
    ov = sa.select(_O.c.customer_id, _O.c.value).where(in_force_clause(dt.datetime.now()), _O.c.dimension == dim)
    ov = ov.subquery()
    return (sa.select(_T.c.customer_id).select_from(_T.outerjoin(ov, ov.c.customer_id == _T.c.customer_id))
            .where(_T.c.run_id == run, _T.c.dimension == dim, sa.func.coalesce(ov.c.value, _T.c.value) == value))


def customer_page(conn: Connection, first: int, after: str | None = None,
                  flt: CustomerFilter = CustomerFilter()) -> Page:
    """Keyset pagination by customer_id: stable while data is loaded, fast at any depth."""
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_PAGE_SIZE}")
    q = _filtered(conn, flt)
    total = conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
    if after:
        q = q.where(_I.c.customer_id > decode_cursor(after))
    rows = conn.execute(q.order_by(_I.c.customer_id).limit(first + 1)).mappings().all()
    return Page([dict(r) for r in rows[:first]], len(rows) > first, total)


def customers_by_id(conn: Connection, ids: Sequence[str]) -> dict[str, dict]:
    rows = conn.execute(sa.select(_I).where(_I.c.customer_id.in_(list(ids)))).mappings().all()
    return {r["customer_id"]: dict(r) for r in rows}


def tags_by_customer(conn: Connection, ids: Sequence[str], run_id: int | None = None,
                     at: dt.datetime | None = None) -> dict[str, list[dict]]:
    """Tags of the latest published run (or `run_id`), per customer, in dimension order, with
    the manual overrides in force at `at` (default: now) applied: `value` is the effective
    value, `computed_value` what the run computed, `override_id`/`overridden_by`/
    `override_reason` say which override applies (None when none does)."""
    run_id = run_id if run_id is not None else latest_run_id(conn)
    out: dict[str, list[dict]] = defaultdict(list)
    if run_id is None:
        return out
    rows = conn.execute(sa.select(_T).where(_T.c.run_id == run_id, _T.c.customer_id.in_(list(ids)))
                        .order_by(_T.c.customer_id, _T.c.dimension)).mappings().all()
    ovs = overrides_in_force(conn, ids, at) if rows else {}
    for r in rows:
        out[r["customer_id"]].append(apply_override(dict(r), ovs.get((r["customer_id"], r["dimension"]))))
    return out


def household_ids(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    rows = conn.execute(sa.select(_M.c.customer_id, _M.c.household_id).where(_M.c.customer_id.in_(list(ids))))
    return dict(rows.all())
