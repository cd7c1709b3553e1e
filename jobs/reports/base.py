"""What every report shares: the run it reads, the tags of one dimension in it, and the frame's `attrs`
(report, title, run_id, summary, notes)."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record.models import (
    ClassificationRun,
    Tag,
)
from clientstrata.graph.record.queries import tagged_dimensions

tags_table, runs_table = Tag.__table__, ClassificationRun.__table__


class MissingDimension(InvalidInput):
    """The run has no tags for the dimension a report needs."""

    def __init__(self, run_id: int, dimension: str, present: list[str], hint: str = "") -> None:
        have = ", ".join(present) or "none"
        super().__init__(f"run {run_id} has no {dimension} tags (dimensions in run {run_id}: {have}){hint}")
        self.run_id, self.dimension, self.present = run_id, dimension, present


def resolve_run(conn: Connection, run_id: int | None = None) -> int:
    """`run_id` if it is published, else the latest published run."""
    if run_id is None:
        run_id = conn.execute(
            sa.select(sa.func.max(runs_table.c.run_id)).where(runs_table.c.status == "published")
        ).scalar()
        if run_id is None:
            raise InvalidInput("no published classification run yet: run `clientstrata classify` first")
        return int(run_id)
    status = conn.execute(sa.select(runs_table.c.status).where(runs_table.c.run_id == run_id)).scalar()
    if status is None:
        raise NotFound("classification run", str(run_id))
    if status != "published":
        raise InvalidInput(f"run {run_id} is {status}, not published: only published runs are reported")
    return int(run_id)


def run_dimensions(conn: Connection, run_id: int) -> list[str]:
    return tagged_dimensions(conn, run_id)


def run_tags(
    conn: Connection,
    run_id: int,
    dimension: str,
    floats: tuple[str, ...] = (),
    strings: tuple[str, ...] = (),
    hint: str = "",
) -> pd.DataFrame:
    """The run's tags on one dimension, with the named `inputs` fields extracted in SQL (no
    JSON parsing in Python: wealth-tier inputs carry twelve months each)."""
    cols = [
        tags_table.c.customer_id,
        tags_table.c.value,
        tags_table.c.label_zh,
        tags_table.c.label_en,
        tags_table.c.score,
    ]
    cols += [tags_table.c.inputs[f].as_float().label(f) for f in floats]
    cols += [tags_table.c.inputs[f].as_string().label(f) for f in strings]
    q = sa.select(*cols).where(tags_table.c.run_id == run_id, tags_table.c.dimension == dimension)
    df = pd.DataFrame([tuple(r) for r in conn.execute(q)], columns=[c.name for c in cols])
    if df.empty:
        raise MissingDimension(run_id, dimension, run_dimensions(conn, run_id), hint)
    for f in floats:
        df[f] = pd.to_numeric(df[f], errors="coerce")
    return df


def with_attrs(
    df: pd.DataFrame, report: str, title: str, run_id: int | None, summary: str, notes: list[str] | None = None, **extra
) -> pd.DataFrame:
    df.attrs.update(
        {"report": report, "title": title, "run_id": run_id, "summary": summary, "notes": list(notes or []), **extra}
    )
    return df


def pct(x: float) -> str:
    return f"{x:.0%}" if abs(x) >= 0.01 or x == 0 else f"{x:.1%}"


def money(x: float) -> str:
    return f"{x:,.0f}"
