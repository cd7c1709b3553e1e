"""Governance mutations: the permission check, one domain call, typed refusals (`api.errors.attempt`)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry
from strawberry.types import Info

from clientstrata.api.errors import (
    InvalidInput,
    InvalidStandard,
    InvalidState,
    MakerIsChecker,
    NotAllowed,
    NotFound,
    as_error,
    attempt,
)
from clientstrata.graph.errors import ClientStrataError
from clientstrata.graph.record.access import Permission
from clientstrata.jobs.governance import overrides as O
from clientstrata.jobs.runs.history import get_run
from clientstrata.jobs.runs.whatif_requests import get_whatif

from .filters import ProposeOverrideInput
from .types import ClassificationRun, Override, WhatIf

__all__ = [
    "StartRunResult",
    "WhatIfResult",
    "ProposeOverrideResult",
    "ApproveOverrideResult",
    "RejectOverrideResult",
    "RevokeOverrideResult",
    "start_run",
    "what_if",
    "propose_override",
    "approve_override",
    "reject_override",
    "revoke_override",
]

StartRunResult = Annotated[ClassificationRun | NotAllowed, strawberry.union("StartRunResult")]
WhatIfResult = Annotated[WhatIf | InvalidStandard | InvalidInput | NotAllowed, strawberry.union("WhatIfResult")]
ProposeOverrideResult = Annotated[
    Override | NotFound | NotAllowed | InvalidInput, strawberry.union("ProposeOverrideResult")
]
ApproveOverrideResult = Annotated[
    Override | NotFound | NotAllowed | MakerIsChecker | InvalidState, strawberry.union("ApproveOverrideResult")
]
RejectOverrideResult = Annotated[
    Override | NotFound | NotAllowed | MakerIsChecker | InvalidState | InvalidInput,
    strawberry.union("RejectOverrideResult"),
]
RevokeOverrideResult = Annotated[
    Override | NotFound | NotAllowed | InvalidState | InvalidInput, strawberry.union("RevokeOverrideResult")
]


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


async def propose_override(info: Info, input: ProposeOverrideInput):
    who = info.context.principal
    return await attempt(
        info,
        Permission.PROPOSE_OVERRIDE,
        O.propose_override,
        Override.from_record,
        (NotFound, NotAllowed, InvalidInput),
        who.actor,
        str(input.customer_id),
        input.dimension,
        input.value,
        input.reason,
        expires_on=input.expires_on,
        book=who.book,
    )


async def approve_override(info: Info, id: int, note: str | None):
    return await attempt(
        info,
        Permission.DECIDE_OVERRIDE,
        O.approve_override,
        Override.from_record,
        (NotFound, NotAllowed, MakerIsChecker, InvalidState),
        info.context.principal.actor,
        id,
        note=note,
    )


async def reject_override(info: Info, id: int, note: str):
    return await attempt(
        info,
        Permission.DECIDE_OVERRIDE,
        O.reject_override,
        Override.from_record,
        (NotFound, NotAllowed, MakerIsChecker, InvalidState, InvalidInput),
        info.context.principal.actor,
        id,
        note,
    )


async def revoke_override(info: Info, id: int, reason: str):
    return await attempt(
        info,
        Permission.DECIDE_OVERRIDE,
        O.revoke_override,
        Override.from_record,
        (NotFound, NotAllowed, InvalidState, InvalidInput),
        info.context.principal.actor,
        id,
        reason,
    )
