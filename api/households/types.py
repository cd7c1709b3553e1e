"""Household types."""
from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

__all__ = ["Household", "HouseholdMember"]


@strawberry.type
class HouseholdMember:
    role: str
    aum: float
    customer_id: strawberry.ID

    @strawberry.field
    async def customer(self, info: Info) -> Annotated["Customer", strawberry.lazy("..customers.types")] | None:
        from ..customers.types import Customer
        row = await info.context.customer.load(str(self.customer_id))
        return Customer.from_row(row) if row else None


@strawberry.type(description="A household (家庭) with its members and their combined AUM.")
class Household:
    id: strawberry.ID
    name: str | None
    status: str = strawberry.field(description="confirmed, or candidate (inferred, awaiting review).")
    aum: float = strawberry.field(description="Sum of the members' month-average AUM, CNY.")
    members: list[HouseholdMember] = strawberry.field(description="Members you may see.")
