"""Tracking queries and mutations."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from clientstrata.jobs.tracking.feedback import MAX_FEEDBACK_PAGE

from . import resolvers as R
from .filters import AlertFilter, RecordFeedbackInput
from .types import AlertConnection, FeedbackConnection

__all__ = ["TrackingQuery", "TrackingMutation"]


@strawberry.type
class TrackingQuery:
    @strawberry.field(description="Alerts, oldest first (`first` ≤ 9,999); relationship managers see their book's.")
    async def alerts(
        self, info: Info, filter: AlertFilter | None = None, first: int = 50, after: str | None = None
    ) -> AlertConnection:
        return await R.resolve_alerts(info, filter, first, after)

    @strawberry.field(
        description=f"Surveys, complaints and compliments, oldest first (`first` ≤ {MAX_FEEDBACK_PAGE:,}), of one "
        "customer or the whole bank; relationship managers see their book's, as on `Customer.feedback`."
    )
    async def feedback(
        self, info: Info, customer_id: strawberry.ID | None = None, first: int = 100, after: str | None = None
    ) -> FeedbackConnection:
        return await R.resolve_feedback(info, None if customer_id is None else str(customer_id), first, after)


@strawberry.type
class TrackingMutation:
    @strawberry.mutation(description="Mark an open alert handled, with an optional note (audited).")
    async def acknowledge_alert(self, info: Info, id: int, note: str | None = None) -> R.AcknowledgeAlertResult:
        return await R.acknowledge(info, id, note)

    @strawberry.mutation(description="Record a survey, complaint or compliment against a customer (audited).")
    async def record_feedback(self, info: Info, input: RecordFeedbackInput) -> R.RecordFeedbackResult:
        return await R.feedback(info, input)
