"""Next-best-action queries and mutations (`Customer.nextBestActions` is on the customer type)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from . import actions_resolvers as R
from .actions_types import ActionEffect, WorkItem

__all__ = ["ActionQuery", "ActionMutation"]


@strawberry.type
class ActionQuery:
    @strawberry.field(
        description="A relationship manager's work list: open actions of the latest run and open alerts, due first. "
        "An RM gets their own; other roles name `rmId` (or get every book's)."
    )
    async def worklist(self, info: Info, rm_id: str | None = None, first: int = 200) -> list[WorkItem]:
        return await R.resolve_worklist(info, rm_id, first)

    @strawberry.field(
        description="Each action's effect per segment against its control group (a run's; default the latest "
        "with actions). Relationship managers: their book's."
    )
    async def strategy_effect(self, info: Info, run_id: int | None = None) -> list[ActionEffect]:
        return await R.resolve_effect(info, run_id)


@strawberry.type
class ActionMutation:
    @strawberry.mutation(description="Record what came of an action on a work list (audited).")
    async def record_action_outcome(self, info: Info, input: R.RecordActionOutcomeInput) -> R.RecordActionOutcomeResult:
        return await R.record_action_outcome(info, input)
