"""Read functions over the relational record, for the API, the SDK's server and notebooks.

All take a connection and a batch of keys, so callers (dataloaders included) make one
query per batch instead of one per customer. `book` is a relationship manager's id: when set,
only that RM's customers exist for the caller (see `clientstrata.graph.record.access.Principal.book`).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import InvalidInput

from .models import (
    Alert,
    ClassificationRun,
    CustomerRollup,
    HouseholdMember,
    Individual,
    Override,
    Tag,
)

__all__ = [
    "CustomerFilter",
    "Page",
    "customer_page",
    "customer_count",
    "customer_ids_clause",
    "customer_select",
    "tagged_dimensions",
    "customers_by_id",
    "tags_by_customer",
    "tag_values",
    "household_ids",
    "latest_run_id",
    "overrides_in_force",
    "in_force_clause",
    "apply_override",
    "encode_cursor",
    "decode_cursor",
    "page_cursor",
    "SORTS",
    "MAX_PAGE_SIZE",
    "MAX_TABLE_PAGE",
    "TABLE_COLUMNS",
]

MAX_PAGE_SIZE = 1000
MAX_TABLE_PAGE = 50_000
TABLE_COLUMNS = ("customer_id", "name", "gender", "birth_date", "branch_id", "rm_id", "onboarded_on")
_individuals, _household_members = Individual.__table__, HouseholdMember.__table__
_runs, _tags = ClassificationRun.__table__, Tag.__table__
_overrides, _alerts, _customer_rollups = Override.__table__, Alert.__table__, CustomerRollup.__table__
# current AUM (CNY, latest balance month) from the rollups every ingest refreshes
_AUM = sa.func.coalesce(_customer_rollups.c.aum, 0)
_WITH_AUM = _individuals.outerjoin(_customer_rollups, _customer_rollups.c.customer_id == _individuals.c.customer_id)
SORTS = ("id", "aum_desc", "aum_asc")


@dataclass(frozen=True)
class CustomerFilter:
    """All conditions must hold. `tags` maps a dimension to the values accepted for it (any of
    them), read from the latest published run; `tier` and `cooperation_depth` are shortcuts for
    the two most used dimensions; the AUM range reads the wealth tier's month-average AUM."""

    tier: str | None = None
    cooperation_depth: str | None = None
    branch_id: str | None = None
    rm_id: str | None = None
    tags: tuple[tuple[str, tuple[str, ...]], ...] = ()
    aum_min: float | None = None
    aum_max: float | None = None
    alert_type: str | None = None  # customers with an open alert of this type

    def tag_conditions(self) -> list[tuple[str, tuple[str, ...]]]:
        conds = list(self.tags)
        for dim, value in (("wealth_tier", self.tier), ("cooperation_depth", self.cooperation_depth)):
            if value:
                conds.append((dim, (value,)))
        return conds


@dataclass
class Page:
    rows: list[dict]
    has_next: bool
    total: int | None  # None when the caller did not ask for it


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


def page_cursor(row: dict, sort: str = "id") -> str:
    """The keyset cursor of a customer row in `sort` order: it carries the sort key."""
    if sort == "id":
        return encode_cursor(row["customer_id"])
    return base64.urlsafe_b64encode(f"customer-{sort}:{float(row['aum']):.2f}:{row['customer_id']}".encode()).decode()


def _decode_sorted(cursor: str, sort: str) -> tuple[float, str]:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        prefix = f"customer-{sort}:"
        if text.startswith(prefix):
            aum, _, cid = text.removeprefix(prefix).partition(":")
            return float(aum), cid
    except (ValueError, UnicodeDecodeError):
        pass
    raise InvalidInput(f"`after` is not a cursor of this API for customers in {sort.upper()} order")


def latest_run_id(conn: Connection, at: dt.datetime | None = None) -> int | None:
    """The run published last (at or before `at`). Publishers are serialised, so publication
    order is commit order; a run reserved early but published late is the newer one."""
    q = sa.select(_runs.c.run_id).where(_runs.c.status == "published")
    if at is not None:
        q = q.where(_runs.c.published_at <= at)
    return conn.execute(q.order_by(_runs.c.published_at.desc(), _runs.c.run_id.desc()).limit(1)).scalar()


def in_force_clause(at: dt.datetime):
    """Overrides that apply at `at`: approved by then, not yet revoked (or superseded) and
    not expired. An override stops applying on its `expires_on` day. Approving a new override
    revokes the one before it at the same instant, so at most one is in force per tag."""
    return sa.and_(
        _overrides.c.status.in_(("approved", "revoked", "expired")),
        _overrides.c.decided_at <= at,
        sa.or_(_overrides.c.revoked_at.is_(None), _overrides.c.revoked_at > at),
        sa.or_(_overrides.c.expires_on.is_(None), _overrides.c.expires_on > at.date()),
    )


def overrides_in_force(
    conn: Connection, ids: Sequence[str] | None = None, at: dt.datetime | None = None
) -> dict[tuple[str, str], dict]:
    """(customer_id, dimension) → the override row that applies at `at` (default: now)."""
    q = sa.select(_overrides).where(in_force_clause(at or utcnow()))
    if ids is not None:
        q = q.where(_overrides.c.customer_id.in_(list(ids)))
    rows = conn.execute(q.order_by(_overrides.c.decided_at)).mappings().all()
    return {(r["customer_id"], r["dimension"]): dict(r) for r in rows}


def apply_override(tag: dict, ov: dict | None) -> dict:
    """A tag as readers see it: the computed value and, when a manual override applies, the
    overriding value as `value`, with who proposed and approved it and why (the words of the
    explanation are made by the reader, `jobs/runs/explain.py`, around the computed rule)."""
    out = {
        **tag,
        "computed_value": tag["value"],
        "computed_label_zh": tag["label_zh"],
        "computed_label_en": tag["label_en"],
        "override_id": None,
        "overridden_by": None,
        "override_proposed_by": None,
        "override_reason": None,
        "override_expires_on": None,
    }
    if ov is None:
        return out
    out.update(
        value=ov["value"],
        label_zh=ov["label_zh"] or ov["value"],
        label_en=ov["label_en"] or ov["value"],
        override_id=ov["override_id"],
        overridden_by=ov["decided_by"],
        override_proposed_by=ov["proposed_by"],
        override_reason=ov["reason"],
        override_expires_on=ov["expires_on"],
    )
    return out


def _filtered(conn: Connection, flt: CustomerFilter, book: str | None, columns=(_individuals,)) -> sa.Select:
    q = sa.select(*columns)
    if book is not None:
        q = q.where(_individuals.c.rm_id == book)
    if flt.branch_id:
        q = q.where(_individuals.c.branch_id == flt.branch_id)
    if flt.rm_id:
        q = q.where(_individuals.c.rm_id == flt.rm_id)
    if flt.alert_type:
        q = q.where(
            _individuals.c.customer_id.in_(
                sa.select(_alerts.c.customer_id).where(
                    _alerts.c.alert_type == flt.alert_type, _alerts.c.status == "open"
                )
            )
        )
    conds = flt.tag_conditions()
    aum = flt.aum_min is not None or flt.aum_max is not None
    if not conds and not aum:
        return q
    run = latest_run_id(conn)
    for dim, values in conds:
        q = q.where(_individuals.c.customer_id.in_(_effective_value_in(run, dim, values)))
    if aum:  # AUM is the wealth tier's computed input; an override changes the tier, not the AUM
        sub = sa.select(_tags.c.customer_id).where(_tags.c.run_id == run, _tags.c.dimension == "wealth_tier")
        if flt.aum_min is not None:
            sub = sub.where(_tags.c.score >= flt.aum_min)
        if flt.aum_max is not None:
            sub = sub.where(_tags.c.score < flt.aum_max)
        q = q.where(_individuals.c.customer_id.in_(sub))
    return q


def customer_ids_clause(conn: Connection, flt: CustomerFilter, book: str | None = None) -> sa.Select:
    """The ids of the customers `flt` selects (within `book`), as a subquery for another table's
    `IN`: other bulk reads filter by customer exactly as `customerTable` does."""
    return _filtered(conn, flt, book, (_individuals.c.customer_id,))


def _effective_value_in(run: int | None, dim: str, values: Sequence[str]) -> sa.Select:
    """Customers whose tag in `run` reads one of `values` once manual overrides in force are applied."""
    ov = sa.select(_overrides.c.customer_id, _overrides.c.value).where(
        in_force_clause(utcnow()), _overrides.c.dimension == dim
    )
    ov = ov.subquery()
    return (
        sa.select(_tags.c.customer_id)
        .select_from(_tags.outerjoin(ov, ov.c.customer_id == _tags.c.customer_id))
        .where(
            _tags.c.run_id == run,
            _tags.c.dimension == dim,
            sa.func.coalesce(ov.c.value, _tags.c.value).in_(list(values)),
        )
    )


def customer_count(conn: Connection, flt: CustomerFilter = CustomerFilter(), book: str | None = None) -> int:
    """How many customers the filter matches in the caller's book (no AUM join: no filter needs it)."""
    q = _filtered(conn, flt, book, (_individuals.c.customer_id,))
    return conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()


def customer_page(
    conn: Connection,
    first: int,
    after: str | None = None,
    flt: CustomerFilter = CustomerFilter(),
    book: str | None = None,
    sort: str = "id",
    count: bool = True,
) -> Page:
    """Keyset pagination: stable while data is loaded, fast at any depth. `sort` is "id", or
    "aum_desc"/"aum_asc" by current AUM (ties by id); rows carry `aum`, and the cursor
    (`page_cursor`) the sort key, so a page boundary holds while AUMs change. With `count`, the
    page carries the filter's total (a scan of the matching customers, so only when wanted)."""
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_PAGE_SIZE}")
    if sort not in SORTS:
        raise InvalidInput(f"`sort` must be one of {', '.join(SORTS)}, not {sort!r}")
    q = _filtered(conn, flt, book, (_individuals, _AUM.label("aum"))).select_from(_WITH_AUM)
    total = customer_count(conn, flt, book) if count else None
    if sort == "id":
        if after:
            q = q.where(_individuals.c.customer_id > decode_cursor(after))
        q = q.order_by(_individuals.c.customer_id)
    else:
        desc = sort == "aum_desc"
        if after:
            aum, cid = _decode_sorted(after, sort)
            beyond = _AUM < aum if desc else _AUM > aum
            q = q.where(sa.or_(beyond, sa.and_(_AUM == aum, _individuals.c.customer_id > cid)))
        q = q.order_by(_AUM.desc() if desc else _AUM.asc(), _individuals.c.customer_id)
    rows = conn.execute(q.limit(first + 1)).mappings().all()
    return Page([dict(r) for r in rows[:first]], len(rows) > first, total)


def customer_select(
    conn: Connection, flt: CustomerFilter, book: str | None, columns: Sequence, after: str | None = None
) -> sa.Select:
    """`columns` of the customers `flt` selects within `book`, after the cursor `after`, in id
    order: the bulk table's statement (`customer_rows`), which outer-joins what it reads beside the
    individual with `select_from` and sets the page's `limit`. The filter, the book and the cursor
    are those of `customer_page` and `customer_count`, so a table and a connection agree."""
    q = _filtered(conn, flt, book, columns)
    if after:
        q = q.where(_individuals.c.customer_id > decode_cursor(after))
    return q.order_by(_individuals.c.customer_id)


def tagged_dimensions(conn: Connection, run: int | None) -> list[str]:
    """The dimensions a run tagged, in order, by one index seek each (a loose scan of the tags'
    (run, dimension, value) index): DISTINCT read every tag of the run, millions at scale."""
    if run is None:
        return []
    found = conn.execute(
        sa.text(
            "WITH RECURSIVE d(dim) AS (SELECT MIN(dimension) FROM tags WHERE run_id = :run "
            "UNION ALL SELECT (SELECT MIN(dimension) FROM tags WHERE run_id = :run AND dimension > d.dim) "
            "FROM d WHERE d.dim IS NOT NULL) SELECT dim FROM d WHERE dim IS NOT NULL"
        ),
        {"run": run},
    ).scalars()
    return sorted(found)


def customers_by_id(conn: Connection, ids: Sequence[str], book: str | None = None) -> dict[str, dict]:
    q = (
        sa.select(_individuals, _AUM.label("aum"))
        .select_from(_WITH_AUM)
        .where(_individuals.c.customer_id.in_(list(ids)))
    )
    if book is not None:
        q = q.where(_individuals.c.rm_id == book)
    return {r["customer_id"]: dict(r) for r in conn.execute(q).mappings().all()}


_OVERRIDE_COLUMNS = (
    "override_id",
    "value",
    "label_zh",
    "label_en",
    "reason",
    "proposed_by",
    "decided_by",
    "decided_at",
    "expires_on",
)


def _with_overrides(
    columns, run_id: int, ids: Sequence[str], at: dt.datetime | None, standard: bool = False
) -> sa.Select:
    """`columns` of the run's tags of `ids`, each beside the override in force at `at` (`ov_*`
    columns, null where none applies): the tags and what overrides them in one statement."""
    ov = sa.select(*(_overrides.c[c] for c in _OVERRIDE_COLUMNS), _overrides.c.customer_id, _overrides.c.dimension)
    ov = ov.where(in_force_clause(at or utcnow()), _overrides.c.customer_id.in_(list(ids))).subquery()
    if standard:  # the run's standard rides along: readers put the tags into words by it (jobs/runs/explain.py)
        sha = sa.select(_runs.c.standard_sha256).where(_runs.c.run_id == run_id).scalar_subquery()
        columns = (*columns, sha.label("standard_sha256"))
    return (
        sa.select(*columns, *(ov.c[c].label(f"ov_{c}") for c in _OVERRIDE_COLUMNS))
        .select_from(
            _tags.outerjoin(ov, sa.and_(ov.c.customer_id == _tags.c.customer_id, ov.c.dimension == _tags.c.dimension))
        )
        .where(_tags.c.run_id == run_id, _tags.c.customer_id.in_(list(ids)))
    )


def _split_override(row: dict) -> tuple[dict, dict | None]:
    tag = {k: v for k, v in row.items() if not k.startswith("ov_")}
    if row["ov_override_id"] is None:
        return tag, None
    return tag, {c: row[f"ov_{c}"] for c in _OVERRIDE_COLUMNS}


def tags_by_customer(
    conn: Connection, ids: Sequence[str], run_id: int | None = None, at: dt.datetime | None = None
) -> dict[str, list[dict]]:
    """Tags of the latest published run (or `run_id`), per customer, in dimension order, with
    the manual overrides in force at `at` (default: now) applied: `value` is the effective
    value, `computed_value` what the run computed, `override_id`/`overridden_by`/
    `override_reason` say which override applies (None when none does)."""
    run_id = run_id if run_id is not None else latest_run_id(conn)
    out: dict[str, list[dict]] = defaultdict(list)
    if run_id is None or not ids:
        return out
    q = _with_overrides(_tags.c, run_id, ids, at, standard=True)
    rows = conn.execute(q.order_by(_tags.c.customer_id, _tags.c.dimension, q.selected_columns.ov_decided_at))
    seen: dict[tuple[str, str], int] = {}
    for r in rows.mappings():
        tag, ov = _split_override(dict(r))
        key = (tag["customer_id"], tag["dimension"])
        if key in seen:  # two in force at once cannot be approved; the later decision wins, as before
            out[key[0]][seen[key]] = apply_override(tag, ov)
            continue
        seen[key] = len(out[key[0]])
        out[key[0]].append(apply_override(tag, ov))
    return out


def tag_values(
    conn: Connection, keys: Sequence[tuple[str, str]], run_id: int | None = None
) -> dict[tuple[str, str], str]:
    """(customer_id, dimension) → the effective value in the latest run (or `run_id`), overrides
    in force applied: what a table row shows, without the explanation columns a full tag carries."""
    run_id = run_id if run_id is not None else latest_run_id(conn)
    if run_id is None or not keys:
        return {}
    ids, dims = sorted({k[0] for k in keys}), sorted({k[1] for k in keys})
    q = _with_overrides((_tags.c.customer_id, _tags.c.dimension, _tags.c.value), run_id, ids, None)
    q = q.where(_tags.c.dimension.in_(dims))
    out: dict[tuple[str, str], str] = {}
    for r in conn.execute(q.order_by(q.selected_columns.ov_decided_at)).mappings():
        out[(r["customer_id"], r["dimension"])] = r["ov_value"] if r["ov_override_id"] is not None else r["value"]
    return out


def household_ids(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    """Household of each customer id (callers pass only ids they may see)."""
    rows = conn.execute(
        sa.select(_household_members.c.customer_id, _household_members.c.household_id).where(
            _household_members.c.customer_id.in_(list(ids))
        )
    )
    return dict(rows.all())
