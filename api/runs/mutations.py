"""Run and what-if mutations: the permission check, then a request queued for the server's
RunWorker, answered at once with what was queued; refusals typed (`api.errors.as_error`)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry
from strawberry.types import Info

from clientstrata.api.errors import InvalidInput, InvalidStandard, NotAllowed, as_error
from clientstrata.graph.errors import ClientStrataError
from clientstrata.graph.record.access import Permission
from clientstrata.jobs.runs.history import get_run
from clientstrata.jobs.runs.whatif_requests import get_whatif

from .types import ClassificationRun, WhatIf

__all__ = ["StartRunResult", "WhatIfResult", "start_run", "what_if"]

StartRunResult = Annotated[ClassificationRun | NotAllowed, strawberry.union("StartRunResult")]
WhatIfResult = Annotated[WhatIf | InvalidStandard | InvalidInput | NotAllowed, strawberry.union("WhatIfResult")]


async def start_run(info: Info):
    """Queue an on-demand run with the live standard and return it at once (status `queued`);
    the server's RunWorker does it in the background. Follow it with `run(id)`."""
    ctx = info.context
    try:
        ctx.principal.require(Permission.START_RUN)
        run_id = await asyncio.to_thread(ctx.runs.start, ctx.principal.actor)
        return ClassificationRun.from_row(await ctx.run(get_run, run_id))
    except ClientStrataError as exc:
        return as_error(exc, (NotAllowed,))


async def what_if(info: Info, standard: str, sample: int):
    """Check the draft (YAML text) now and queue it; the server's RunWorker does it in the
    background. Returns the queued what-if at once; publishes nothing."""
    ctx = info.context
    try:
        ctx.principal.require(Permission.WHATIF)
        whatif_id = await asyncio.to_thread(ctx.runs.start_whatif, ctx.principal.actor, standard, sample)
        return WhatIf.from_row(await ctx.run(get_whatif, whatif_id))
    except ClientStrataError as exc:
        return as_error(exc, (InvalidStandard, InvalidInput, NotAllowed))
