"""Scheduled re-tagging: a run is due when the last published scheduled run is older than
the standard's `governance.retag_every_months` (quarterly by default). Cron or Airflow calls
`clientstrata classify --if-due` daily; it says why it did or did not run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from clientstrata.graph.clock import utcnow
from clientstrata.graph.record.db import get_engine, migrate
from clientstrata.graph.record.models import ClassificationRun
from clientstrata.graph.stores.base import GraphStore
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.governance.adoption import check_live
from clientstrata.jobs.governance.overrides import expire_overrides
from clientstrata.jobs.governance.standards import governance_of, live_standard

from .pipeline import RunReport, classify

__all__ = ["Due", "is_due", "classify_if_due"]

_runs = ClassificationRun.__table__


@dataclass(frozen=True)
class Due:
    due: bool
    reason: str
    last_run_id: int | None
    last_published_at: dt.datetime | None
    next_due: dt.datetime | None
    every_months: int

    def to_dict(self) -> dict:
        return {
            "due": self.due,
            "reason": self.reason,
            "last_run_id": self.last_run_id,
            "last_published_at": self.last_published_at,
            "next_due": self.next_due,
            "every_months": self.every_months,
        }


def is_due(conn: Connection, every_months: int, now: dt.datetime | None = None) -> Due:
    now = now or utcnow()
    last = conn.execute(
        sa.select(_runs.c.run_id, _runs.c.published_at)
        .where(_runs.c.status == "published", _runs.c.kind == "scheduled")
        .order_by(_runs.c.published_at.desc(), _runs.c.run_id.desc())
        .limit(1)
    ).first()
    period = f"every {every_months} month{'s' if every_months != 1 else ''}"
    if last is None:
        return Due(
            True, f"no scheduled run has been published yet (re-tagging {period})", None, None, None, every_months
        )
    next_due = (pd.Timestamp(last.published_at) + pd.DateOffset(months=every_months)).to_pydatetime()
    since = f"the last scheduled run, {last.run_id}, was published {last.published_at:%Y-%m-%d %H:%M}"
    if now >= next_due:
        return Due(
            True,
            f"{since}; re-tagging {period} made the next one due {next_due:%Y-%m-%d %H:%M}",
            last.run_id,
            last.published_at,
            next_due,
            every_months,
        )
    return Due(
        False,
        f"{since}; re-tagging {period}: the next is due {next_due:%Y-%m-%d %H:%M}",
        last.run_id,
        last.published_at,
        next_due,
        every_months,
    )


def classify_if_due(
    engine: Engine | None = None,
    graph: GraphStore | None = None,
    standard: str | Path | None = None,
    now: dt.datetime | None = None,
    requested_by: str | None = None,
    progress: bool | None = None,
    adopt: bool = False,
) -> tuple[Due, list[int], RunReport | None]:
    """The daily governance tick: expire overrides whose day has come, then publish a
    scheduled run if one is due. Returns (why, expired override ids, the run or None).

    The run uses the live standard, as every run does; `standard`, if given, must be it (or
    `adopt` makes it live, audited as adopted by `requested_by`): a file in a cron line never
    swaps the standard on its own. One that is not live is refused (`StandardNotAdopted`) before
    anything is written, due or not."""
    std = None if standard is None else load_standard(standard)  # a bad file is refused before anything else
    engine = engine or get_engine()
    migrate(engine)
    with engine.connect() as conn:
        if std is None:
            std = live_standard(conn)
        elif not adopt and (refused := check_live(conn, std)) is not None:
            # refused before the tick writes anything (expired overrides included), and on a day
            # nothing is due as well: the file in the cron line is wrong whether or not a run is
            raise refused
    gov = governance_of(std)
    with engine.begin() as conn:
        expired = expire_overrides(conn, today=(now or utcnow()).date(), actor=requested_by or "scheduler")
    with engine.connect() as conn:
        due = is_due(conn, gov.retag_every_months, now)
    if not due.due:
        return due, expired, None
    report = classify(
        engine,
        graph,
        std,
        progress=progress,
        kind="scheduled",
        requested_by=requested_by or "scheduler",
        adopt=adopt,
    )
    return due, expired, report
