"""Override and audit-log types. Transport only: each is built from what a domain function returned."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.scalars import JSON

from clientstrata.api.labels import MaybeLabelled
from clientstrata.api.pagination import PageInfo

__all__ = [
    "Override",
    "OverrideEdge",
    "OverrideConnection",
    "AuditEntry",
    "AuditEdge",
    "AuditConnection",
]


@strawberry.type(description="A manual override (人工审核) of one tag: proposed by one person, decided by another.")
class Override(MaybeLabelled):
    id: int
    customer_id: strawberry.ID
    dimension: str
    value: str
    reason: str
    status: str = strawberry.field(description="proposed → approved | rejected; approved → revoked | expired.")
    proposed_by: str
    proposer_person: str | None = strawberry.field(
        description="The person who proposed it (behind their token); null when an operator proposed it "
        "through the CLI. Maker–checker compares this, not `proposedBy`, a token's name."
    )
    proposed_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str | None
    expires_on: dt.date | None
    revoked_by: str | None
    revoked_at: dt.datetime | None

    @classmethod
    def from_record(cls, o) -> Override:
        """From `jobs.governance.overrides.OverrideRecord`, field for field (`override_id` is `id`); a test
        keeps the two field lists equal."""
        d = o.to_dict()
        d["id"] = d.pop("override_id")
        return cls(**d)


@strawberry.type
class OverrideEdge:
    cursor: str
    node: Override


@strawberry.type(description="Overrides, oldest first.")
class OverrideConnection:
    edges: list[OverrideEdge]
    page_info: PageInfo


@strawberry.type(description="Who did what, when and why.")
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    details: JSON | None

    @classmethod
    def from_row(cls, r: dict) -> AuditEntry:
        return cls(
            id=r["audit_id"],
            at=r["at"],
            actor=r["actor"],
            action=r["action"],
            entity_type=r["entity_type"],
            entity_id=r["entity_id"],
            details=r["details"],
        )


@strawberry.type
class AuditEdge:
    cursor: str
    node: AuditEntry


@strawberry.type(description="Audit entries in the order they were written.")
class AuditConnection:
    edges: list[AuditEdge]
    page_info: PageInfo
