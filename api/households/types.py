"""Household types. Transport only: fields read what the domain functions returned."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from clientstrata.api.pagination import PageInfo

from .filters import HouseholdStatus

if TYPE_CHECKING:
    from clientstrata.api.customers.types import Customer

__all__ = ["Household", "HouseholdMember", "HouseholdEdge", "HouseholdConnection"]


@strawberry.type(description="A member of a household: a customer belongs to at most one.")
class HouseholdMember:
    id: strawberry.ID = strawberry.field(
        description="The member's customer id: a customer is a member of one household at most, so a client's "
        "cache merges a member by it."
    )
    role: str
    aum: float = strawberry.field(description="The member's current AUM (latest month), CNY.")
    customer_id: strawberry.ID

    @strawberry.field
    async def customer(self, info: Info) -> Annotated[Customer, strawberry.lazy("..customers.types")] | None:
        from clientstrata.api.customers.types import Customer

        row = await info.context.customer.load(str(self.customer_id))
        return Customer.from_row(row) if row else None


@strawberry.type(
    description="A household (家庭) with its members and their combined AUM, current as of the last "
    "ingest (rollups are recomputed inside it); the tier moves with published runs."
)
class Household:
    id: strawberry.ID
    name: str | None
    status: HouseholdStatus = strawberry.field(
        description="CONFIRMED, or CANDIDATE (inferred, awaiting review): the values `HouseholdFilter.status` takes."
    )
    aum: float = strawberry.field(
        description="Sum of the members' current AUM (latest month), CNY: the whole "
        "household's, also for a relationship manager who sees some members."
    )
    tier: str | None = strawberry.field(
        description="Household tier of the latest published run (household_wealth_tier); null for candidate households."
    )
    member_count: int = strawberry.field(description="Members of the whole household.")
    updated_at: dt.datetime | None = strawberry.field(
        description="When this view (members, AUMs, tier, name, status) last changed. Strictly increasing in commit "
        "order: pass the largest value seen as `updatedSince` and nothing is missed or repeated."
    )

    @classmethod
    def from_row(cls, r: dict) -> Household:
        return cls(
            id=strawberry.ID(r["household_id"]),
            name=r["name"],
            status=HouseholdStatus(r["status"]),
            aum=float(r["aum"]),
            tier=r["tier"],
            member_count=int(r["member_count"]),
            updated_at=r["updated_at"],
        )

    @strawberry.field(description="Members you may see (a relationship manager: those in their book).")
    async def members(self, info: Info) -> list[HouseholdMember]:
        rows = await info.context.household_members.load(str(self.id))
        return [
            HouseholdMember(
                id=strawberry.ID(m["customer_id"]),
                role=m["role"],
                aum=m["aum"],
                customer_id=strawberry.ID(m["customer_id"]),
            )
            for m in rows
        ]


@strawberry.type
class HouseholdEdge:
    cursor: str
    node: Household


@strawberry.type
class HouseholdConnection:
    edges: list[HouseholdEdge]
    page_info: PageInfo
    total_count: int
