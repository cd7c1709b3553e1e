"""Household resolvers: one call each into the domain functions."""

from __future__ import annotations

import datetime as dt

from strawberry.types import Info

from clientstrata.api.pagination import PageInfo
from clientstrata.api.refusals import hidden
from clientstrata.graph.record import households as H
from clientstrata.jobs.governance.filters import check_ids, check_tag_conditions

from .filters import HouseholdFilter, to_domain
from .types import Household, HouseholdConnection, HouseholdEdge

__all__ = ["resolve_household", "resolve_households"]


async def resolve_household(info: Info, id: str) -> Household | None:
    row = await info.context.household.load(id)
    if row is None:
        await hidden(info, "household", id)
    return Household.from_row(row) if row else None


def _check_filter(conn, flt: H.HouseholdFilter, book: str | None) -> None:
    check_tag_conditions(conn, [("household_wealth_tier", [flt.tier])] if flt.tier else [])
    check_ids(conn, flt.branch_id, None, book)


async def resolve_households(
    info: Info, first: int, after: str | None, filter: HouseholdFilter | None, updated_since: dt.datetime | None
) -> HouseholdConnection:
    flt, book = to_domain(filter), info.context.principal.book
    if filter is not None:  # a value that cannot match is refused with the valid ones
        await info.context.run(_check_filter, flt, book)
    page = await info.context.run(H.households_page, first, after, flt, book, updated_since)
    by_change = updated_since is not None
    edges = [
        HouseholdEdge(cursor=H.encode_household_cursor(r, by_change), node=Household.from_row(r)) for r in page.rows
    ]
    return HouseholdConnection(edges=edges, total_count=page.total, page_info=PageInfo.of(edges, page.has_next))
