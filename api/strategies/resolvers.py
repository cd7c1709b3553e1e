"""Strategy resolvers: one call each into jobs/strategies."""

from __future__ import annotations

from strawberry.types import Info

from clientstrata.jobs.strategies.strategy import customer_strategy

from .types import CustomerStrategy

__all__ = ["resolve_strategy"]


async def resolve_strategy(info: Info, customer_id: str) -> CustomerStrategy | None:
    rows = await info.context.tags.load(customer_id)  # effective tags, the caller's book already applied
    found = await info.context.run(customer_strategy, customer_id, rows)
    return CustomerStrategy(_s=found) if found else None
