"""Resolvers: one call each into the domain functions."""
from __future__ import annotations

from strawberry.types import Info

from ..graph import queries as Q
from ..graph.errors import NotFound
from ..graph.views import household_view
from .types import Customer, CustomerConnection, CustomerEdge, CustomerFilter, Household, HouseholdMember, PageInfo

__all__ = ["resolve_customers", "resolve_customer", "resolve_household"]


async def resolve_customers(info: Info, first: int, after: str | None,
                            filter: CustomerFilter | None) -> CustomerConnection:
    flt = Q.CustomerFilter(**vars(filter)) if filter else Q.CustomerFilter()
    page = await info.context.run(Q.customer_page, first, after, flt, info.context.principal.book)
    edges = [CustomerEdge(cursor=Q.encode_cursor(r["customer_id"]), node=Customer.from_row(r)) for r in page.rows]
    for r in page.rows:  # the page already holds the rows: prime the loader, skip a query
        info.context.customer.prime(r["customer_id"], r)
    return CustomerConnection(edges=edges, total_count=page.total, page_info=PageInfo(
        has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None))


async def resolve_customer(info: Info, id: str) -> Customer | None:
    row = await info.context.customer.load(id)
    return Customer.from_row(row) if row else None


async def resolve_household(info: Info, id: str) -> Household | None:
    ctx = info.context
    try:
        view = await ctx.run(household_view, ctx.graph, id, ctx.principal.book)
    except NotFound:
        return None
    members = [HouseholdMember(role=m.role, aum=float(m.aum), customer_id=m.customer_id)
               for m in view.members.itertuples()]
    return Household(id=view.household_id, name=view.name, status=view.status, aum=view.aum, members=members)
