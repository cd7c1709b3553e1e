"""Enterprise queries."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from clientstrata.api.refusals import hidden

from .types import Enterprise

__all__ = ["EnterpriseQuery"]


@strawberry.type
class EnterpriseQuery:
    @strawberry.field(description="One enterprise, or null (relationship managers see those they manage).")
    async def enterprise(self, info: Info, id: strawberry.ID) -> Enterprise | None:
        row = await info.context.enterprise.load(id)
        if row is None:
            await hidden(info, "enterprise", id)
        return Enterprise.from_row(row) if row else None
