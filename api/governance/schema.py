"""Governance queries and mutations."""
from __future__ import annotations

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from ...graph.access import Permission
from ...graph.audit import MAX_AUDIT_PAGE
from ...jobs.changes import MAX_CHANGES
from ...jobs.history import MAX_RUNS_PAGE
from ..errors import Requires
from . import mutations as M
from . import resolvers as R
from .filters import AuditFilter, ProposeOverrideInput
from .types import AuditConnection, ChangeConnection, ClassificationRun, Migration, RunConnection

__all__ = ["GovernanceQuery", "GovernanceMutation"]


@strawberry.type
class GovernanceQuery:
    @strawberry.field(description=f"Classification runs, newest first (`first` ≤ {MAX_RUNS_PAGE}).")
    async def runs(self, info: Info, first: int = 20, after: str | None = None) -> RunConnection:
        return await R.resolve_runs(info, first, after)

    @strawberry.field(description="One run by number with its status (follow a started run here), or null.")
    async def run(self, info: Info, id: int) -> ClassificationRun | None:
        return await R.resolve_run(info, id)

    @strawberry.field(description="Who moved from which value to which between two published runs, as the matrix's "
                                  "non-empty cells (relationship managers: their book).")
    async def migration(self, info: Info, from_run: int, to_run: int, dimension: str) -> Migration:
        return await R.resolve_migration(info, from_run, to_run, dimension)

    @strawberry.field(description=f"The audit log, oldest first (`first` ≤ {MAX_AUDIT_PAGE}); needs `read_audit`.",
                      extensions=[PermissionExtension([Requires(Permission.READ_AUDIT)], use_directives=False)])
    async def audit_log(self, info: Info, filter: AuditFilter | None = None, first: int = 100,
                        after: str | None = None) -> AuditConnection:
        return await R.resolve_audit_log(info, filter, first, after)

    @strawberry.field(description=f"The classification change feed after a cursor, oldest first (`first` ≤ "
                                  f"{MAX_CHANGES - 1:,}); relationship managers see their book's changes.")
    async def classification_changes(self, info: Info, after: str | None = None,
                                     first: int = 1000) -> ChangeConnection:
        return await R.resolve_changes(info, after, first)


@strawberry.type
class GovernanceMutation:
    @strawberry.mutation(description="Start an on-demand classification run with the live standard. Returns at once "
                                     "with the queued run; the server does it in the background (see `run(id)`).")
    async def start_run(self, info: Info) -> M.StartRunResult:
        return await M.start_run(info)

    @strawberry.mutation(description="Classify current data with a draft standard (its YAML text) and diff it with "
                                     "the live run. Publishes nothing.")
    async def what_if(self, info: Info, standard: str, sample: int = 20) -> M.WhatIfResult:
        return await M.what_if(info, standard, sample)

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
