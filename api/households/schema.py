"""Household queries."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from clientstrata.graph.record.queries import MAX_PAGE_SIZE

from . import resolvers as R
from .filters import HouseholdFilter
from .types import Household, HouseholdConnection

__all__ = ["HouseholdQuery"]


@strawberry.type
class HouseholdQuery:
    @strawberry.field(description="One household with the members you may see, or null.")
    async def household(self, info: Info, id: strawberry.ID) -> Household | None:
        return await R.resolve_household(info, id)

    @strawberry.field(
        description=f"Households, a page at a time (`first` ≤ {MAX_PAGE_SIZE}), in id order; with "
        "`updatedSince`, those whose view changed after that moment, in change order "
        "(for incremental pulls: keep following `endCursor`, or pass the largest "
        "`updatedAt` seen next time). Relationship managers see households with a "
        "member in their book."
    )
    async def households(
        self,
        info: Info,
        first: int = 100,
        after: str | None = None,
        filter: HouseholdFilter | None = None,
        updated_since: dt.datetime | None = None,
    ) -> HouseholdConnection:
        return await R.resolve_households(info, first, after, filter, updated_since)
