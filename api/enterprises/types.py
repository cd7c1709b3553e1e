"""Enterprise types."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from clientstrata.api.bank.types import RelationshipManager
from clientstrata.api.customers.types import Tag

if TYPE_CHECKING:
    from clientstrata.api.customers.types import Customer

__all__ = ["Enterprise", "LinkedPerson", "SupplyChainPartner"]


@strawberry.type(
    description="An individual linked to an enterprise: employee (with or without payroll, 代发工资) "
    "or controller (legal_rep, shareholder, executive)."
)
class LinkedPerson:
    customer_id: strawberry.ID
    name: str
    link: str
    payroll: bool | None
    share: float | None

    @strawberry.field
    async def customer(self, info: Info) -> Annotated[Customer, strawberry.lazy("..customers.types")] | None:
        from clientstrata.api.customers.types import Customer

        row = await info.context.customer.load(str(self.customer_id))
        return Customer.from_row(row) if row else None


@strawberry.type(description="A supplier or buyer of the enterprise and the annual volume between them.")
class SupplyChainPartner:
    enterprise_id: strawberry.ID
    name: str
    role: str = strawberry.field(description="supplier (sells to this enterprise) or buyer (buys from it).")
    annual_volume: float | None


@strawberry.type(description="An enterprise customer (对公客户).")
class Enterprise:
    id: strawberry.ID
    name: str
    industry: str | None = strawberry.field(description="GB/T 4754 section letter.")
    size: str | None
    registered_capital: float | None
    annual_revenue: float | None
    founded_on: dt.date | None
    branch_id: str | None
    rm_id: str | None

    @classmethod
    def from_row(cls, r: dict) -> Enterprise:
        return cls(
            id=strawberry.ID(r["enterprise_id"]),
            name=r["name"],
            industry=r["industry"],
            size=r["size"],
            registered_capital=r["registered_capital"],
            annual_revenue=r["annual_revenue"],
            founded_on=r["founded_on"],
            branch_id=r["branch_id"],
            rm_id=r["rm_id"],
        )

    @strawberry.field(
        description="Enterprise dimensions of the latest run (industry, size, credit tier, ecosystem role)."
    )
    async def tags(self, info: Info) -> list[Tag]:
        return [Tag.from_row(r) for r in await info.context.tags.load(str(self.id))]

    @strawberry.field(
        description="Linked individuals you may see: controllers first, then payroll employees "
        "(at most 200; `peopleCount` has them all)."
    )
    async def people(self, info: Info) -> list[LinkedPerson]:
        rows = await info.context.enterprise_people.load(str(self.id))
        return [
            LinkedPerson(
                customer_id=r["customer_id"],
                name=r["name"],
                link=r["link"],
                payroll=None if r["payroll"] is None else bool(r["payroll"]),
                share=r["share"],
            )
            for r in rows
        ]

    @strawberry.field(description="How many linked individuals you may see.")
    async def people_count(self, info: Info) -> int:
        rows = await info.context.enterprise_people.load(str(self.id))
        return int(rows[0]["total"]) if rows else 0

    @strawberry.field(description="Suppliers and buyers (供应链).")
    async def supply_chain(self, info: Info) -> list[SupplyChainPartner]:
        rows = await info.context.supply_chain.load(str(self.id))
        return [
            SupplyChainPartner(
                enterprise_id=r["partner_id"],
                name=r["partner_name"],
                role=r["partner_role"],
                annual_volume=r["annual_volume"],
            )
            for r in rows
        ]

    @strawberry.field
    async def relationship_manager(self, info: Info) -> RelationshipManager | None:
        row = await info.context.rm.load(self.rm_id) if self.rm_id else None
        return RelationshipManager.from_row(row) if row else None
