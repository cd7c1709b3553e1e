"""GraphQL types. Transport only: fields read what the domain functions returned."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from ..graph.pii import mask_id_number, mask_phone

__all__ = ["Customer", "Tag", "Household", "HouseholdMember", "CustomerEdge", "CustomerConnection",
           "PageInfo", "CustomerFilter"]


@strawberry.type(description="One classification of a customer on one dimension, with its reason.")
class Tag:
    dimension: str
    value: str
    label: str = strawberry.field(description="English label.")
    label_zh: str = strawberry.field(description="Chinese label (中文).")
    score: float | None
    explanation: str = strawberry.field(description="The rule that fired, in words.")
    inputs: JSON = strawberry.field(description="The inputs the rule used.")
    standard_version: str
    run_id: int
    computed_value: str | None = strawberry.field(
        default=None, description="The value the run computed; differs from `value` when a manual override applies.")
    override_id: int | None = strawberry.field(default=None, description="The manual override in force, if any.")
    overridden_by: str | None = strawberry.field(default=None, description="Who approved the override.")
    override_reason: str | None = strawberry.field(default=None, description="Why the value was overridden.")

    @classmethod
    def from_row(cls, r: dict) -> "Tag":
        return cls(dimension=r["dimension"], value=r["value"], label=r["label_en"], label_zh=r["label_zh"],
                   score=r["score"], explanation=r["rule"], inputs=r["inputs"],
                   standard_version=r["standard_version"], run_id=r["run_id"],
                   computed_value=r.get("computed_value", r["value"]), override_id=r.get("override_id"),
                   overridden_by=r.get("overridden_by"), override_reason=r.get("override_reason"))


@strawberry.type(description="An individual customer. ID and phone numbers are masked.")
class Customer:
    id: strawberry.ID
    name: str
    gender: str | None
    birth_date: dt.date | None
    branch_id: str | None
    rm_id: str | None
    _row: strawberry.Private[dict]

    @classmethod
    def from_row(cls, r: dict) -> "Customer":
        return cls(id=strawberry.ID(r["customer_id"]), name=r["name"], gender=r["gender"],
                   birth_date=r["birth_date"], branch_id=r["branch_id"], rm_id=r["rm_id"], _row=r)

    @strawberry.field(description="Resident ID number, masked (110***********1234).")
    def id_number(self) -> str | None:
        return mask_id_number(self._row.get("id_number"))

    @strawberry.field(description="Phone, masked (138****8000).")
    def phone(self) -> str | None:
        return mask_phone(self._row.get("phone"))

    @strawberry.field(description="Tags of the latest published run.")
    async def tags(self, info: Info, dimension: str | None = None) -> list[Tag]:
        rows = await info.context.tags.load(str(self.id))
        return [Tag.from_row(r) for r in rows if dimension is None or r["dimension"] == dimension]

    @strawberry.field(description="Wealth tier value of the latest run (mass, affluent, wealth, private_banking).")
    async def tier(self, info: Info) -> str | None:
        rows = await info.context.tags.load(str(self.id))
        return next((r["value"] for r in rows if r["dimension"] == "wealth_tier"), None)

    @strawberry.field(description="Cooperation depth of the latest run.")
    async def cooperation_depth(self, info: Info) -> str | None:
        rows = await info.context.tags.load(str(self.id))
        return next((r["value"] for r in rows if r["dimension"] == "cooperation_depth"), None)

    @strawberry.field
    async def household(self, info: Info) -> Annotated["Household", strawberry.lazy("clientstrata.api.types")] | None:
        from .resolvers import resolve_household
        hid = await info.context.household_id.load(str(self.id))
        return await resolve_household(info, hid) if hid else None


@strawberry.type
class HouseholdMember:
    role: str
    aum: float
    customer_id: strawberry.ID

    @strawberry.field
    async def customer(self, info: Info) -> Customer | None:
        row = await info.context.customer.load(str(self.customer_id))
        return Customer.from_row(row) if row else None


@strawberry.type(description="A household (家庭) with its members and their combined AUM.")
class Household:
    id: strawberry.ID
    name: str | None
    status: str = strawberry.field(description="confirmed, or candidate (inferred, awaiting review).")
    aum: float = strawberry.field(description="Sum of the members' month-average AUM, CNY.")
    members: list[HouseholdMember]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class CustomerEdge:
    cursor: str
    node: Customer


@strawberry.type
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo
    total_count: int


@strawberry.input
class CustomerFilter:
    tier: str | None = None
    cooperation_depth: str | None = None
    branch_id: str | None = None
    rm_id: str | None = None
