"""Customer resolvers: one call each into the domain functions."""

from __future__ import annotations

import datetime as dt
from functools import partial

from strawberry.types import Info

from clientstrata.api.pagination import PageInfo
from clientstrata.api.refusals import hidden
from clientstrata.graph.record import queries as Q
from clientstrata.jobs.governance.filters import check_ids, check_tag_conditions
from clientstrata.jobs.reports.customer_table import customer_table

from .filters import CustomerFilter, CustomerSort, to_domain
from .types import Customer, CustomerConnection, CustomerEdge, CustomerTable, Tag, TagHistoryEntry

__all__ = [
    "resolve_customers",
    "resolve_customer",
    "resolve_customer_table",
    "resolve_tags",
    "resolve_tag_history",
]


def _check_filter(conn, flt: Q.CustomerFilter, book: str | None) -> None:
    check_tag_conditions(conn, flt.tag_conditions())
    check_ids(conn, flt.branch_id, flt.rm_id, book)


async def checked_filter(info: Info, filter: CustomerFilter | None) -> Q.CustomerFilter:
    """The domain filter, once its values are known to be able to match (else `InvalidInput`
    listing the valid ones)."""
    flt = to_domain(filter)
    if filter is not None:
        await info.context.run(_check_filter, flt, info.context.principal.book)
    return flt


async def resolve_customers(
    info: Info, first: int, after: str | None, filter: CustomerFilter | None, sort: CustomerSort = CustomerSort.ID
) -> CustomerConnection:
    ctx, flt = info.context, await checked_filter(info, filter)
    page = await ctx.run(Q.customer_page, first, after, flt, ctx.principal.book, sort.value, False)
    edges = [CustomerEdge(cursor=Q.page_cursor(r, sort.value), node=Customer.from_row(r)) for r in page.rows]
    for r in page.rows:  # the page already holds the rows: prime the loader, skip a query
        ctx.customer.prime(r["customer_id"], r)
    return CustomerConnection(
        edges=edges,
        count=partial(ctx.run, Q.customer_count, flt, ctx.principal.book),
        page_info=PageInfo.of(edges, page.has_next),
    )


async def resolve_customer(info: Info, id: str) -> Customer | None:
    row = await info.context.customer.load(id)
    if row is None:
        await hidden(info, "customer", id)
    return Customer.from_row(row) if row else None


async def resolve_customer_table(
    info: Info, first: int, after: str | None, filter: CustomerFilter | None, dimensions: list[str] | None
) -> CustomerTable:
    ctx, flt = info.context, await checked_filter(info, filter)
    page, has_next = await ctx.run(customer_table, first, after, flt, ctx.principal.book, dimensions)
    end = Q.encode_cursor(page.column("customer_id")[-1].as_py()) if page.num_rows else None
    return CustomerTable.of(page, has_next, end, count=partial(ctx.run, Q.customer_count, flt, ctx.principal.book))


async def resolve_tags(info: Info, customer_id: str, dimension: str | None, as_of: dt.date | None) -> list[Tag]:
    if as_of is None:
        rows = await info.context.tags.load(customer_id)
    else:
        rows = await info.context.tags_as_of.load((customer_id, as_of))
    return [Tag.from_row(r) for r in rows if dimension is None or r["dimension"] == dimension]


async def resolve_tag_history(info: Info, customer_id: str, dimension: str) -> list[TagHistoryEntry]:
    rows = await info.context.tag_history.load((customer_id, dimension))
    return [TagHistoryEntry.from_row(r) for r in rows]
