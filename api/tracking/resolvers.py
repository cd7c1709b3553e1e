"""Tracking queries and mutations: one domain call each."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import strawberry
from strawberry.types import Info

from clientstrata.api.errors import InvalidInput, InvalidState, NotAllowed, NotFound, attempt
from clientstrata.api.pagination import PageInfo, decode_cursor, encode_cursor
from clientstrata.graph.record.access import Permission
from clientstrata.jobs.tracking.alerts import acknowledge_alert, list_alerts
from clientstrata.jobs.tracking.feedback import list_feedback, record_feedback

from .filters import AlertFilter, RecordFeedbackInput
from .types import Alert, AlertConnection, AlertEdge, Feedback, FeedbackConnection, FeedbackEdge

__all__ = [
    "AcknowledgeAlertResult",
    "RecordFeedbackResult",
    "resolve_alerts",
    "resolve_feedback",
    "acknowledge",
    "feedback",
]

AcknowledgeAlertResult = Annotated[
    Alert | NotFound | NotAllowed | InvalidState, strawberry.union("AcknowledgeAlertResult")
]
RecordFeedbackResult = Annotated[
    Feedback | NotFound | NotAllowed | InvalidInput, strawberry.union("RecordFeedbackResult")
]


async def resolve_alerts(info: Info, filter: AlertFilter | None, first: int, after: str | None) -> AlertConnection:
    f = filter or AlertFilter()
    df = await info.context.run(
        partial(
            list_alerts,
            rm_id=f.rm_id,
            status=f.status,
            alert_type=f.type,
            customer_ids=None if f.customer_id is None else [str(f.customer_id)],
            limit=first + 1,
            after=decode_cursor("alert", after) or 0,
            book=info.context.principal.book,
        )
    )
    rows = df.astype(object).where(df.notna(), None).to_dict("records")
    edges = [AlertEdge(cursor=encode_cursor("alert", r["alert_id"]), node=Alert.from_row(r)) for r in rows[:first]]
    return AlertConnection(edges=edges, page_info=PageInfo.of(edges, len(rows) > first))


async def resolve_feedback(info: Info, customer_id: str | None, first: int, after: str | None) -> FeedbackConnection:
    rows, more = await info.context.run(
        partial(list_feedback, book=info.context.principal.book),
        customer_id,
        decode_cursor("feedback", after) or 0,
        first,
    )
    edges = [FeedbackEdge(cursor=encode_cursor("feedback", r["feedback_id"]), node=Feedback.from_row(r)) for r in rows]
    return FeedbackConnection(edges=edges, page_info=PageInfo.of(edges, more))


async def acknowledge(info: Info, id: int, note: str | None):
    who = info.context.principal
    return await attempt(
        info,
        Permission.ACKNOWLEDGE_ALERT,
        acknowledge_alert,
        Alert.from_row,
        (NotFound, NotAllowed, InvalidState),
        who.actor,
        id,
        note=note,
        book=who.book,
        person=who.person,
    )


async def feedback(info: Info, input: RecordFeedbackInput):
    who = info.context.principal
    return await attempt(
        info,
        Permission.RECORD_FEEDBACK,
        record_feedback,
        Feedback.from_row,
        (NotFound, NotAllowed, InvalidInput),
        who.actor,
        str(input.customer_id),
        input.kind,
        score=input.score,
        text=input.text,
        book=who.book,
    )
