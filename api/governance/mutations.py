"""Override mutations (maker–checker): the permission check, one domain call, typed refusals
(`api.errors.attempt`)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from clientstrata.api.errors import InvalidInput, InvalidState, MakerIsChecker, NotAllowed, NotFound, attempt
from clientstrata.graph.record.access import Permission
from clientstrata.jobs.governance import overrides as O

from .filters import ProposeOverrideInput
from .types import Override

__all__ = [
    "ProposeOverrideResult",
    "ApproveOverrideResult",
    "RejectOverrideResult",
    "RevokeOverrideResult",
    "propose_override",
    "approve_override",
    "reject_override",
    "revoke_override",
]

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
        person=who.person,
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
        person=info.context.principal.person,
        book=info.context.principal.book,
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
        person=info.context.principal.person,
        book=info.context.principal.book,
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
        person=info.context.principal.person,
        book=info.context.principal.book,
    )
