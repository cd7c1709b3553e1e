"""Strategy types. Transport only: fields read what jobs/strategies returned."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.scalars import JSON
from strawberry.types import Info

from clientstrata.api.errors import Requires
from clientstrata.api.labels import Labelled
from clientstrata.graph.record.access import Permission
from clientstrata.jobs.strategies import playbook as pb
from clientstrata.jobs.strategies.strategy import CustomerStrategy as DomainStrategy

from .points import Points

if TYPE_CHECKING:
    from .actions_types import NextBestAction

__all__ = [
    "Entitlement",
    "Care",
    "ServicePackage",
    "MarketingPlay",
    "RiskMeasure",
    "FeeItem",
    "Price",
    "CustomerStrategy",
    "Playbook",
    "PackageCount",
    "SegmentStrategy",
]

_RISK = [PermissionExtension([Requires(Permission.READ_RISK_MEASURES)], use_directives=False)]


@strawberry.type(description="An entitlement (权益) a service package gives.")
class Entitlement(Labelled):
    name: str

    @classmethod
    def of(cls, e: pb.Entitlement) -> Entitlement:
        return cls(name=e.value, label_en=e.label_en, label_zh=e.label_zh)


@strawberry.type(description="Care cadence: visits per quarter, holiday greetings, birthday care.")
class Care:
    visits_per_quarter: int
    holiday_greetings: bool
    birthday_care: bool

    @classmethod
    def of(cls, c: pb.Care) -> Care:
        return cls(
            visits_per_quarter=c.visits_per_quarter,
            holiday_greetings=c.holiday_greetings,
            birthday_care=c.birthday_care,
        )


@strawberry.type(description="A service package of the playbook; `explanation` and `selector` when it is a customer's.")
class ServicePackage(Labelled):
    name: str
    entitlements: list[Entitlement]
    care: Care
    channels: list[str]
    advisor: JSON | None
    team: JSON | None
    services: list[str]
    services_zh: list[str]
    discounts: JSON = strawberry.field(description="Fee item → percent off (100: waived).")
    selectors: JSON = strawberry.field(description="The selectors, in precedence order; [] for the catch-all.")
    selector: str | None = strawberry.field(default=None, description="The selector that chose it (path in the file).")
    explanation: str | None = strawberry.field(default=None, description="Why the customer has it, in English.")
    explanation_zh: str | None = strawberry.field(default=None, description="Why, in Chinese (中文).")

    @classmethod
    def of(cls, p: pb.Package, chosen: DomainStrategy | None = None) -> ServicePackage:
        return cls(
            name=p.value,
            label_en=p.label_en,
            label_zh=p.label_zh,
            entitlements=[Entitlement.of(e) for e in p.entitlements],
            care=Care.of(p.care),
            channels=list(p.channels),
            advisor=p.advisor,
            team=p.team,
            services=list(p.services_en),
            services_zh=list(p.services_zh),
            discounts=p.discounts,
            selectors=[{d: list(v) for d, v in s.items()} for s in p.selectors],
            selector=chosen.selector if chosen else None,
            explanation=chosen.explanation_en if chosen else None,
            explanation_zh=chosen.explanation_zh if chosen else None,
        )


@strawberry.type(description="A marketing play (营销策略) for a segment.")
class MarketingPlay(Labelled):
    name: str
    selectors: JSON

    @classmethod
    def of(cls, p: pb.Play) -> MarketingPlay:
        return cls(
            name=p.value,
            label_en=p.label_en,
            label_zh=p.label_zh,
            selectors=[{d: list(v) for d, v in s.items()} for s in p.selectors],
        )


@strawberry.type(description="A risk measure (风险管理措施): credit, aml or suitability.")
class RiskMeasure(Labelled):
    name: str
    kind: str
    credit_limit_change_pct: float | None
    rate_change_bp: float | None
    review_months: int | None
    enhanced_due_diligence: bool | None
    product_ceiling: str | None

    @classmethod
    def of(cls, m: pb.RiskMeasure) -> RiskMeasure:
        return cls(
            name=m.value,
            kind=m.kind,
            label_en=m.label_en,
            label_zh=m.label_zh,
            credit_limit_change_pct=m.credit_limit_change_pct,
            rate_change_bp=m.rate_change_bp,
            review_months=m.review_months,
            enhanced_due_diligence=m.enhanced_due_diligence,
            product_ceiling=m.product_ceiling,
        )


@strawberry.type(description="A fee item of the fee schedule, with its base price in CNY.")
class FeeItem(Labelled):
    name: str
    base_price: float
    unit: str

    @classmethod
    def of(cls, f: pb.FeeItem) -> FeeItem:
        return cls(name=f.value, label_en=f.label_en, label_zh=f.label_zh, base_price=f.price, unit=f.unit)


@strawberry.type(description="What a customer pays for a fee item (递减定价), the discount and why.")
class Price:
    fee_item: str
    base_price: float
    discount_pct: float
    price: float
    why: str
    why_zh: str

    @classmethod
    def of(cls, r: dict) -> Price:
        return cls(
            fee_item=r["fee_item"],
            base_price=float(r["base_price"]),
            discount_pct=float(r["discount_pct"]),
            price=float(r["price"]),
            why=r["why_en"],
            why_zh=r["why_zh"],
        )


@strawberry.type(description="What the playbook does for one customer, from their tags as readers see them.")
class CustomerStrategy:
    _s: strawberry.Private[DomainStrategy]

    @strawberry.field(description="The customer's one service package and which selector chose it.")
    def package(self) -> ServicePackage:
        return ServicePackage.of(self._s.package, self._s)

    @strawberry.field(description="The marketing plays whose selectors the customer meets.")
    def marketing_plays(self) -> list[MarketingPlay]:
        return [MarketingPlay.of(p) for p in self._s.marketing_plays]

    @strawberry.field(description="Credit, AML and suitability measures; risk roles only.", extensions=_RISK)
    def risk_measures(self) -> list[RiskMeasure] | None:
        return [RiskMeasure.of(m) for m in self._s.risk_measures]

    @strawberry.field(description="Care cadence of the package.")
    def care(self) -> Care:
        return Care.of(self._s.package.care)

    @strawberry.field(description="The customer's price for `feeItem` (a fee schedule item), the discount and why.")
    def price(self, fee_item: str) -> Price:
        return Price.of(self._s.price(fee_item))

    @strawberry.field(description="Prices of every fee item of the schedule.")
    def prices(self) -> list[Price]:
        return [Price.of(r) for r in self._s.prices().to_dict("records")]

    @strawberry.field(description="The customer's points (积分): balance and postings.")
    def points(self) -> Points:
        return Points(customer_id=self._s.customer_id)

    @strawberry.field(
        description="The customer's next-best actions (at most 20), best first: the same answer as "
        "`Customer.nextBestActions`, here with the rest of what the playbook does for them."
    )
    async def next_best_actions(
        self, info: Info, first: int = 3, fresh: bool = False
    ) -> list[Annotated[NextBestAction, strawberry.lazy(".actions_types")]]:
        from clientstrata.api.strategies.actions_resolvers import resolve_next_best_actions, resolve_stored_actions

        if fresh:
            return await resolve_next_best_actions(info, self._s.customer_id, first)
        return await resolve_stored_actions(info, self._s.customer_id, first)


@strawberry.type(description="The playbook of the live standard: packages in precedence order, plays, fees.")
class Playbook:
    _p: strawberry.Private[pb.Playbook]

    @strawberry.field
    def version(self) -> str:
        return self._p.version

    @strawberry.field(description="Service packages in precedence order; the last is the catch-all.")
    def packages(self) -> list[ServicePackage]:
        return [ServicePackage.of(p) for p in self._p.packages]

    @strawberry.field
    def marketing_plays(self) -> list[MarketingPlay]:
        return [MarketingPlay.of(p) for p in self._p.marketing_plays]

    @strawberry.field(description="Risk measures; risk roles only.", extensions=_RISK)
    def risk_measures(self) -> list[RiskMeasure] | None:
        return [RiskMeasure.of(m) for m in self._p.risk_measures]

    @strawberry.field
    def fee_schedule(self) -> list[FeeItem]:
        return [FeeItem.of(f) for f in self._p.fee_schedule]

    @strawberry.field(description="Extra discount points by value decile, on top of the package's.")
    def contribution_discounts(self) -> JSON:
        return [{"deciles": list(c.deciles), "extra_pct": c.extra_pct} for c in self._p.contribution_discounts]


@strawberry.type
class PackageCount:
    package: str
    customers: int


@strawberry.type(description="A segment's strategy: its customers' packages, and the plays naming it.")
class SegmentStrategy:
    dimension: str
    value: str
    packages: list[PackageCount]
    marketing_plays: list[MarketingPlay]
    _measures: strawberry.Private[list]

    @strawberry.field(description="Risk measures naming the segment; risk roles only.", extensions=_RISK)
    def risk_measures(self) -> list[RiskMeasure] | None:
        return [RiskMeasure.of(m) for m in self._measures]
