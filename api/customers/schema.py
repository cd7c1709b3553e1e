"""Customer queries."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from clientstrata.graph.record.queries import MAX_PAGE_SIZE, MAX_TABLE_PAGE

from . import resolvers as R
from .filters import CustomerFilter, CustomerSort
from .types import Customer, CustomerConnection, CustomerTable

__all__ = ["CustomerQuery"]


@strawberry.type
class CustomerQuery:
    @strawberry.field(
        description=f"Customers, a page at a time (`first` ≤ {MAX_PAGE_SIZE}), in `sort` order (id by default)."
    )
    async def customers(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        filter: CustomerFilter | None = None,
        sort: CustomerSort = CustomerSort.ID,
    ) -> CustomerConnection:
        return await R.resolve_customers(info, first, after, filter, sort)

    @strawberry.field(description="One customer, or null when there is no such customer (or not in your book).")
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        return await R.resolve_customer(info, id)

    @strawberry.field(
        description=f"Customers as a table (`first` ≤ {MAX_TABLE_PAGE:,}): the record's columns, then age, "
        "`aum_month_average` (what the wealth tier reads), `current_balance` (today's deposit and investment "
        "balances, CNY), `household_id` and `household_tier`, then the latest run's value of each requested "
        "dimension (every dimension of individuals when `dimensions` is null): for bulk pulls."
    )
    async def customer_table(
        self,
        info: Info,
        first: int = 10_000,
        after: str | None = None,
        filter: CustomerFilter | None = None,
        dimensions: list[str] | None = None,
    ) -> CustomerTable:
        return await R.resolve_customer_table(info, first, after, filter, dimensions)
