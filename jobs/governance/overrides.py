"""Manual overrides (人工审核), maker–checker: one person proposes a value with a reason, a
second person approves or rejects it. An approved override applies on every read (latest,
as-of, API) over the computed value — which readers still see — and survives re-runs until
it expires or is revoked. Every step is audited; approving, revoking and expiring append to
the change feed when the value readers see changes.

Each function takes a connection in a transaction the caller commits (`engine.begin()`),
so a step, its audit entry and its change-feed row commit together."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record import audit
from clientstrata.graph.record.access import book_subjects, require_in_book
from clientstrata.graph.record.models import Enterprise, Individual, Override
from clientstrata.graph.record.queries import latest_run_id
from clientstrata.jobs.errors import (
    ActorRequired,
    InvalidState,
    InvalidValue,
    MakerIsChecker,
    ReasonRequired,
    UnknownDimension,
)
from clientstrata.jobs.runs.changes import append_changes, effective_value, lock_feed
from clientstrata.jobs.runs.notify import override_notification_rows, write_notifications

from .standards import current_dimensions, dimension_values, governance_of, live_standard

__all__ = [
    "OverrideRecord",
    "propose_override",
    "approve_override",
    "reject_override",
    "revoke_override",
    "expire_overrides",
    "get_override",
    "list_overrides",
    "overrides_page",
    "STATUSES",
    "MAX_OVERRIDES_PAGE",
]

_overrides = Override.__table__
STATUSES = ("proposed", "approved", "rejected", "revoked", "expired")
MAX_OVERRIDES_PAGE = 1000


@dataclass(frozen=True)
class OverrideRecord:
    override_id: int
    customer_id: str
    dimension: str
    value: str
    label_zh: str | None
    label_en: str | None
    reason: str
    status: str  # proposed → approved | rejected; approved → revoked | expired
    proposed_by: str
    proposer_person: str | None  # the person behind the proposing token; None: an operator (CLI)
    proposed_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str | None
    expires_on: dt.date | None
    revoked_by: str | None
    revoked_at: dt.datetime | None

    def to_dict(self) -> dict:
        return asdict(self)

    def __repr__(self) -> str:
        return (
            f"OverrideRecord(#{self.override_id} {self.customer_id} {self.dimension}={self.value!r}, "
            f"status={self.status!r})"
        )


def _actor(actor: str | None) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise ActorRequired("who is acting? pass --actor NAME or set CLIENTSTRATA_ACTOR")
    return actor


def _acting(person: str | None) -> dict:
    """How the actor acted, for the audit entry: as a person (an API token's holder) or as an
    operator (the CLI's `--actor`, a name nobody vouched for)."""
    return {"person": person} if person else {"via": "operator"}


def _same_person(ov: OverrideRecord, actor: str, person: str | None) -> bool:
    """Whether the checker is the override's maker. Two token holders are compared by person
    alone (token names are free text: one person may hold several). When either side acted as
    an operator, a name is all there is: it is compared with every name the other side has."""
    if person and ov.proposer_person:
        return person.casefold() == ov.proposer_person.casefold()
    mine = {actor.casefold(), (person or actor).casefold()}
    theirs = {ov.proposed_by.casefold(), (ov.proposer_person or ov.proposed_by).casefold()}
    return bool(mine & theirs)


def _text(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ReasonRequired(f"{what} is required: say why, for the audit trail")
    return text


def get_override(conn: Connection, override_id: int, book: str | None = None) -> OverrideRecord:
    """One override. With `book` (a relationship manager's id) an override on a customer outside
    that book is not found (`OutOfBook`, which reads as `NotFound`): an RM learns nothing of other
    books' overrides, not even that they exist."""
    row = conn.execute(sa.select(_overrides).where(_overrides.c.override_id == override_id)).mappings().first()
    if row is None:
        raise NotFound("override", str(override_id))
    require_in_book(conn, row["customer_id"], book, kind="override", key=override_id)
    return OverrideRecord(**dict(row))


def _matching(
    customer_id: str | None, status: str | None, dimension: str | None, proposed_by: str | None, book: str | None
) -> sa.Select:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"`status` must be one of {', '.join(STATUSES)}, not {status!r}")
    q = sa.select(_overrides)
    for col, val in (
        ("customer_id", customer_id),
        ("status", status),
        ("dimension", dimension),
        ("proposed_by", proposed_by),
    ):
        if val:
            q = q.where(_overrides.c[col] == val)
    if book is not None:
        q = q.where(_overrides.c.customer_id.in_(book_subjects(book)))
    return q


def list_overrides(
    conn: Connection,
    customer_id: str | None = None,
    status: str | None = None,
    dimension: str | None = None,
    proposed_by: str | None = None,
    book: str | None = None,
) -> pd.DataFrame:
    """Every override matching the filters, oldest first, one row each: a reviewer's queue
    (`status="proposed"`) or a customer's history in a notebook. `book` as in `get_override`."""
    q = _matching(customer_id, status, dimension, proposed_by, book)
    rows = conn.execute(q.order_by(_overrides.c.override_id)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in _overrides.columns])


def overrides_page(
    conn: Connection,
    first: int = 100,
    after: int = 0,
    customer_id: str | None = None,
    status: str | None = None,
    dimension: str | None = None,
    proposed_by: str | None = None,
    book: str | None = None,
) -> tuple[list[OverrideRecord], bool]:
    """Overrides numbered above `after`, oldest first, at most `first` (keyset paging: pass the
    last override_id back), and whether more follow; filters and `book` as in `list_overrides`."""
    if not 1 <= first <= MAX_OVERRIDES_PAGE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_OVERRIDES_PAGE:,}")
    q = _matching(customer_id, status, dimension, proposed_by, book).where(_overrides.c.override_id > after)
    rows = conn.execute(q.order_by(_overrides.c.override_id).limit(first + 1)).mappings().all()
    return [OverrideRecord(**dict(r)) for r in rows[:first]], len(rows) > first


def _customer_exists(conn: Connection, customer_id: str) -> bool:
    individuals, enterprises = Individual.__table__, Enterprise.__table__
    return bool(
        conn.execute(sa.select(individuals.c.customer_id).where(individuals.c.customer_id == customer_id)).first()
        or conn.execute(
            sa.select(enterprises.c.enterprise_id).where(enterprises.c.enterprise_id == customer_id)
        ).first()
    )


def _check_value(dims: dict, dimension: str, value: str) -> tuple[str | None, str | None]:
    """The value's labels, after checking the live standard knows the dimension and allows it."""
    if dimension not in dims:
        raise UnknownDimension(f"unknown dimension {dimension!r} (the standard has: {', '.join(sorted(dims))})")
    allowed = dimension_values(dims[dimension])
    if not allowed:  # the standard lists no values (a score, a free label): any non-empty value
        return None, None
    if value in allowed:
        return allowed[value]
    parts = [p.strip() for p in value.split(",")]
    if len(parts) > 1 and all(p in allowed for p in parts):  # multi-label dimensions
        return ",".join(allowed[p][0] for p in parts), ",".join(allowed[p][1] for p in parts)
    raise InvalidValue(f"{value!r} is not a value of {dimension} (values: {', '.join(allowed)})")


def propose_override(
    conn: Connection,
    actor: str,
    customer_id: str,
    dimension: str,
    value: str,
    reason: str,
    expires_on: dt.date | None = None,
    today: dt.date | None = None,
    at: dt.datetime | None = None,
    book: str | None = None,
    person: str | None = None,
) -> OverrideRecord:
    """Propose `value` for a customer's tag (the maker). It applies only once approved. With
    `book` (a relationship manager's id) only customers in that book may be proposed for.
    `person`: who holds the proposing token; None for an operator (the CLI's `--actor`)."""
    actor, reason = _actor(actor), _text(reason, "a reason")
    require_in_book(conn, customer_id, book)
    value = (value or "").strip()
    if not value:
        raise InvalidValue("a value is required")
    if not _customer_exists(conn, customer_id):
        raise NotFound("customer", customer_id)
    label_zh, label_en = _check_value(current_dimensions(conn), dimension, value)
    at = at or utcnow()
    today = today or at.date()
    if expires_on is not None and expires_on <= today:
        raise InvalidValue(f"expires_on {expires_on} is not after today ({today}): the override would never apply")
    oid = conn.execute(
        sa.insert(_overrides).values(
            customer_id=customer_id,
            dimension=dimension,
            value=value,
            label_zh=label_zh,
            label_en=label_en,
            reason=reason,
            status="proposed",
            proposed_by=actor,
            proposer_person=person or None,
            proposed_at=at,
            expires_on=expires_on,
        )
    ).inserted_primary_key[0]
    audit.record(
        conn,
        actor,
        "override.proposed",
        "override",
        oid,
        {
            "customer_id": customer_id,
            "dimension": dimension,
            "value": value,
            "reason": reason,
            "expires_on": expires_on.isoformat() if expires_on else None,
            **_acting(person),
        },
        at=at,
    )
    return get_override(conn, oid)


def _pending(
    conn: Connection, actor: str, person: str | None, override_id: int, step: str, book: str | None
) -> OverrideRecord:
    ov = get_override(conn, override_id, book)
    if ov.status != "proposed":
        raise InvalidState(f"override #{override_id} is {ov.status}; only a proposed override can be {step}")
    if _same_person(ov, actor, person):
        raise MakerIsChecker(
            f"override #{override_id} was proposed by {ov.proposed_by}: a second person must decide it (maker–checker)"
        )
    return ov


def _transition(conn: Connection, ov: OverrideRecord, expect: str, **values) -> None:
    # conditional on the state we read: two deciders racing cannot both win
    done = conn.execute(
        sa.update(_overrides)
        .where(_overrides.c.override_id == ov.override_id, _overrides.c.status == expect)
        .values(**values)
    ).rowcount
    if done != 1:
        raise InvalidState(f"override #{ov.override_id} changed while being decided; read it again")


def _notify(
    conn: Connection, override: dict, step: str, before: str | None, after: str | None, run: int | None, at
) -> None:
    """A decision that moves a notified tag tells the customer, as a run would (no run yet: no
    letter, as a first classification writes none)."""
    if run is None or before == after:
        return
    std = live_standard(conn)
    labels = dimension_values(std.dimensions.get(override["dimension"], {}))
    write_notifications(
        conn, override_notification_rows(governance_of(std), labels, override, step, before, after, run, at)
    )


def _feed_change(
    conn: Connection,
    ov: OverrideRecord,
    before: str | None,
    after: str | None,
    at: dt.datetime,
    step: str,
    run: int | None,
) -> None:
    """An approval or revocation that moves the customer's effective value goes on the change
    feed, and to the customer when the tag is one the standard notifies."""
    _notify(conn, ov.to_dict(), step, before, after, run, at)
    if before != after:
        append_changes(
            conn,
            [
                {
                    "at": at,
                    "source": "override",
                    "override_id": ov.override_id,
                    "customer_id": ov.customer_id,
                    "dimension": ov.dimension,
                    "old_value": before,
                    "new_value": after,
                }
            ],
        )


def approve_override(
    conn: Connection,
    actor: str,
    override_id: int,
    note: str | None = None,
    at: dt.datetime | None = None,
    person: str | None = None,
    book: str | None = None,
) -> OverrideRecord:
    """Approve (the checker, not the maker: another person). An override already in force on the
    same tag is revoked at the same instant: one override per tag applies at a time. `person` and
    `book` as in `propose_override`."""
    actor = _actor(actor)
    lock_feed(conn)
    ov = _pending(conn, actor, person, override_id, "approved", book)
    at = at or utcnow()
    if ov.expires_on is not None and ov.expires_on <= at.date():
        raise InvalidState(f"override #{override_id} expired on {ov.expires_on}; propose it again")
    run = latest_run_id(conn)
    before = effective_value(conn, run, ov.customer_id, ov.dimension, at)
    prior = (
        conn.execute(
            sa.select(_overrides.c.override_id).where(
                _overrides.c.customer_id == ov.customer_id,
                _overrides.c.dimension == ov.dimension,
                _overrides.c.status == "approved",
                sa.or_(_overrides.c.revoked_at.is_(None), _overrides.c.revoked_at > at),
            )
        )
        .scalars()
        .all()
    )
    for pid in prior:
        conn.execute(
            sa.update(_overrides)
            .where(_overrides.c.override_id == pid)
            .values(status="revoked", revoked_by=actor, revoked_at=at)
        )
        audit.record(conn, actor, "override.superseded", "override", pid, {"by_override": override_id}, at=at)
    _transition(
        conn,
        ov,
        "proposed",
        status="approved",
        decided_by=actor,
        decided_at=at,
        decision_note=(note or "").strip() or None,
    )
    after = effective_value(conn, run, ov.customer_id, ov.dimension, at)
    _feed_change(conn, ov, before, after, at, "approved", run)
    audit.record(
        conn,
        actor,
        "override.approved",
        "override",
        override_id,
        {
            "customer_id": ov.customer_id,
            "dimension": ov.dimension,
            "value": ov.value,
            "note": note,
            "previous_value": before,
            "superseded": prior,
            **_acting(person),
        },
        at=at,
    )
    return get_override(conn, override_id)


def reject_override(
    conn: Connection,
    actor: str,
    override_id: int,
    note: str,
    at: dt.datetime | None = None,
    person: str | None = None,
    book: str | None = None,
) -> OverrideRecord:
    """Reject a proposal (the checker, not the maker); the note says why."""
    actor, note = _actor(actor), _text(note, "a note")
    ov = _pending(conn, actor, person, override_id, "rejected", book)
    at = at or utcnow()
    _transition(conn, ov, "proposed", status="rejected", decided_by=actor, decided_at=at, decision_note=note)
    audit.record(conn, actor, "override.rejected", "override", override_id, {"note": note, **_acting(person)}, at=at)
    return get_override(conn, override_id)


def revoke_override(
    conn: Connection,
    actor: str,
    override_id: int,
    reason: str,
    at: dt.datetime | None = None,
    person: str | None = None,
    book: str | None = None,
) -> OverrideRecord:
    """Stop an approved override now; readers see the computed value again."""
    actor, reason = _actor(actor), _text(reason, "a reason")
    lock_feed(conn)
    ov = get_override(conn, override_id, book)
    at = at or utcnow()
    if ov.status != "approved":
        raise InvalidState(f"override #{override_id} is {ov.status}; only an approved override can be revoked")
    run = latest_run_id(conn)
    before = effective_value(conn, run, ov.customer_id, ov.dimension, at)
    _transition(conn, ov, "approved", status="revoked", revoked_by=actor, revoked_at=at)
    after = effective_value(conn, run, ov.customer_id, ov.dimension, at)
    _feed_change(conn, ov, before, after, at, "revoked", run)
    audit.record(conn, actor, "override.revoked", "override", override_id, {"reason": reason, **_acting(person)}, at=at)
    return get_override(conn, override_id)


def expire_overrides(
    conn: Connection, today: dt.date | None = None, actor: str = "system", run_id: int | None = None
) -> list[int]:
    """Mark approved overrides whose `expires_on` has come as expired, appending each one's
    change (override value → computed value of `run_id`, default the latest run). Reads stop
    applying an override on its expiry day whether or not this has run; this keeps the status
    and the change feed in step (the daily `classify --if-due` and every publish call it)."""
    lock_feed(conn)
    at = utcnow()
    today = today or at.date()
    due = (
        conn.execute(
            sa.select(_overrides)
            .where(
                _overrides.c.status == "approved",
                _overrides.c.expires_on <= today,
                sa.or_(_overrides.c.revoked_at.is_(None), _overrides.c.revoked_at > at),
            )
            .order_by(_overrides.c.override_id)
        )
        .mappings()
        .all()
    )
    run = run_id if run_id is not None else latest_run_id(conn)
    for ov in due:
        stamp = max(at, dt.datetime.combine(ov["expires_on"], dt.time()))
        conn.execute(
            sa.update(_overrides).where(_overrides.c.override_id == ov["override_id"]).values(status="expired")
        )
        after = effective_value(conn, run, ov["customer_id"], ov["dimension"], stamp)
        before = ov["value"] if after is not None else None
        _notify(conn, dict(ov), "expired", before, after, run, at)
        if before != after:
            append_changes(
                conn,
                [
                    {
                        "at": at,
                        "source": "override",
                        "override_id": ov["override_id"],
                        "customer_id": ov["customer_id"],
                        "dimension": ov["dimension"],
                        "old_value": before,
                        "new_value": after,
                    }
                ],
            )
        audit.record(
            conn,
            actor,
            "override.expired",
            "override",
            ov["override_id"],
            {"expires_on": ov["expires_on"].isoformat(), "value_now": after},
            at=at,
        )
    return [ov["override_id"] for ov in due]
