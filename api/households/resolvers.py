"""Household resolvers."""
from __future__ import annotations

from strawberry.types import Info

from ...graph.errors import NotFound
from ...graph.views import household_view
from .types import Household, HouseholdMember

__all__ = ["resolve_household"]


async def resolve_household(info: Info, id: str) -> Household | None:
    ctx = info.context
    try:
        view = await ctx.run(household_view, ctx.graph, id, ctx.principal.book)
    except NotFound:
        return None
    members = [HouseholdMember(role=m.role, aum=float(m.aum), customer_id=m.customer_id)
               for m in view.members.itertuples()]
    return Household(id=view.household_id, name=view.name, status=view.status, aum=view.aum, members=members)
