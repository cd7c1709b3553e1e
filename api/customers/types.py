"""Customer types. Transport only: fields read what the domain functions returned."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from ...graph.access import Permission
from ...graph.pii import mask_id_number, mask_phone
from ..pagination import PageInfo

if TYPE_CHECKING:
    from ..households.types import Household

__all__ = ["Customer", "Tag", "CustomerEdge", "CustomerConnection", "CustomerTable"]


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

    @classmethod
    def from_row(cls, r: dict) -> "Tag":
        return cls(dimension=r["dimension"], value=r["value"], label=r["label_en"], label_zh=r["label_zh"],
                   score=r["score"], explanation=r["rule"], inputs=r["inputs"],
                   standard_version=r["standard_version"], run_id=r["run_id"])


def _pii(info: Info, customer_id: str, field: str, value: str | None, mask) -> str | None:
    """The value for roles that need it (each read audited); masked for everyone else."""
    if value is None or not info.context.principal.can(Permission.READ_PII):
        return mask(value)
    info.context.pii_reads.add((customer_id, field))
    return value


@strawberry.type(description="An individual customer. ID and phone numbers are masked unless the caller's "
                             "role needs them (JR/T 0171-2020).")
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

    @strawberry.field(description="Resident ID number; masked (110***********1234) for roles without need.")
    def id_number(self, info: Info) -> str | None:
        return _pii(info, str(self.id), "id_number", self._row.get("id_number"), mask_id_number)

    @strawberry.field(description="Phone; masked (138****8000) for roles without need.")
    def phone(self, info: Info) -> str | None:
        return _pii(info, str(self.id), "phone", self._row.get("phone"), mask_phone)

    @strawberry.field(description="Tags of the latest published run.")
    async def tags(self, info: Info, dimension: str | None = None) -> list[Tag]:
        rows = await info.context.tags.load(str(self.id))
        return [Tag.from_row(r) for r in rows if dimension is None or r["dimension"] == dimension]

    @strawberry.field(description="Wealth tier value of the latest run (mass, affluent, wealth, private_banking).")
    async def tier(self, info: Info) -> str | None:
        return await self._value(info, "wealth_tier")

    @strawberry.field(description="Cooperation depth of the latest run.")
    async def cooperation_depth(self, info: Info) -> str | None:
        return await self._value(info, "cooperation_depth")

    async def _value(self, info: Info, dimension: str) -> str | None:
        rows = await info.context.tags.load(str(self.id))
        return next((r["value"] for r in rows if r["dimension"] == dimension), None)

    @strawberry.field
    async def household(self, info: Info) -> Annotated["Household", strawberry.lazy("..households.types")] | None:
        from ..households.resolvers import resolve_household
        hid = await info.context.household_id.load(str(self.id))
        return await resolve_household(info, hid) if hid else None


@strawberry.type
class CustomerEdge:
    cursor: str
    node: Customer


@strawberry.type
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="A page of customers as columns and rows: the bulk path for analysts' pulls. "
                             "`rows` is a JSON list of lists in `columns` order; dates are ISO strings.")
class CustomerTable:
    columns: list[str]
    rows: JSON
    total_count: int
    page_info: PageInfo
