"""Points (积分) in GraphQL: `CustomerStrategy.points` (balance and postings) and the
`redeemPoints` mutation. Transport only: jobs/strategies/points*.py hold the ledger."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from clientstrata.api.errors import InvalidInput, InvalidState, NotAllowed, NotFound, attempt
from clientstrata.graph import errors as graph_errors
from clientstrata.graph.record.access import Permission
from clientstrata.jobs.strategies.points import postings
from clientstrata.jobs.strategies.points_redeem import redeem_points

__all__ = ["PointsPosting", "Points", "RedeemPointsInput", "PointsRedemption", "RedeemPointsResult", "PointsMutation"]

MAX_POSTINGS = 500


@strawberry.type(description="A points posting: earned (+), redeemed (−) or expired (−), with its source.")
class PointsPosting:
    id: int
    source: str = strawberry.field(
        description="The stable key of what posted it (`purchase:…`, `card:…`, `txn:…`, `fee:…`, `request:…`, "
        "`expire:…`); one posting per customer and source."
    )
    kind: str = strawberry.field(description="earn, redeem or expire.")
    rule: str | None = strawberry.field(description="The earn rule, or the fee item the points paid.")
    points: int
    basis_amount: float | None = strawberry.field(description="CNY the points were earned on, or paid.")
    multiplier: float | None = strawberry.field(description="The package's multiplier (earned points).")
    package: str | None = strawberry.field(description="The customer's package when the points were earned.")
    occurred_at: dt.datetime = strawberry.field(description="When the event, fee or expiry happened.")
    expires_on: dt.date | None = strawberry.field(description="When earned points expire.")
    posted_at: dt.datetime

    @classmethod
    def of(cls, r: dict) -> PointsPosting:
        return cls(
            id=int(r["posting_id"]),
            source=r["source"],
            kind=r["kind"],
            rule=r["rule"],
            points=int(r["points"]),
            basis_amount=None if r["basis_amount"] is None else float(r["basis_amount"]),
            multiplier=None
            if r["multiplier"] is None or r["multiplier"] != r["multiplier"]
            else float(r["multiplier"]),
            package=r["package"],
            occurred_at=r["occurred_at"],
            expires_on=r["expires_on"],
            posted_at=r["posted_at"],
        )


@strawberry.type(description="A customer's points (积分): the balance is always the sum of the postings.")
class Points:
    customer_id: strawberry.Private[str]

    @strawberry.field(
        description="Points available now (expired points are posted when the run or a redemption finds them)."
    )
    async def balance(self, info: Info) -> int:
        return await info.context.points_balance.load(self.customer_id)

    @strawberry.field(description=f"Postings, newest first (`first` ≤ {MAX_POSTINGS}).")
    async def postings(self, info: Info, first: int = 20) -> list[PointsPosting]:
        if not 0 < first <= MAX_POSTINGS:
            raise graph_errors.InvalidInput(f"`first` must be from 1 to {MAX_POSTINGS} (got {first})")
        frame = await info.context.run(postings, self.customer_id, first)
        return [PointsPosting.of(r) for r in frame.to_dict("records")]


@strawberry.input(description="What points pay: a recorded fee (`feeEventId`) or a fee item with an idempotency key.")
class RedeemPointsInput:
    customer_id: strawberry.ID
    fee_event_id: str | None = strawberry.field(
        default=None, description="A fee of the bundle's fee_events, paid once."
    )
    fee_item: str | None = strawberry.field(
        default=None, description="A fee item of the schedule, at the customer's price (with `requestId`)."
    )
    request_id: str | None = strawberry.field(
        default=None, description="The caller's idempotency key: the same id again answers the first redemption."
    )


@strawberry.type(description="Points paid a fee: the posting, the balance after it, whether it was a replay.")
class PointsRedemption:
    posting: PointsPosting
    balance: int
    replayed: bool = strawberry.field(description="True when this fee or request was already paid: nothing new posted.")

    @classmethod
    def of(cls, r: dict) -> PointsRedemption:
        return cls(posting=PointsPosting.of(r), balance=int(r["balance"]), replayed=bool(r["replayed"]))


RedeemPointsResult = Annotated[
    PointsRedemption | NotFound | NotAllowed | InvalidInput | InvalidState, strawberry.union("RedeemPointsResult")
]


@strawberry.type
class PointsMutation:
    @strawberry.mutation(
        description="Pay a fee with the customer's points (积分); relationship managers: their book only. "
        "Refusals: NOT_REDEEMABLE, INSUFFICIENT_POINTS (InvalidState) and the usual (audited)."
    )
    async def redeem_points(self, info: Info, input: RedeemPointsInput) -> RedeemPointsResult:
        who = info.context.principal
        return await attempt(
            info,
            Permission.REDEEM_POINTS,
            redeem_points,
            PointsRedemption.of,
            (NotFound, NotAllowed, InvalidInput, InvalidState),
            who.actor,
            str(input.customer_id),
            fee_event_id=input.fee_event_id,
            fee_item=input.fee_item,
            request_id=input.request_id,
            book=who.book,
        )
