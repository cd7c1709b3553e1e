"""Segment types."""

from __future__ import annotations

import strawberry

from clientstrata.api.labels import Labelled

__all__ = ["Segment", "Dimension", "DimensionValue"]


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


@strawberry.type(description="One value a dimension's tags can take, as the standard lists it.")
class DimensionValue(Labelled):
    value: str
    rank: int | None = strawberry.field(
        description="Its place on the dimension's scale, 1 the lowest; null for values outside the scale "
        "(unassessed, expired, unknown) and for dimensions without one."
    )


@strawberry.type(
    description="A dimension a run tags: whose it is, its values in the standard's order and whether that "
    "order is a scale. Read the order here rather than keeping a copy: the committee may change it."
)
class Dimension:
    name: str
    subject: str = strawberry.field(description="Whose tags: `individual` or `enterprise`.")
    ordered: bool = strawberry.field(
        description="The values are a scale (bands, levels, ratings, deciles): `values` lists those outside "
        "it first, then the scale lowest first, so `mass < affluent < wealth < private_banking`."
    )
    multi_label: bool = strawberry.field(
        description="One tag holds several of `values`, joined by `separator` (business_categories)."
    )
    separator: str | None
    values: list[DimensionValue] = strawberry.field(
        description="In the standard's order; empty where the standard cannot list them (behaviour_cluster, "
        "fitted per run)."
    )

    @classmethod
    def from_info(cls, d) -> Dimension:
        return cls(
            name=d.name,
            subject=d.subject,
            ordered=d.ordered,
            multi_label=d.separator is not None,
            separator=d.separator,
            values=[
                DimensionValue(value=v.value, label_en=v.label_en, label_zh=v.label_zh, rank=v.rank) for v in d.values
            ],
        )
