"""Segment types."""

from __future__ import annotations

import strawberry

from clientstrata.api.labels import Labelled

__all__ = ["Segment"]


@strawberry.type(description="One value of a dimension in a published run, as a group of customers.")
class Segment(Labelled):
    value: str
    customers: int
    share: float = strawberry.field(description="Of the customers tagged on the dimension (in your book).")
    mean_score: float | None
    aum_total: float | None = strawberry.field(description="Members' month-average AUM, CNY (wealth_tier inputs).")
    aum_avg: float | None
    description: str | None = strawberry.field(
        description="For behaviour_cluster: the cluster, from its centroid (e.g. 'high-balance, branch-loyal')."
    )
    description_zh: str | None

    @classmethod
    def from_row(cls, r: dict) -> Segment:
        return cls(
            value=r["value"],
            label_en=r["label_en"],
            label_zh=r["label_zh"],
            customers=int(r["customers"]),
            share=float(r["share"]),
            mean_score=r["mean_score"],
            aum_total=r["aum_total"],
            aum_avg=r["aum_avg"],
            description=r["description_en"],
            description_zh=r["description_zh"],
        )
