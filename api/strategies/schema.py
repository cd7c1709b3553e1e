"""Strategy queries: the playbook and a segment's strategy (a customer's is `Customer.strategy`)."""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry.types import Info

from clientstrata.jobs.strategies.segment import naming, segment_packages
from clientstrata.jobs.strategies.strategy import live_playbook

from .types import MarketingPlay, PackageCount, Playbook, SegmentStrategy

__all__ = ["StrategyQuery"]


@strawberry.type
class StrategyQuery:
    @strawberry.field(description="The live standard's playbook (策略): service packages, plays, fee schedule.")
    async def playbook(self, info: Info) -> Playbook:
        return Playbook(_p=await info.context.run(live_playbook))

    @strawberry.field(
        description="The strategy of the customers tagged `value` on `dimension` in the live run: their "
        "packages (relationship managers: their book) and the plays and measures naming the segment."
    )
    async def segment_strategy(self, info: Info, dimension: str, value: str) -> SegmentStrategy:
        ctx = info.context
        pb = await ctx.run(live_playbook)
        counts = await ctx.run(partial(segment_packages, book=ctx.principal.book), dimension, value)
        return SegmentStrategy(
            dimension=dimension,
            value=value,
            packages=[PackageCount(package=r.package, customers=int(r.customers)) for r in counts.itertuples()],
            marketing_plays=[MarketingPlay.of(p) for p in naming(pb.marketing_plays, dimension, value)],
            _measures=naming(pb.risk_measures, dimension, value),
        )
