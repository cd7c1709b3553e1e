"""Governance mutations: the permission check, one domain call, typed refusals (`api.errors.attempt`)."""
from __future__ import annotations

import asyncio
from typing import Annotated, Union

import strawberry
from strawberry.types import Info

from ...graph.access import Permission
from ...graph import errors as graph_errors
from ...graph.errors import ClientStrataError
from ...jobs import overrides as O
from ...jobs.history import get_run
from ...jobs.standard import parse_standard
from ...jobs.whatif import whatif
from ..errors import (InvalidInput, InvalidStandard, InvalidState, MakerIsChecker, NotAllowed, NotFound, as_error,
                      attempt)
from .filters import ProposeOverrideInput
from .types import ClassificationRun, DimensionMovement, MigrationCell, Mover, Override, WhatIfReport

__all__ = ["StartRunResult", "WhatIfResult", "ProposeOverrideResult", "ApproveOverrideResult",
           "RejectOverrideResult", "RevokeOverrideResult", "start_run", "what_if", "propose_override",
           "approve_override", "reject_override", "revoke_override", "MAX_SAMPLE"]

MAX_SAMPLE = 200

StartRunResult = Annotated[Union[ClassificationRun, NotAllowed], strawberry.union("StartRunResult")]
WhatIfResult = Annotated[Union[WhatIfReport, InvalidStandard, InvalidInput, NotAllowed],
                         strawberry.union("WhatIfResult")]
ProposeOverrideResult = Annotated[Union[Override, NotFound, NotAllowed, InvalidInput],
                                  strawberry.union("ProposeOverrideResult")]
ApproveOverrideResult = Annotated[Union[Override, NotFound, NotAllowed, MakerIsChecker, InvalidState],
                                  strawberry.union("ApproveOverrideResult")]
RejectOverrideResult = Annotated[Union[Override, NotFound, NotAllowed, MakerIsChecker, InvalidState, InvalidInput],
                                 strawberry.union("RejectOverrideResult")]
RevokeOverrideResult = Annotated[Union[Override, NotFound, NotAllowed, InvalidState, InvalidInput],
                                 strawberry.union("RevokeOverrideResult")]


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


def _report(w, sample: int) -> WhatIfReport:
    dims = [DimensionMovement(dimension=d["dimension"], customers=d["customers"], moved=d["moved"],
                              from_to=[MigrationCell(**c) for c in d["from_to"]],
                              sample=[Mover(**m) for m in d["sample"]]) for d in w.movements(sample)]
    return WhatIfReport(standard_version=w.standard_version, standard_sha256=w.standard_sha256,
                        base_run_id=w.base_run_id, published=False, moved=sum(d.moved for d in dims), dimensions=dims)


async def what_if(info: Info, standard: str, sample: int):
    """The draft (YAML text) against current data; publishes nothing."""
    ctx = info.context
    try:
        ctx.principal.require(Permission.WHATIF)
        if not 0 <= sample <= MAX_SAMPLE:
            raise graph_errors.InvalidInput(f"`sample` must be between 0 and {MAX_SAMPLE}")
        draft = parse_standard(standard, "draft")
        return _report(await asyncio.to_thread(whatif, ctx.engine, ctx.graph, draft), sample)
    except ClientStrataError as exc:
        return as_error(exc, (InvalidStandard, InvalidInput, NotAllowed))


async def propose_override(info: Info, input: ProposeOverrideInput):
    who = info.context.principal
    return await attempt(info, Permission.PROPOSE_OVERRIDE, O.propose_override, Override.from_record,
                         (NotFound, NotAllowed, InvalidInput), who.actor, str(input.customer_id), input.dimension,
                         input.value, input.reason, expires_on=input.expires_on, book=who.book)


async def approve_override(info: Info, id: int, note: str | None):
    return await attempt(info, Permission.DECIDE_OVERRIDE, O.approve_override, Override.from_record,
                         (NotFound, NotAllowed, MakerIsChecker, InvalidState), info.context.principal.actor, id,
                         note=note)


async def reject_override(info: Info, id: int, note: str):
    return await attempt(info, Permission.DECIDE_OVERRIDE, O.reject_override, Override.from_record,
                         (NotFound, NotAllowed, MakerIsChecker, InvalidState, InvalidInput),
                         info.context.principal.actor, id, note)


async def revoke_override(info: Info, id: int, reason: str):
    return await attempt(info, Permission.DECIDE_OVERRIDE, O.revoke_override, Override.from_record,
                         (NotFound, NotAllowed, InvalidState, InvalidInput), info.context.principal.actor, id, reason)
