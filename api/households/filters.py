"""Household filters: GraphQL input → the domain's HouseholdFilter."""

from __future__ import annotations

from enum import Enum

import strawberry

from clientstrata.graph.record import households as H

__all__ = ["HouseholdFilter", "HouseholdStatus", "to_domain"]


@strawberry.enum(
    description="CONFIRMED, or CANDIDATE (inferred, awaiting review); `Household.status` returns the same."
)
class HouseholdStatus(Enum):
    CONFIRMED = "confirmed"
    CANDIDATE = "candidate"


@strawberry.input(description="Every condition given must hold.")
class HouseholdFilter:
    tier: str | None = strawberry.field(
        default=strawberry.UNSET, description="Household tier of the latest run (household_wealth_tier)."
    )
    branch_id: str | None = strawberry.field(
        default=strawberry.UNSET, description="Households with a member at this branch."
    )
    status: HouseholdStatus | None = strawberry.UNSET
    aum_min: float | None = strawberry.field(default=strawberry.UNSET, description="Combined AUM ≥, CNY.")
    aum_max: float | None = strawberry.field(default=strawberry.UNSET, description="Combined AUM <, CNY.")

    def to_domain(self) -> H.HouseholdFilter:
        given = {k: v for k, v in vars(self).items() if v is not strawberry.UNSET and v is not None}
        if "status" in given:
            given["status"] = given["status"].value
        return H.HouseholdFilter(**given)


def to_domain(flt: HouseholdFilter | None) -> H.HouseholdFilter:
    return flt.to_domain() if flt else H.HouseholdFilter()
