"""Customer filters: GraphQL input → the domain's CustomerFilter."""
from __future__ import annotations

import strawberry

from ...graph import queries as Q

__all__ = ["CustomerFilter", "TagFilter"]


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

    def to_domain(self) -> Q.CustomerFilter:
        given = {k: v for k, v in vars(self).items() if v is not strawberry.UNSET and v is not None}
        tags = tuple((t.dimension, tuple(t.values)) for t in given.pop("tags", []))
        return Q.CustomerFilter(**given, tags=tags)


def to_domain(flt: CustomerFilter | None) -> Q.CustomerFilter:
    return flt.to_domain() if flt else Q.CustomerFilter()
