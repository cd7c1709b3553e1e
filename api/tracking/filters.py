"""Tracking inputs."""

from __future__ import annotations

import strawberry

__all__ = ["AlertFilter", "RecordFeedbackInput"]


@strawberry.input(description="Every condition given must hold.")
class AlertFilter:
    type: str | None = None
    status: str | None = strawberry.field(default=None, description="open or acknowledged.")
    customer_id: strawberry.ID | None = None
    rm_id: str | None = None


@strawberry.input
class RecordFeedbackInput:
    customer_id: strawberry.ID
    kind: str = strawberry.field(description="survey (needs `score`), complaint (needs `text`) or compliment.")
    score: int | None = strawberry.field(default=None, description="Satisfaction 1–5.")
    text: str | None = None
