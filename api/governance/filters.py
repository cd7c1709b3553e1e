"""Override and audit-log inputs."""

from __future__ import annotations

import datetime as dt

import strawberry

__all__ = ["AuditFilter", "OverrideFilter", "ProposeOverrideInput"]


@strawberry.input(description="Every condition given must hold.")
class AuditFilter:
    actor: str | None = None
    action: str | None = strawberry.field(
        default=None, description="An action (`override.approved`); ending in `.` or `*`, a prefix (`override.`)."
    )
    entity_type: str | None = strawberry.field(
        default=None, description="override, alert, classification_run, customer, feedback …"
    )
    entity_id: str | None = None
    since: dt.datetime | None = None


@strawberry.input(description="Every condition given must hold.")
class OverrideFilter:
    status: str | None = strawberry.field(default=None, description="proposed, approved, rejected, revoked or expired.")
    customer_id: strawberry.ID | None = strawberry.field(default=None, description="A customer or an enterprise.")
    dimension: str | None = None
    proposed_by: str | None = None


@strawberry.input
class ProposeOverrideInput:
    customer_id: strawberry.ID
    dimension: str
    value: str = strawberry.field(description="A value the live standard lists for the dimension.")
    reason: str
    expires_on: dt.date | None = strawberry.field(default=None, description="The override stops applying on this day.")
