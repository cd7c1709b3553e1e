"""`packageTable`: every customer's package of the live run as columns (bulk, for the SDK)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from clientstrata.api.customers.types import CustomerTable
from clientstrata.graph.record.queries import MAX_TABLE_PAGE, encode_cursor
from clientstrata.jobs.strategies.package_table import package_table

__all__ = ["PackageTableQuery"]


@strawberry.type
class PackageTableQuery:
    @strawberry.field(
        description=f"Every customer's service package in the live run as a table (`first` ≤ {MAX_TABLE_PAGE:,}), "
        "with the selector, why, and the points balance; relationship managers: their book."
    )
    async def package_table(self, info: Info, first: int = 10_000, after: str | None = None) -> CustomerTable:
        ctx = info.context
        df, has_next, total = await ctx.run(package_table, first, after, ctx.principal.book)
        end = encode_cursor(df["customer_id"].iloc[-1]) if len(df) else None
        return CustomerTable.of(df, has_next, end, count=total)
