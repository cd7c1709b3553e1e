"""Next-best action, work-list, outcome and effect types."""

from __future__ import annotations

import datetime as dt

import strawberry

__all__ = ["ActionReasons", "NextBestAction", "WorkItem", "ActionOutcome", "ActionEffect"]


def _none(x):
    return None if x is None or x != x else x


@strawberry.type(description="Why an action was chosen, in words.")
class ActionReasons:
    en: str
    zh: str


@strawberry.type(description="An action chosen for a customer: suitable, eligible, within the contact policy.")
class NextBestAction:
    rank: int
    action: str = strawberry.field(
        description="upgrade_invitation, retention_call, reinvestment, care_visit, event_invitation, "
        "specialist_referral or product_offer."
    )
    action_key: str = strawberry.field(description="The action, or product_offer:<product id>.")
    product: str | None = strawberry.field(description="The product offered (its id), for a product offer.")
    product_risk: str | None = strawberry.field(description="R1..R5: never above the customer's suitability.")
    channel: str
    trigger: str | None = strawberry.field(description="The alert type or cross_sell that made it applicable.")
    propensity: float = strawberry.field(description="Learned response rate (Beta prior + recorded outcomes).")
    value: float = strawberry.field(description="Expected yearly value when accepted, CNY.")
    priority: float = strawberry.field(description="propensity × value × lever (weights in the standard).")
    due_on: dt.date
    reasons: ActionReasons

    @classmethod
    def from_row(cls, r: dict) -> NextBestAction:
        return cls(
            rank=int(r["rank"]),
            action=r["action"],
            action_key=r["action_key"],
            product=_none(r["product_id"]),
            product_risk=_none(r["product_risk"]),
            channel=r["channel"],
            trigger=_none(r["trigger"]),
            propensity=float(r["propensity"]),
            value=float(r["value"]),
            priority=float(r["priority"]),
            due_on=r["due_on"],
            reasons=ActionReasons(en=r["reason_en"], zh=r["reason_zh"]),
        )


@strawberry.type(description="One line of a relationship manager's work list: an open action or an open alert.")
class WorkItem:
    kind: str = strawberry.field(description="action or alert.")
    item_id: int = strawberry.field(description="The action's id (for recordActionOutcome) or the alert's.")
    customer_id: strawberry.ID
    title: str
    channel: str | None
    priority: float
    due_on: dt.date
    why: str
    why_zh: str
    last_outcome: str | None

    @classmethod
    def from_row(cls, r: dict) -> WorkItem:
        return cls(
            kind=r["kind"],
            item_id=int(r["item_id"]),
            customer_id=strawberry.ID(r["customer_id"]),
            title=r["title"],
            channel=_none(r["channel"]),
            priority=float(r["priority"]),
            due_on=r["due_on"],
            why=r["why"],
            why_zh=r["why_zh"],
            last_outcome=_none(r["last_outcome"]),
        )


@strawberry.type(description="What came of an action.")
class ActionOutcome:
    id: int
    action_id: int
    customer_id: strawberry.ID
    outcome: str = strawberry.field(description="contacted, not_reachable, accepted, declined or converted.")
    product_id: str | None
    amount: float | None
    note: str | None
    recorded_by: str
    recorded_at: dt.datetime

    @classmethod
    def from_row(cls, r: dict) -> ActionOutcome:
        return cls(
            id=r["outcome_id"],
            action_id=r["nba_id"],
            customer_id=strawberry.ID(r["customer_id"]),
            outcome=r["outcome"],
            product_id=r["product_id"],
            amount=_none(r["amount"]),
            note=r["note"],
            recorded_by=r["recorded_by"],
            recorded_at=r["recorded_at"],
        )


@strawberry.type(description="An action's effect in a segment (or `all`), treated against its held-out control group.")
class ActionEffect:
    action_key: str
    segment: str
    offered: int
    contacted: int
    accepted: int
    converted: int
    control: int = strawberry.field(description="Customers held out.")
    control_converted: int
    conversion_rate: float | None
    control_rate: float | None
    uplift: float | None = strawberry.field(description="conversionRate − controlRate.")
    uplift_low: float | None
    uplift_high: float | None
    aum_change: float | None = strawberry.field(description="Mean AUM change over the horizon, CNY (treated).")
    control_aum_change: float | None
    aum_uplift: float | None
    aum_uplift_low: float | None
    aum_uplift_high: float | None

    @classmethod
    def from_row(cls, r: dict) -> ActionEffect:
        counts = ("offered", "contacted", "accepted", "converted", "control", "control_converted")
        rates = [k for k in cls.__annotations__ if k not in counts and k not in ("action_key", "segment")]
        return cls(
            action_key=r["action_key"],
            segment=r["segment"],
            **{k: int(r[k]) for k in counts},
            **{k: None if _none(r[k]) is None else float(r[k]) for k in rates},
        )
