"""Run, what-if and change-feed queries: one call each into the domain functions."""

from __future__ import annotations

from functools import partial

from strawberry.types import Info

from clientstrata.api.pagination import PageInfo, decode_cursor, encode_cursor
from clientstrata.graph.errors import NotFound
from clientstrata.jobs.runs.changes import changes_after
from clientstrata.jobs.runs.history import get_run, migration_matrix, runs_page
from clientstrata.jobs.runs.whatif_requests import get_whatif

from .types import (
    ChangeConnection,
    ChangeEdge,
    ClassificationChange,
    ClassificationRun,
    Migration,
    MigrationCell,
    RunConnection,
    RunEdge,
    WhatIf,
)

__all__ = ["resolve_runs", "resolve_run", "resolve_migration", "resolve_whatif", "resolve_changes"]


async def resolve_runs(info: Info, first: int, after: str | None) -> RunConnection:
    rows, more = await info.context.run(runs_page, first, decode_cursor("run", after))
    edges = [RunEdge(cursor=encode_cursor("run", r["run_id"]), node=ClassificationRun.from_row(r)) for r in rows]
    return RunConnection(edges=edges, page_info=PageInfo.of(edges, more))


async def resolve_run(info: Info, id: int) -> ClassificationRun | None:
    try:
        return ClassificationRun.from_row(await info.context.run(get_run, id))
    except NotFound:
        return None


async def resolve_migration(info: Info, from_run: int, to_run: int, dimension: str) -> Migration:
    m = await info.context.run(partial(migration_matrix, book=info.context.principal.book), from_run, to_run, dimension)
    cells = [
        MigrationCell(from_value=f, to_value=t, customers=int(n))
        for f, row in m.matrix.iterrows()
        for t, n in row.items()
        if n
    ]
    return Migration(
        from_run=m.from_run,
        to_run=m.to_run,
        dimension=m.dimension,
        customers=m.customers,
        moved=len(m.moves),
        cells=cells,
    )


async def resolve_whatif(info: Info, id: int) -> WhatIf | None:
    try:
        return WhatIf.from_row(await info.context.run(get_whatif, id))
    except NotFound:
        return None


async def resolve_changes(info: Info, after: str | None, first: int) -> ChangeConnection:
    rows = await info.context.run(
        partial(changes_after, book=info.context.principal.book), decode_cursor("change", after) or 0, first + 1
    )
    edges = [
        ChangeEdge(cursor=encode_cursor("change", r["seq"]), node=ClassificationChange.from_row(r))
        for r in rows[:first]
    ]
    return ChangeConnection(edges=edges, page_info=PageInfo.of(edges, len(rows) > first))
