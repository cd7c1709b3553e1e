"""The audit log: who did what, when and why. Append-only; written in the same transaction
as the step it records (callers pass their open connection), so a step and its audit entry
commit or vanish together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import InvalidInput

from .models import AuditEntry

__all__ = ["record", "record_many", "audit_trail", "audit_page", "MAX_AUDIT_PAGE"]

MAX_AUDIT_PAGE = 1000

_audit_log = AuditEntry.__table__


def record(
    conn: Connection,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: object = None,
    details: dict | None = None,
    at: dt.datetime | None = None,
) -> None:
    conn.execute(
        sa.insert(_audit_log).values(
            at=at or utcnow(),
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=None if entity_id is None else str(entity_id),
            details=details,
        )
    )


def record_many(
    conn: Connection,
    actor: str,
    action: str,
    entity_type: str,
    entries: Iterable[tuple[object, dict | None]],
    at: dt.datetime | None = None,
) -> None:
    """One entry per (entity_id, details), in one statement: e.g. every PII value a request served."""
    at = at or utcnow()
    rows = [
        {
            "at": at,
            "actor": actor,
            "action": action,
            "entity_type": entity_type,
            "entity_id": None if eid is None else str(eid),
            "details": details,
        }
        for eid, details in entries
    ]
    if rows:
        conn.execute(sa.insert(_audit_log), rows)


def audit_trail(
    conn: Connection,
    entity_type: str | None = None,
    entity_id: object = None,
    actor: str | None = None,
    action: str | None = None,
) -> pd.DataFrame:
    """Audit entries in the order they were written, optionally for one entity or actor."""
    q = sa.select(_audit_log)
    if entity_type:
        q = q.where(_audit_log.c.entity_type == entity_type)
    if entity_id is not None:
        q = q.where(_audit_log.c.entity_id == str(entity_id))
    if actor:
        q = q.where(_audit_log.c.actor == actor)
    if action:
        q = q.where(_audit_log.c.action == action)
    rows = conn.execute(q.order_by(_audit_log.c.audit_id)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in _audit_log.columns])


def audit_page(
    conn: Connection,
    first: int = 100,
    after: int = 0,
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: object = None,
    since: dt.datetime | None = None,
) -> tuple[list[dict], bool]:
    """Entries with audit_id > `after` in the order they were written, at most `first`
    (keyset paging: pass the last audit_id back), and whether more follow. `action` ending in
    `.` or `*` is a prefix (`override.` is every override step)."""
    if not 1 <= first <= MAX_AUDIT_PAGE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_AUDIT_PAGE:,}")
    q = sa.select(_audit_log).where(_audit_log.c.audit_id > after)
    if actor:
        q = q.where(_audit_log.c.actor == actor)
    if action:
        q = q.where(
            _audit_log.c.action.startswith(action.rstrip("*"), autoescape=True)
            if action.endswith((".", "*"))
            else _audit_log.c.action == action
        )
    if entity_type:
        q = q.where(_audit_log.c.entity_type == entity_type)
    if entity_id is not None:
        q = q.where(_audit_log.c.entity_id == str(entity_id))
    if since is not None:
        q = q.where(_audit_log.c.at >= since)
    rows = conn.execute(q.order_by(_audit_log.c.audit_id).limit(first + 1)).mappings().all()
    return [dict(r) for r in rows[:first]], len(rows) > first
