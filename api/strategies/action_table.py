"""`actionTable`: the whole bank's next-best actions of the live run as columns (bulk, for the SDK)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from clientstrata.api.customers.filters import CustomerFilter, to_domain
from clientstrata.api.customers.types import CustomerTable
from clientstrata.graph.record.queries import MAX_TABLE_PAGE
from clientstrata.jobs.strategies.action_table import action_table

__all__ = ["ActionTableQuery"]


@strawberry.type
class ActionTableQuery:
    @strawberry.field(
        description=f"The live run's next-best actions of every customer `filter` selects as a table "
        f"(`first` ≤ {MAX_TABLE_PAGE:,} rows), by customer then rank; held-out (control) actions left out, never "
        "a product above the customer's suitability as it stands now. Relationship managers: their book."
    )
    async def action_table(
        self, info: Info, filter: CustomerFilter | None = None, first: int = 10_000, after: str | None = None
    ) -> CustomerTable:
        ctx = info.context
        df, has_next, total, end = await ctx.run(action_table, first, after, to_domain(filter), ctx.principal.book)
        return CustomerTable.of(df, has_next, end, count=total)
