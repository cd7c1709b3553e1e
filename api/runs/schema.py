"""Run, what-if and change-feed queries and mutations: one class per concept, so the root
schema can merge them in the published SDL's field order (see `api/schema.py`)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from clientstrata.api.errors import Requires
from clientstrata.graph.record.access import Permission
from clientstrata.jobs.runs.changes import MAX_CHANGES
from clientstrata.jobs.runs.history import MAX_RUNS_PAGE
from clientstrata.jobs.runs.whatif_requests import MAX_SAMPLE

from . import mutations as M
from . import resolvers as R
from .types import ChangeConnection, ClassificationRun, Migration, RunConnection, WhatIf

__all__ = ["RunQuery", "WhatIfQuery", "ChangeFeedQuery", "RunMutation", "WhatIfMutation"]


@strawberry.type
class RunQuery:
    @strawberry.field(description=f"Classification runs, newest first (`first` ≤ {MAX_RUNS_PAGE}).")
    async def runs(self, info: Info, first: int = 20, after: str | None = None) -> RunConnection:
        return await R.resolve_runs(info, first, after)

    @strawberry.field(description="One run by number with its status (follow a started run here), or null.")
    async def run(self, info: Info, id: int) -> ClassificationRun | None:
        return await R.resolve_run(info, id)

    @strawberry.field(
        description="Who moved from which value to which between two published runs, as the matrix's "
        "non-empty cells (relationship managers: their book)."
    )
    async def migration(self, info: Info, from_run: int, to_run: int, dimension: str) -> Migration:
        return await R.resolve_migration(info, from_run, to_run, dimension)


@strawberry.type
class WhatIfQuery:
    @strawberry.field(
        description="A what-if by number (as `whatIf(standard:)` returned it): its status and, once "
        "done, its report; null if there is none. Needs `whatif`.",
        extensions=[PermissionExtension([Requires(Permission.WHATIF)], use_directives=False)],
    )
    async def what_if(self, info: Info, id: int) -> WhatIf | None:
        return await R.resolve_whatif(info, id)


@strawberry.type
class ChangeFeedQuery:
    @strawberry.field(
        description=f"The classification change feed after a cursor, oldest first (`first` ≤ "
        f"{MAX_CHANGES - 1:,}); relationship managers see their book's changes."
    )
    async def classification_changes(self, info: Info, after: str | None = None, first: int = 1000) -> ChangeConnection:
        return await R.resolve_changes(info, after, first)


@strawberry.type
class RunMutation:
    @strawberry.mutation(
        description="Start an on-demand classification run with the live standard. Returns at once "
        "with the queued run; the server does it in the background (see `run(id)`)."
    )
    async def start_run(self, info: Info) -> M.StartRunResult:
        return await M.start_run(info)


@strawberry.type
class WhatIfMutation:
    @strawberry.mutation(
        description="Check a draft standard (its YAML text) at once — a bad one is refused with its "
        "line — and queue a what-if of it: the server classifies current data with it in "
        "the background and diffs it with the live run (see `whatIf(id)`). Publishes "
        "nothing."
    )
    async def what_if(
        self,
        info: Info,
        standard: str,
        sample: Annotated[
            int, strawberry.argument(description=f"Movers kept per dimension in the report (0–{MAX_SAMPLE}).")
        ] = 20,
    ) -> M.WhatIfResult:
        return await M.what_if(info, standard, sample)
