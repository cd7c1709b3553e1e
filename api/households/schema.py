"""Household queries."""
from __future__ import annotations

import strawberry
from strawberry.types import Info

from .resolvers import resolve_household
from .types import Household

__all__ = ["HouseholdQuery"]


@strawberry.type
class HouseholdQuery:
    @strawberry.field(description="One household with the members you may see, or null.")
    async def household(self, info: Info, id: strawberry.ID) -> Household | None:
        return await resolve_household(info, id)
