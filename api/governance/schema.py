"""Override and audit-log queries and mutations: one class per concept, so the root schema can
merge them in the published SDL's field order (see `api/schema.py`)."""

from __future__ import annotations

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from clientstrata.api.errors import Requires
from clientstrata.graph.record.access import Permission
from clientstrata.graph.record.audit import MAX_AUDIT_PAGE
from clientstrata.jobs.governance.overrides import MAX_OVERRIDES_PAGE

from . import mutations as M
from . import resolvers as R
from .filters import AuditFilter, OverrideFilter, ProposeOverrideInput
from .types import AuditConnection, Override, OverrideConnection

__all__ = ["OverrideQuery", "AuditQuery", "OverrideMutation"]


@strawberry.type
class OverrideQuery:
    @strawberry.field(
        description="One manual override by number, or null (also when its customer is not in a "
        "relationship manager's book)."
    )
    async def override(self, info: Info, id: int) -> Override | None:
        return await R.resolve_override(info, id)

    @strawberry.field(
        description=f"Manual overrides in every state, oldest first (`first` ≤ {MAX_OVERRIDES_PAGE:,}): "
        "e.g. the proposals awaiting a checker; relationship managers see their book's."
    )
    async def overrides(
        self, info: Info, filter: OverrideFilter | None = None, first: int = 100, after: str | None = None
    ) -> OverrideConnection:
        return await R.resolve_overrides(info, filter, first, after)


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description=f"The audit log, oldest first (`first` ≤ {MAX_AUDIT_PAGE}); needs `read_audit`.",
        extensions=[PermissionExtension([Requires(Permission.READ_AUDIT)], use_directives=False)],
    )
    async def audit_log(
        self, info: Info, filter: AuditFilter | None = None, first: int = 100, after: str | None = None
    ) -> AuditConnection:
        return await R.resolve_audit_log(info, filter, first, after)


@strawberry.type
class OverrideMutation:
    @strawberry.mutation(description="Propose a manual value for a customer's tag (the maker), with a reason.")
    async def propose_override(self, info: Info, input: ProposeOverrideInput) -> M.ProposeOverrideResult:
        return await M.propose_override(info, input)

    @strawberry.mutation(description="Approve a proposed override (a checker other than its proposer).")
    async def approve_override(self, info: Info, id: int, note: str | None = None) -> M.ApproveOverrideResult:
        return await M.approve_override(info, id, note)

    @strawberry.mutation(description="Reject a proposed override (a checker other than its proposer), saying why.")
    async def reject_override(self, info: Info, id: int, note: str) -> M.RejectOverrideResult:
        return await M.reject_override(info, id, note)

    @strawberry.mutation(description="Stop an approved override now; readers see the computed value again.")
    async def revoke_override(self, info: Info, id: int, reason: str) -> M.RevokeOverrideResult:
        return await M.revoke_override(info, id, reason)
