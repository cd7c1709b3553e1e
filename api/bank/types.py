"""Branch and relationship-manager types."""

from __future__ import annotations

import datetime as dt

import strawberry

__all__ = ["Branch", "RelationshipManager"]


@strawberry.type(description="A branch (网点).")
class Branch:
    id: strawberry.ID
    name: str
    region: str | None
    city: str | None


@strawberry.type(description="A relationship manager (客户经理) and their branch.")
class RelationshipManager:
    id: strawberry.ID
    name: str
    grade: str | None
    hired_on: dt.date | None
    branch: Branch

    @classmethod
    def from_row(cls, r: dict) -> RelationshipManager:
        return cls(
            id=strawberry.ID(r["rm_id"]),
            name=r["name"],
            grade=r["grade"],
            hired_on=r["hired_on"],
            branch=Branch(id=strawberry.ID(r["branch_id"]), name=r["branch_name"], region=r["region"], city=r["city"]),
        )
