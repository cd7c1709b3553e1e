"""A relationship manager's work list (工作清单): the latest run's actions for the customers in
their book that are still open, and their open alerts, in one prioritised list with due dates
and one line of why each. An action is open until it is declined or converted; a held-out
(control) action is never on a list. Alerts are due by severity."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record.access import book_subjects
from clientstrata.graph.record.models import Alert

from .nba import actions_table, outcomes_table
from .suitable_now import suitable_now

__all__ = ["WORKLIST_COLUMNS", "ALERT_DUE_DAYS", "CLOSING", "MAX_ITEMS", "worklist"]

WORKLIST_COLUMNS = [
    "kind",  # action | alert
    "item_id",  # nba_id or alert_id
    "customer_id",
    "title",
    "channel",
    "priority",
    "due_on",
    "why",
    "why_zh",
    "last_outcome",
]
ALERT_DUE_DAYS = {"high": 3, "medium": 7, "low": 14}
CLOSING = ("declined", "converted")  # an action with one of these is done
MAX_ITEMS = 1000


def worklist(conn: Connection, rm_id: str | None, limit: int = 200) -> pd.DataFrame:
    """`rm_id`'s open actions (the latest run that chose any) and open alerts, due first, then
    the highest priority (alerts by severity: high 3, medium 2, low 1); None: every book's."""
    if not 1 <= limit <= MAX_ITEMS:
        raise InvalidInput(f"`limit` must be between 1 and {MAX_ITEMS:,}")
    t, o = actions_table, outcomes_table
    mine = book_subjects(rm_id) if rm_id is not None else None

    def scoped(col):
        return col.in_(mine) if mine is not None else sa.true()

    run = conn.execute(sa.select(sa.func.max(t.c.run_id))).scalar()
    joined, suitable = suitable_now(t, run)  # an offer an override has made unsuitable is no work
    acts = pd.DataFrame(
        conn.execute(
            sa.select(
                t.c.nba_id,
                t.c.customer_id,
                t.c.action_key,
                t.c.channel,
                t.c.priority,
                t.c.due_on,
                t.c.reason_en,
                t.c.reason_zh,
            )
            .select_from(joined)
            .where(t.c.run_id == run, sa.not_(t.c.control), scoped(t.c.customer_id), suitable)
        ).all(),
        columns=["item_id", "customer_id", "title", "channel", "priority", "due_on", "why", "why_zh"],
    )
    outs = pd.DataFrame(
        conn.execute(
            sa.select(o.c.nba_id, o.c.outcome, o.c.outcome_id).where(
                o.c.nba_id.in_(sa.select(t.c.nba_id).where(t.c.run_id == run, scoped(t.c.customer_id)))
            )
        ).all(),
        columns=["item_id", "outcome", "outcome_id"],
    )
    closed = set(outs.loc[outs["outcome"].isin(CLOSING), "item_id"])
    last = outs.sort_values("outcome_id").groupby("item_id")["outcome"].last()
    acts = acts[~acts["item_id"].isin(closed)].assign(kind="action", last_outcome=lambda d: d["item_id"].map(last))
    a = Alert.__table__
    alerts = pd.DataFrame(
        conn.execute(
            sa.select(a.c.alert_id, a.c.customer_id, a.c.alert_type, a.c.severity, a.c.reason, a.c.created_at).where(
                a.c.status == "open", scoped(a.c.customer_id)
            )
        ).all(),
        columns=["item_id", "customer_id", "title", "severity", "why", "created_at"],
    )
    alerts = alerts.assign(
        kind="alert",
        channel=None,
        priority=alerts["severity"].map({"high": 3.0, "medium": 2.0, "low": 1.0}),
        due_on=[
            c.date() + dt.timedelta(days=ALERT_DUE_DAYS.get(s, 7))
            for c, s in zip(pd.to_datetime(alerts["created_at"]), alerts["severity"])
        ],
        why_zh=alerts["why"],
        last_outcome=None,
    )
    parts = [p[WORKLIST_COLUMNS] for p in (acts, alerts) if len(p)]
    if not parts:
        return pd.DataFrame(columns=WORKLIST_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["last_outcome"] = out["last_outcome"].astype(object).where(out["last_outcome"].notna(), None)
    out = out.sort_values(["due_on", "priority", "kind", "item_id"], ascending=[True, False, True, True], kind="stable")
    return out.head(limit).reset_index(drop=True)
