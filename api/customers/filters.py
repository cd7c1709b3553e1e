"""Customer filters: GraphQL input → the domain's CustomerFilter."""

from __future__ import annotations

from enum import Enum

import strawberry

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record import queries as Q
from clientstrata.jobs.tracking.settings import ALERT_TYPES

__all__ = ["CustomerFilter", "TagFilter", "CustomerSort"]


@strawberry.enum(description="Order of the customers connection; the cursor carries the sort key.")
class CustomerSort(Enum):
    ID = "id"
    AUM_DESC = strawberry.enum_value("aum_desc", description="Current AUM, largest first (ties by id).")
    AUM_ASC = strawberry.enum_value("aum_asc", description="Current AUM, smallest first (ties by id).")


@strawberry.input(description="Customers whose tag on `dimension` (latest run) is any of `values`.")
class TagFilter:
    dimension: str
    values: list[str]


@strawberry.input(description="Every condition given must hold.")
class CustomerFilter:
    tier: str | None = strawberry.UNSET
    cooperation_depth: str | None = strawberry.UNSET
    branch_id: str | None = strawberry.UNSET
    rm_id: str | None = strawberry.UNSET
    tags: list[TagFilter] | None = strawberry.UNSET
    aum_min: float | None = strawberry.field(default=strawberry.UNSET, description="Month-average AUM ≥, CNY.")
    aum_max: float | None = strawberry.field(default=strawberry.UNSET, description="Month-average AUM <, CNY.")
    alert_type: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"Customers with an open alert of this type ({', '.join(ALERT_TYPES)})."
    )

    def to_domain(self) -> Q.CustomerFilter:
        given = {k: v for k, v in vars(self).items() if v is not strawberry.UNSET and v is not None}
        if given.get("alert_type") and given["alert_type"] not in ALERT_TYPES:
            raise InvalidInput(f"unknown alert type {given['alert_type']!r} (types: {', '.join(ALERT_TYPES)})")
        tags = tuple((t.dimension, tuple(t.values)) for t in given.pop("tags", []))
        return Q.CustomerFilter(**given, tags=tags)


def to_domain(flt: CustomerFilter | None) -> Q.CustomerFilter:
    return flt.to_domain() if flt else Q.CustomerFilter()
