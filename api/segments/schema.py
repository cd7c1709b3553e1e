"""Segment queries."""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry.types import Info

from clientstrata.jobs.governance.dimensions import run_dimensions
from clientstrata.jobs.reports.segments import segment_summary

from .types import Dimension, Segment

__all__ = ["SegmentQuery"]


@strawberry.type
class SegmentQuery:
    @strawberry.field(
        description="Each value of `dimension` in a published run (the latest by default) with its "
        "customers and AUM, largest first; relationship managers: their book."
    )
    async def segments(self, info: Info, dimension: str, run: int | None = None) -> list[Segment]:
        df = await info.context.run(partial(segment_summary, book=info.context.principal.book), dimension, run)
        return [Segment.from_row(r) for r in df.to_dict("records")]

    @strawberry.field(
        description="The dimensions of the standard a published run used (the latest by default, the one "
        "`customerTable` reads): whose they are, their values in order, which are scales."
    )
    async def dimensions(self, info: Info, run: int | None = None) -> list[Dimension]:
        return [Dimension.from_info(d) for d in await info.context.run(run_dimensions, run)]
