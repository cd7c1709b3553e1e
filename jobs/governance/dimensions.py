"""The dimensions a run tags, described as readers need them: whose dimension it is (an
individual's or an enterprise's), the values in the standard's order, whether that order is a
scale (`mass < affluent < wealth < private_banking`, `D1 < … < D10`) and whether one tag holds
several values.

The order lives in the standard, which the committee may change; clients (the SDK's ordered
categoricals, a front end's legend) read it from here instead of keeping a copy that drifts."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import NotFound
from clientstrata.graph.record.models import ClassificationRun
from clientstrata.graph.record.queries import latest_run_id
from clientstrata.jobs.classification.blocks import DECILES
from clientstrata.jobs.classification.blocks import dimension_values as ordered_values
from clientstrata.jobs.classification.segments import DIMENSION as CLUSTERS
from clientstrata.jobs.classification.standard import SCHEMA

from .standards import current_dimensions, dimension_values, run_standard_dimensions

__all__ = ["DimensionValue", "DimensionInfo", "describe", "run_dimensions", "subject_of"]

# Sections whose values are a scale, lowest first; other listed values (`unassessed`, `expired`,
# `unknown`) stand outside it. Rule lists are first-match order, not a scale.
_SCALES = ("bands", "levels", "ratings")
_MULTI = {"business_categories": ","}  # the value separator (the standard's checks use it too)
_SINGLES = ("unassessed", "expired", "unknown", "none")  # one-value entries beside a list


@dataclass(frozen=True)
class DimensionValue:
    value: str
    label_zh: str
    label_en: str
    rank: int | None  # 1 = the lowest of the scale; None outside it or when there is no scale


@dataclass(frozen=True)
class DimensionInfo:
    name: str
    subject: str  # "individual" or "enterprise"
    ordered: bool
    separator: str | None  # set when one tag holds several values joined by it
    values: tuple[DimensionValue, ...]  # empty when the standard cannot list them


def subject_of(dimension: str) -> str:
    """Whose dimension it is; those the standard does not declare (behaviour clusters) are individuals'."""
    return SCHEMA[dimension][0] if dimension in SCHEMA else "individual"


def _scale(spec: dict) -> list[str]:
    key = next((k for k in _SCALES if k in spec), None)
    return [str(e["value"]) for e in spec[key]] if key else []


def _describe_one(name: str, spec: dict, dims: dict) -> DimensionInfo:
    labels = dimension_values(spec)
    for key in _SINGLES:
        one = spec.get(key)
        if isinstance(one, dict) and "value" in one:
            v = str(one["value"])
            labels.setdefault(v, (str(one.get("label_zh") or v), str(one.get("label_en") or v)))
    if name == "value_contribution":
        scale = list(DECILES)
        listed = scale
        for i, d in enumerate(DECILES, 1):
            labels[d] = (spec["decile_label_zh"].format(n=i), spec["decile_label_en"].format(n=i))
    elif name in _MULTI:
        scale, listed = [], list(labels)  # the single categories a tag combines
    else:
        scale = _scale(spec)
        listed = list(dict.fromkeys(ordered_values({"dimensions": dims}, name) or []))  # rules repeat values
    if scale:  # off-scale values first: "at least C4" must not pick up `unassessed`
        listed = [v for v in listed if v not in scale] + scale
    return DimensionInfo(
        name=name,
        subject=subject_of(name),
        ordered=bool(scale),
        separator=_MULTI.get(name),
        values=tuple(
            DimensionValue(
                value=v,
                label_zh=labels.get(v, (v, v))[0],
                label_en=labels.get(v, (v, v))[1],
                rank=scale.index(v) + 1 if v in scale else None,
            )
            for v in listed
        ),
    )


def describe(dims: dict) -> list[DimensionInfo]:
    """Every dimension of a standard's `dimensions:` block, in the file's order, then the
    behaviour clusters every run fits (their values are not in the file). Pure."""
    out = [_describe_one(name, spec, dims) for name, spec in dims.items() if isinstance(spec, dict)]
    return [*out, DimensionInfo(CLUSTERS, "individual", False, None, ())]


def run_dimensions(conn: Connection, run_id: int | None = None) -> list[DimensionInfo]:
    """The dimensions of the standard a published run used (the latest by default: the run
    `customerTable` and `segments` read); before any run, the live standard's."""
    if run_id is not None:
        runs = ClassificationRun.__table__
        status = conn.execute(sa.select(runs.c.status).where(runs.c.run_id == run_id)).scalar()
        if status != "published":
            raise NotFound("published run", str(run_id))
    run_id = run_id if run_id is not None else latest_run_id(conn)
    dims = run_standard_dimensions(conn, run_id) if run_id is not None else None
    return describe(dims if dims is not None else current_dimensions(conn))
