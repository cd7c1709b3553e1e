"""Household resolvers."""
from __future__ import annotations

from strawberry.types import Info

from .types import Household, HouseholdMember

__all__ = ["resolve_household"]


async def resolve_household(info: Info, id: str) -> Household | None:
    view = await info.context.household.load(id)
    if view is None:
        return None
    members = [HouseholdMember(role=m.role, aum=float(m.aum), customer_id=m.customer_id)
               for m in view.members.itertuples()]
    return Household(id=view.household_id, name=view.name, status=view.status, aum=view.aum, members=members)
