"""Customer types. Transport only: fields read what the domain functions returned."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from clientstrata.api.labels import Labelled
from clientstrata.api.pagination import PageInfo
from clientstrata.api.tables import arrow_text, json_columns, json_rows, page_columns
from clientstrata.graph.record.access import Permission
from clientstrata.graph.record.pii import mask_account_number, mask_address, mask_email, mask_id_number, mask_phone
from clientstrata.jobs.runs.explain import words

from .ecosystem import EcosystemEdge, resolve_ecosystem

if TYPE_CHECKING:
    from clientstrata.api.bank.types import RelationshipManager
    from clientstrata.api.households.types import Household
    from clientstrata.api.strategies.actions_types import NextBestAction
    from clientstrata.api.strategies.types import CustomerStrategy
    from clientstrata.api.tracking.types import Alert, Feedback

__all__ = [
    "Customer",
    "Tag",
    "TagHistoryEntry",
    "Holding",
    "ProductFamilyHoldings",
    "CustomerEdge",
    "CustomerConnection",
    "CustomerTable",
]


@strawberry.type(description="One classification of a customer on one dimension, with its reason.")
class Tag(Labelled):
    dimension: str
    value: str
    score: float | None
    inputs: JSON = strawberry.field(description="The inputs the rule used.")
    standard_version: str
    run_id: int
    computed_value: str | None = strawberry.field(
        default=None, description="The value the run computed; differs from `value` when a manual override applies."
    )
    override_id: int | None = strawberry.field(
        default=None, description="The manual override in force, if any (`override(id)` reads it whole)."
    )
    overridden_by: str | None = strawberry.field(default=None, description="Who approved the override.")
    override_reason: str | None = strawberry.field(default=None, description="Why the value was overridden.")
    row: strawberry.Private[dict | None] = None  # the stored tag: its words are made only when asked for

    @strawberry.field(description="Why: the rule that fired, in English (with the override in force, if any).")
    def explanation(self) -> str:
        return words(self.row, "en")

    @strawberry.field(description="Why, in Chinese (中文).")
    def explanation_zh(self) -> str:
        return words(self.row, "zh")

    @classmethod
    def from_row(cls, r: dict) -> Tag:
        return cls(
            dimension=r["dimension"],
            value=r["value"],
            label_en=r["label_en"],
            label_zh=r["label_zh"],
            score=r["score"],
            inputs=r["inputs"],
            standard_version=r["standard_version"],
            run_id=r["run_id"],
            computed_value=r.get("computed_value", r["value"]),
            override_id=r.get("override_id"),
            overridden_by=r.get("overridden_by"),
            override_reason=r.get("override_reason"),
            row=r,
        )


@strawberry.type(description="The value one published run computed for a customer on one dimension.")
class TagHistoryEntry(Labelled):
    run_id: int
    published_at: dt.datetime
    standard_version: str
    value: str
    score: float | None
    explanation: str = strawberry.field(description="Why: the rule that fired, in English.")
    explanation_zh: str = strawberry.field(description="Why, in Chinese (中文).")

    @classmethod
    def from_row(cls, r: dict) -> TagHistoryEntry:
        return cls(
            run_id=r["run_id"],
            published_at=r["published_at"],
            standard_version=r["standard_version"],
            value=r["value"],
            label_en=r["label_en"],
            label_zh=r["label_zh"],
            score=r["score"],
            explanation=r["explanation"],
            explanation_zh=r["explanation_zh"],
        )


def _withheld(_value: object) -> None:
    """A number or flag has no partial form: roles without need get nothing."""
    return None


def _pii(info: Info, customer_id: str, field: str, value, mask):
    """The value for roles that need it (each read audited); masked for everyone else."""
    if value is None or not info.context.principal.can(Permission.READ_PII):
        return mask(value)
    info.context.pii_reads.add((customer_id, field))
    return value


@strawberry.type(description="One account or running loan and its product.")
class Holding:
    id: strawberry.ID = strawberry.field(
        description="The account id; a loan's is `loan:<loan id>` (accounts and loans are numbered apart). "
        "A client's cache merges a holding by it."
    )
    account_id: str = strawberry.field(description="The account id, or for a loan the loan id.")
    product_id: str
    product_name: str
    family: str
    risk_level: str | None
    currency: str
    balance: float | None = strawberry.field(description="Balance; outstanding principal for a loan.")
    status: str
    _customer_id: strawberry.Private[str]
    _account_number: strawberry.Private[str | None]

    @strawberry.field(description="Account number; first six and last four for roles without need.")
    def account_number(self, info: Info) -> str | None:
        return _pii(
            info, self._customer_id, f"account_number:{self.account_id}", self._account_number, mask_account_number
        )


@strawberry.type(
    description="Holdings of one product family (deposit, wealth_management, fund, insurance, loan, card)."
)
class ProductFamilyHoldings:
    family: str
    balance: float
    holdings: list[Holding]


@strawberry.type(
    description="An individual customer. ID numbers, phones and addresses are masked unless the "
    "caller's role needs them (JR/T 0171-2020)."
)
class Customer:
    id: strawberry.ID
    name: str
    gender: str | None
    birth_date: dt.date | None
    branch_id: str | None
    rm_id: str | None
    aum: float = strawberry.field(
        description="The latest month's average daily AUM, CNY (= `aumMonthAverage`; the name kept for "
        "existing clients)."
    )
    aum_month_average: float = strawberry.field(
        description="The latest month's average daily AUM, CNY: what the wealth tier reads, refreshed by every "
        "ingest (tags change only with published runs). Not today's balance: see `currentBalance`."
    )
    occupation: str | None
    onboarded_on: dt.date | None = strawberry.field(description="When the customer relationship began.")
    _row: strawberry.Private[dict]

    @classmethod
    def from_row(cls, r: dict) -> Customer:
        return cls(
            id=strawberry.ID(r["customer_id"]),
            name=r["name"],
            gender=r["gender"],
            birth_date=r["birth_date"],
            branch_id=r["branch_id"],
            rm_id=r["rm_id"],
            aum=float(r.get("aum") or 0.0),
            aum_month_average=float(r.get("aum") or 0.0),
            occupation=r.get("occupation"),
            onboarded_on=r.get("onboarded_on"),
            _row=r,
        )

    @strawberry.field(description="Resident ID number; masked (110***********1234) for roles without need.")
    def id_number(self, info: Info) -> str | None:
        return _pii(info, str(self.id), "id_number", self._row.get("id_number"), mask_id_number)

    @strawberry.field(description="Phone; masked (138****8000) for roles without need.")
    def phone(self, info: Info) -> str | None:
        return _pii(info, str(self.id), "phone", self._row.get("phone"), mask_phone)

    @strawberry.field(
        description="Home address; only the region down to district (北京市朝阳区***) for roles without need."
    )
    def address(self, info: Info) -> str | None:
        return _pii(info, str(self.id), "address", self._row.get("address"), mask_address)

    @strawberry.field(description="Email; masked (z***@example.com) for roles without need.")
    def email(self, info: Info) -> str | None:
        return _pii(info, str(self.id), "email", self._row.get("email"), mask_email)

    @strawberry.field(description="Declared annual income, CNY; null for roles without need (personal financial data).")
    def annual_income(self, info: Info) -> float | None:
        value = _pii(info, str(self.id), "annual_income", self._row.get("annual_income"), _withheld)
        return float(value) if value is not None else None

    @strawberry.field(description="Credit bureau score; null for roles without need (personal financial data).")
    def credit_score(self, info: Info) -> int | None:
        return _pii(info, str(self.id), "credit_score", self._row.get("credit_score"), _withheld)

    @strawberry.field(description="Politically exposed person (AML); null for roles without need.")
    def is_pep(self, info: Info) -> bool | None:
        return _pii(info, str(self.id), "is_pep", self._row.get("is_pep"), _withheld)

    @strawberry.field(description="Age in whole years today, from the birth date.")
    def age(self) -> int | None:
        born, today = self.birth_date, dt.date.today()
        if born is None:
            return None
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    @strawberry.field(
        description="Today's balances of open deposit and investment accounts, CNY at the live standard's rates: "
        "what `holdings` add up to, without loans. Not the month average the tiers read (`aumMonthAverage`)."
    )
    async def current_balance(self, info: Info) -> float:
        rows = await info.context.holdings.load(str(self.id))
        fx = await info.context.fx_to_cny.load("live")
        return round(
            sum(float(r["balance"] or 0) * fx.get(r["currency"], 0.0) for r in rows if r["family"] != "loan"), 2
        )

    @strawberry.field(
        description="Tags of the latest published run; with `asOf`, as readers saw them at the end "
        "of that day (the run published last by then, with the overrides then in force)."
    )
    async def tags(self, info: Info, dimension: str | None = None, as_of: dt.date | None = None) -> list[Tag]:
        from .resolvers import resolve_tags

        return await resolve_tags(info, str(self.id), dimension, as_of)

    @strawberry.field(
        description="The value every published run computed on `dimension`, oldest run first "
        "(manual overrides are not part of a run: see `tags(asOf:)`)."
    )
    async def tag_history(self, info: Info, dimension: str) -> list[TagHistoryEntry]:
        from .resolvers import resolve_tag_history

        return await resolve_tag_history(info, str(self.id), dimension)

    @strawberry.field(description="Wealth tier value of the latest run (mass, affluent, wealth, private_banking).")
    async def tier(self, info: Info) -> str | None:
        return await self._value(info, "wealth_tier")

    @strawberry.field(description="Cooperation depth of the latest run.")
    async def cooperation_depth(self, info: Info) -> str | None:
        return await self._value(info, "cooperation_depth")

    async def _value(self, info: Info, dimension: str) -> str | None:
        return await info.context.tag_value.load((str(self.id), dimension))

    @strawberry.field(
        description="What the playbook does for the customer (service package and why, plays, risk "
        "measures, care, prices), from their tags as readers see them; null before any run."
    )
    async def strategy(self, info: Info) -> Annotated[CustomerStrategy, strawberry.lazy("..strategies.types")] | None:
        from clientstrata.api.strategies.resolvers import resolve_strategy

        return await resolve_strategy(info, str(self.id))

    @strawberry.field(description="Open accounts and running loans, grouped by product family.")
    async def holdings(self, info: Info) -> list[ProductFamilyHoldings]:
        rows = await info.context.holdings.load(str(self.id))
        families: dict[str, list[Holding]] = {}
        for r in rows:
            families.setdefault(r["family"], []).append(
                Holding(
                    id=strawberry.ID(r["account_id"] if r["kind"] == "account" else f"loan:{r['account_id']}"),
                    account_id=r["account_id"],
                    product_id=r["product_id"],
                    product_name=r["product_name"],
                    family=r["family"],
                    risk_level=r["risk_level"],
                    currency=r["currency"],
                    balance=r["balance"],
                    status=r["status"],
                    _customer_id=str(self.id),
                    _account_number=r["account_number"],
                )
            )
        return [
            ProductFamilyHoldings(family=f, balance=round(sum(h.balance or 0 for h in hs), 2), holdings=hs)
            for f, hs in families.items()
        ]

    @strawberry.field(description="The customer's relationship manager (客户经理).")
    async def relationship_manager(
        self, info: Info
    ) -> Annotated[RelationshipManager, strawberry.lazy("..bank.types")] | None:
        from clientstrata.api.bank.types import RelationshipManager

        row = await info.context.rm.load(self.rm_id) if self.rm_id else None
        return RelationshipManager.from_row(row) if row else None

    @strawberry.field(
        description="Customers, enterprises and households within `hops` (1–4) in the graph: "
        "employer, controlled enterprises, household, co-holders. Nearest first "
        "(then enterprises, households, people), at most `first` (≤ 1000): a "
        "payroll employer's whole staff is two hops from each employee. Null, with an error of code "
        "GRAPH_UNAVAILABLE, while the graph cannot answer: the rest of the customer is still served."
    )
    async def ecosystem(self, info: Info, hops: int = 2, first: int = 100) -> list[EcosystemEdge] | None:

        return await resolve_ecosystem(info, str(self.id), hops, first)

    @strawberry.field(description="The customer's alerts, newest first (at most 50); `status`: open or acknowledged.")
    async def alerts(
        self, info: Info, status: str | None = None
    ) -> list[Annotated[Alert, strawberry.lazy("..tracking.types")]]:
        from clientstrata.api.tracking.types import Alert

        return [
            Alert.from_row(r)
            for r in await info.context.alerts.load(str(self.id))
            if status is None or r["status"] == status
        ]

    @strawberry.field(
        description="The customer's next-best actions (at most 20), best first, with their reasons; never a "
        "product above their suitability, never a held-out action. Those the latest run chose (what work "
        "lists show); with `fresh: true`, decided now by the same function, from the tags, open alerts, "
        "holdings and outcomes recorded since."
    )
    async def next_best_actions(
        self, info: Info, first: int = 3, fresh: bool = False
    ) -> list[Annotated[NextBestAction, strawberry.lazy("..strategies.actions_types")]]:
        from clientstrata.api.strategies.actions_resolvers import resolve_next_best_actions, resolve_stored_actions

        if fresh:
            return await resolve_next_best_actions(info, str(self.id), first)
        return await resolve_stored_actions(info, str(self.id), first)

    @strawberry.field(
        description="Surveys, complaints and compliments recorded against the customer, newest first (at most 50)."
    )
    async def feedback(self, info: Info) -> list[Annotated[Feedback, strawberry.lazy("..tracking.types")]]:
        from clientstrata.api.tracking.types import Feedback

        return [Feedback.from_row(r) for r in await info.context.feedback.load(str(self.id))]

    @strawberry.field
    async def household(self, info: Info) -> Annotated[Household, strawberry.lazy("..households.types")] | None:
        from clientstrata.api.households.types import Household

        ctx = info.context
        found = await ctx.household_of.load(str(self.id))
        if found is None:
            return None
        household, members = found
        # the one read holds what the household's fields ask next: prime, do not read again
        ctx.household.prime(household["household_id"], household)
        ctx.household_members.prime(household["household_id"], members)
        for m in members:
            ctx.customer.prime(m["customer_id"], m["customer"])
        return Household.from_row(household)


@strawberry.type
class CustomerEdge:
    cursor: str
    node: Customer


@strawberry.type
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Customers the filter matches in your book; counted only when asked for.")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type(
    description="A page of customers as columns and rows: the bulk path for analysts' pulls. "
    "`rows` is a JSON list of lists in `columns` order; `columnValues` the same page column by "
    "column (cheaper to build and to read in bulk); dates are ISO strings. `arrow` is the same page "
    "as one Arrow IPC stream in base64 (the cheapest: what the SDK reads when pyarrow is installed)."
)
class CustomerTable:
    columns: list[str]
    page_info: PageInfo
    frame: strawberry.Private[Any]  # the page (a frame or an Arrow table); encoded only as the query asks
    # the filter's total, or how to count it: a bulk pull asks for it on its first page only
    count: strawberry.Private[int | Callable[[], Awaitable[int]]]

    @strawberry.field(description="The page's rows, each a list in `columns` order.")
    def rows(self) -> JSON:
        return json_rows(self.frame)

    @strawberry.field(description="The page column by column: one list per entry of `columns`, in its order.")
    def column_values(self) -> JSON:
        return json_columns(self.frame)

    @strawberry.field(
        description="The page as an Arrow IPC stream, base64: one record batch, columns in `columns` order, "
        "text columns dictionary encoded, dates as dates, numbers typed, nulls where a value is missing."
    )
    def arrow(self) -> str:
        return arrow_text(self.frame)

    @strawberry.field
    async def total_count(self) -> int:
        return self.count if isinstance(self.count, int) else await self.count()

    @classmethod
    def of(
        cls, page, has_next: bool, end_cursor: str | None, count: int | Callable[[], Awaitable[int]]
    ) -> CustomerTable:
        return cls(
            columns=page_columns(page),
            page_info=PageInfo(has_next_page=has_next, end_cursor=end_cursor),
            frame=page,
            count=count,
        )
