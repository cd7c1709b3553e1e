"""Alert and feedback types."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from clientstrata.api.pagination import PageInfo

if TYPE_CHECKING:
    from clientstrata.api.customers.types import Customer

__all__ = ["Alert", "AlertEdge", "AlertConnection", "Feedback"]


@strawberry.type(description="A signal routed to the customer's RM (or, without one, the branch queue), saying why.")
class Alert:
    id: int
    run_id: int | None
    customer_id: strawberry.ID
    rm_id: str | None = strawberry.field(description="Null: the branch queue (`details.branch_id`).")
    type: str = strawberry.field(
        description="aum_outflow, near_upgrade, risk_appetite_drift, product_maturity, "
        "birthday, dormant, demand_signal, aml_red_flag."
    )
    severity: str
    reason: str
    details: JSON | None
    status: str = strawberry.field(description="open or acknowledged.")
    created_at: dt.datetime
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None

    @classmethod
    def from_row(cls, r: dict) -> Alert:
        return cls(
            id=r["alert_id"],
            run_id=r["run_id"],
            customer_id=strawberry.ID(r["customer_id"]),
            rm_id=r["rm_id"],
            type=r["alert_type"],
            severity=r["severity"],
            reason=r["reason"],
            details=r["details"],
            status=r["status"],
            created_at=r["created_at"],
            acknowledged_by=r["acknowledged_by"],
            acknowledged_at=r["acknowledged_at"],
        )

    @strawberry.field(description="The customer, or null when not in your book.")
    async def customer(self, info: Info) -> Annotated[Customer, strawberry.lazy("..customers.types")] | None:
        from clientstrata.api.customers.types import Customer

        row = await info.context.customer.load(str(self.customer_id))
        return Customer.from_row(row) if row else None


@strawberry.type
class AlertEdge:
    cursor: str
    node: Alert


@strawberry.type(description="Alerts, oldest first.")
class AlertConnection:
    edges: list[AlertEdge]
    page_info: PageInfo


@strawberry.type(description="A satisfaction survey, complaint or compliment recorded against a customer.")
class Feedback:
    id: int
    customer_id: strawberry.ID
    kind: str = strawberry.field(description="survey, complaint or compliment.")
    score: int | None = strawberry.field(description="Satisfaction 1–5.")
    text: str | None
    recorded_by: str
    recorded_at: dt.datetime

    @classmethod
    def from_row(cls, r: dict) -> Feedback:
        return cls(
            id=r["feedback_id"],
            customer_id=strawberry.ID(r["customer_id"]),
            kind=r["kind"],
            score=r["score"],
            text=r["text"],
            recorded_by=r["recorded_by"],
            recorded_at=r["recorded_at"],
        )


@strawberry.type
class FeedbackEdge:
    cursor: str
    node: Feedback


@strawberry.type(description="Feedback, oldest first.")
class FeedbackConnection:
    edges: list[FeedbackEdge]
    page_info: PageInfo
