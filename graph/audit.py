"""The audit trail: who did what, when and why. Append-only; callers pass their open
connection so an audited action and its audit row commit together."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .models import AuditEntry

__all__ = ["audit", "audit_many"]


def audit(conn: Connection, actor: str, action: str, entity_type: str, entity_id: str | None,
          details: dict | None = None, at: dt.datetime | None = None) -> None:
    audit_many(conn, actor, action, entity_type, [(entity_id, details)], at)


def audit_many(conn: Connection, actor: str, action: str, entity_type: str,
               entries: Iterable[tuple[str | None, dict | None]], at: dt.datetime | None = None) -> None:
    at = at or dt.datetime.now()
    rows = [{"at": at, "actor": actor, "action": action, "entity_type": entity_type, "entity_id": eid,
             "details": details} for eid, details in entries]
    if rows:
        conn.execute(sa.insert(AuditEntry), rows)
