"""Next-best actions, work lists, outcomes and effect: one domain call each, scoped to the
caller's book."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import strawberry
from strawberry.types import Info

from clientstrata.api.errors import InvalidInput, InvalidState, NotAllowed, NotFound, attempt
from clientstrata.graph.errors import InvalidInput as InvalidInputError
from clientstrata.graph.record.access import NotAllowed as Refused
from clientstrata.graph.record.access import Permission
from clientstrata.jobs.governance.standards import live_standard
from clientstrata.jobs.strategies.effect import strategy_effect
from clientstrata.jobs.strategies.nba import MAX_FIRST, live_next_best_actions
from clientstrata.jobs.strategies.outcomes import record_outcome
from clientstrata.jobs.strategies.worklist import worklist

from .actions_types import ActionEffect, ActionOutcome, NextBestAction, WorkItem

__all__ = [
    "RecordActionOutcomeInput",
    "RecordActionOutcomeResult",
    "resolve_next_best_actions",
    "resolve_stored_actions",
    "resolve_worklist",
    "resolve_effect",
    "record_action_outcome",
]

RecordActionOutcomeResult = Annotated[
    ActionOutcome | NotFound | NotAllowed | InvalidInput | InvalidState, strawberry.union("RecordActionOutcomeResult")
]


@strawberry.input(description="What came of an action on a work list.")
class RecordActionOutcomeInput:
    action_id: int
    outcome: str = strawberry.field(description="contacted, not_reachable, accepted, declined or converted.")
    product_id: str | None = strawberry.field(default=None, description="For a conversion: the product taken.")
    amount: float | None = strawberry.field(default=None, description="For a conversion: CNY.")
    note: str | None = None


def _rows(df) -> list[dict]:
    return df.astype(object).where(df.notna(), None).to_dict("records")


async def resolve_next_best_actions(info: Info, customer_id: str, first: int) -> list[NextBestAction]:
    ctx = info.context
    df = await ctx.run(partial(live_next_best_actions, first=first, book=ctx.principal.book), customer_id)
    return [NextBestAction.from_row(r) for r in _rows(df)]


async def resolve_stored_actions(info: Info, customer_id: str, first: int) -> list[NextBestAction]:
    if not 1 <= first <= MAX_FIRST:
        raise InvalidInputError(f"`first` must be between 1 and {MAX_FIRST}")
    rows = await info.context.next_best_actions.load(customer_id)
    return [NextBestAction.from_row(r) for r in rows[:first]]


async def resolve_worklist(info: Info, rm_id: str | None, first: int) -> list[WorkItem]:
    book = info.context.principal.book
    if book is not None and rm_id not in (None, book):
        raise Refused("a relationship manager sees their own work list only")
    df = await info.context.run(partial(worklist, limit=first), book if book is not None else rm_id)
    return [WorkItem.from_row(r) for r in _rows(df)]


async def resolve_effect(info: Info, run_id: int | None) -> list[ActionEffect]:
    book = info.context.principal.book

    def effect(conn):
        return strategy_effect(conn, live_standard(conn), run_id, book=book)

    return [ActionEffect.from_row(r) for r in (await info.context.run(effect)).to_dict("records")]


async def record_action_outcome(info: Info, input: RecordActionOutcomeInput):
    who = info.context.principal
    return await attempt(
        info,
        Permission.RECORD_FEEDBACK,
        record_outcome,
        ActionOutcome.from_row,
        (NotFound, NotAllowed, InvalidInput, InvalidState),
        who.actor,
        input.action_id,
        input.outcome,
        product_id=input.product_id,
        amount=input.amount,
        note=input.note,
        book=who.book,
    )
