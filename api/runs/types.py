"""Run, what-if and change-feed types. Transport only: each is built from what a domain function returned."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from clientstrata.api.context import CHANGE_KEY
from clientstrata.api.pagination import PageInfo

__all__ = [
    "ClassificationRun",
    "RunEdge",
    "RunConnection",
    "MigrationCell",
    "Migration",
    "Mover",
    "DimensionMovement",
    "WhatIfReport",
    "WhatIf",
    "ClassificationChange",
    "ChangeEdge",
    "ChangeConnection",
]


@strawberry.type(
    description="A classification run: numbered, published whole or not at all. `status`: queued → "
    "running → published | failed."
)
class ClassificationRun:
    id: int = strawberry.field(description="The run number.")
    status: str
    kind: str = strawberry.field(description="scheduled or on_demand.")
    requested_by: str | None
    standard_version: str
    standard_sha256: str
    started_at: dt.datetime = strawberry.field(description="When it started (while queued: when it was queued).")
    published_at: dt.datetime | None
    customer_count: int | None
    error: str | None = strawberry.field(description="Why a failed run failed.")

    @classmethod
    def from_row(cls, r: dict) -> ClassificationRun:
        return cls(
            id=r["run_id"],
            status=r["status"],
            kind=r["kind"],
            requested_by=r["requested_by"],
            standard_version=r["standard_version"],
            standard_sha256=r["standard_sha256"],
            started_at=r["started_at"],
            published_at=r["published_at"],
            customer_count=r["customer_count"],
            error=r["error"],
        )


@strawberry.type
class RunEdge:
    cursor: str
    node: ClassificationRun


@strawberry.type(description="Runs, newest first.")
class RunConnection:
    edges: list[RunEdge]
    page_info: PageInfo


@strawberry.type(description="How many customers went from one value to another.")
class MigrationCell:
    from_value: str = strawberry.field(description="`(none)`: not tagged on that side.")
    to_value: str
    customers: int


@strawberry.type(
    description="The migration matrix of one dimension between two published runs (computed values), "
    "as its non-empty cells."
)
class Migration:
    from_run: int
    to_run: int
    dimension: str
    customers: int
    moved: int
    cells: list[MigrationCell]


@strawberry.type(description="A customer the draft would move.")
class Mover:
    customer_id: strawberry.ID
    from_value: str
    to_value: str


@strawberry.type(
    description="One dimension under the draft: how many customers move, between which values, "
    "and the first movers by customer id."
)
class DimensionMovement:
    dimension: str
    customers: int
    moved: int
    from_to: list[MigrationCell] = strawberry.field(description="Movers only, by from/to value.")
    sample: list[Mover]


@strawberry.type(description="A draft standard against current data, diffed with the live run. Nothing is published.")
class WhatIfReport:
    standard_version: str
    standard_sha256: str
    base_run_id: int | None = strawberry.field(description="The live run compared against.")
    published: bool = strawberry.field(description="Always false: a what-if publishes nothing.")
    moved: int = strawberry.field(description="Tags that would change, over every dimension.")
    dimensions: list[DimensionMovement]

    @classmethod
    def from_row(cls, r: dict) -> WhatIfReport:
        report = r["report"]
        dims = [
            DimensionMovement(
                dimension=d["dimension"],
                customers=d["customers"],
                moved=d["moved"],
                from_to=[MigrationCell(**c) for c in d["from_to"]],
                sample=[Mover(**m) for m in d["sample"]],
            )
            for d in report["dimensions"]
        ]
        return cls(
            standard_version=r["standard_version"],
            standard_sha256=r["standard_sha256"],
            base_run_id=r["base_run_id"],
            published=False,
            moved=report["moved"],
            dimensions=dims,
        )


@strawberry.type(
    description="A what-if of a draft standard, done in the background like a run: `status` queued → "
    "running → done | failed. Follow it with `whatIf(id)`; `report` is there once done."
)
class WhatIf:
    id: int = strawberry.field(description="The what-if's number.")
    status: str
    requested_by: str
    requested_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    standard_version: str = strawberry.field(description="The draft's `version`.")
    standard_sha256: str
    sample: int = strawberry.field(description="Movers kept per dimension.")
    error: str | None = strawberry.field(description="Why a failed what-if failed.")
    report: WhatIfReport | None = strawberry.field(description="Once done: the draft against the live run.")

    @classmethod
    def from_row(cls, r: dict) -> WhatIf:
        return cls(
            id=r["whatif_id"],
            status=r["status"],
            requested_by=r["requested_by"],
            requested_at=r["requested_at"],
            started_at=r["started_at"],
            finished_at=r["finished_at"],
            standard_version=r["standard_version"],
            standard_sha256=r["standard_sha256"],
            sample=r["sample"],
            error=r["error"],
            report=WhatIfReport.from_row(r) if r["report"] is not None else None,
        )


@strawberry.type(
    description="One customer's effective value on one dimension changed: by a published run or by an "
    "approved, revoked or expired override."
)
class ClassificationChange:
    seq: int = strawberry.field(description="Position in the feed; only grows.")
    at: dt.datetime
    source: str = strawberry.field(description="run or override.")
    run_id: int | None
    override_id: int | None
    customer_id: strawberry.ID
    dimension: str
    old_value: str | None
    new_value: str | None

    async def _reason(self, info: Info) -> tuple[str, str] | None:
        # one read for the whole page, and only when a reason is asked for
        return await info.context.change_reason.load(tuple(getattr(self, k) for k in CHANGE_KEY))

    @strawberry.field(
        description="Why, in English: for a run, the reason it gave for the new value (or that it no longer "
        "gives one); for an override, who proposed and approved it and why, or who revoked it or when it expired."
    )
    async def explanation(self, info: Info) -> str | None:
        found = await self._reason(info)
        return found[0] if found else None

    @strawberry.field(description="Why, in Chinese (中文).")
    async def explanation_zh(self, info: Info) -> str | None:
        found = await self._reason(info)
        return found[1] if found else None

    @classmethod
    def from_row(cls, r: dict) -> ClassificationChange:
        return cls(**r)


@strawberry.type
class ChangeEdge:
    cursor: str
    node: ClassificationChange


@strawberry.type(
    description="A page of the change feed. Pass the last `pageInfo.endCursor` you got as `after` next "
    "time; an empty page's is null (as on every connection): keep the cursor you had, and polling never "
    "misses or repeats a change."
)
class ChangeConnection:
    edges: list[ChangeEdge]
    page_info: PageInfo
