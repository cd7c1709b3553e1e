"""`actionTable`: the whole bank's next-best actions of the live run as columns (bulk, for the SDK)."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from clientstrata.api.customers.filters import CustomerFilter, to_domain
from clientstrata.api.customers.types import CustomerTable
from clientstrata.api.pagination import PageInfo
from clientstrata.graph.record.queries import MAX_TABLE_PAGE
from clientstrata.jobs.strategies.action_table import action_table

__all__ = ["ActionTableQuery"]


def _json(v):
    """A cell as JSON carries it: numpy scalars as numbers, the due date as ISO text."""
    if hasattr(v, "item"):
        return v.item()
    return v.isoformat() if isinstance(v, dt.date) else v


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
        rows = [[_json(v) for v in r] for r in df.itertuples(index=False, name=None)]
        return CustomerTable(
            columns=list(df.columns),
            rows=rows,
            total_count=total,
            page_info=PageInfo(has_next_page=has_next, end_cursor=end),
        )
