"""Alerts (客户跟踪) as records: routed to the customer's relationship manager, written once,
acknowledged, listed.

`write_run_alerts` runs inside `classify()`'s publish transaction, so a run that dies writes no
alerts. Each alert's fingerprint is sha256(type, customer, period key): a re-run in the same
period raises nothing twice (the UNIQUE constraint is the backstop). Every alert carries the
customer's current RM; a customer without one goes to their branch's queue (`rm_id` null,
`details.queue = "branch"`, `details.branch_id`). The rules that find alerts are in
`jobs.tracking.rules`, their settings in `jobs.tracking.settings`.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record import audit
from clientstrata.graph.record.access import book_subjects, require_in_book
from clientstrata.graph.record.db import insert_ignore
from clientstrata.graph.record.models import Alert, Individual
from clientstrata.jobs.errors import ActorRequired, InvalidState

from .rules import ALERT_COLUMNS
from .settings import ALERT_TYPES

__all__ = [
    "STATUSES",
    "MAX_LIMIT",
    "alerts_table",
    "fingerprint",
    "route_alerts",
    "write_alerts",
    "write_run_alerts",
    "acknowledge_alert",
    "list_alerts",
    "alerts_by_customer",
    "open_alert_counts",
]

STATUSES = ("open", "acknowledged")
MAX_LIMIT = 10_000
alerts_table = Alert.__table__


# --- routing and persistence -----------------------------------------------------------------


def fingerprint(alert_type: str, customer_id: str, period: str) -> str:
    return hashlib.sha256(f"{alert_type}\x1f{customer_id}\x1f{period}".encode()).hexdigest()


def route_alerts(conn: Connection, alerts: pd.DataFrame) -> pd.DataFrame:
    """Adds rm_id (the customer's current RM) and, for customers without one, routes the alert
    to the branch queue: details.queue = "branch" with the branch_id. Reads only the alerts'
    customers."""
    out = alerts.copy()
    if out.empty:
        out["rm_id"] = pd.Series(dtype=object)
        return out
    ids = pd.unique(out["customer_id"].to_numpy(dtype=object))
    i = Individual.__table__.c
    rows = []
    for k in range(0, len(ids), _ASK):
        rows += conn.execute(
            sa.select(i.customer_id, i.rm_id, i.branch_id).where(i.customer_id.in_(list(ids[k : k + _ASK])))
        ).all()
    who = pd.DataFrame(rows, columns=["customer_id", "rm_id", "branch_id"]).set_index("customer_id")
    who = who.reindex(out["customer_id"].to_numpy())
    rm = who["rm_id"].astype(object).where(who["rm_id"].notna(), None).to_numpy()
    branch = who["branch_id"].astype(object).where(who["branch_id"].notna(), None).to_numpy()
    out["rm_id"] = pd.Series(rm, index=out.index, dtype=object)  # object: None stays None, not NaN
    out["details"] = [
        {**d, "queue": "rm", "branch_id": b} if r else {**d, "queue": "branch", "branch_id": b}
        for d, r, b in zip(out["details"], rm, branch)
    ]
    return out


_ASK = 1_000  # keys per lookup: under every backend's bound-parameter limit


def _new(conn: Connection, alerts: pd.DataFrame) -> pd.DataFrame:
    """The alerts not raised before (by fingerprint; the first of those sharing one), with their
    fingerprint: a re-run finds its alerts raised already and builds no row for them."""
    fps = [fingerprint(t, c, p) for t, c, p in zip(alerts["alert_type"], alerts["customer_id"], alerts["period"])]
    out = alerts.assign(fingerprint=fps)
    out = out[~out["fingerprint"].duplicated()]
    keys, seen = out["fingerprint"].tolist(), set()
    for i in range(0, len(keys), _ASK):
        seen.update(
            conn.execute(
                sa.select(alerts_table.c.fingerprint).where(alerts_table.c.fingerprint.in_(keys[i : i + _ASK]))
            ).scalars()
        )
    return out[~out["fingerprint"].isin(seen)] if seen else out


def write_alerts(conn: Connection, alerts: pd.DataFrame, run_id: int, at: dt.datetime) -> int:
    """Insert the routed alerts not raised before (by fingerprint); returns how many are new.
    Called inside the publish transaction, after `lock_feed`: publishers are serialised, so the
    existing-fingerprint check cannot race another run (the UNIQUE constraint backs it up)."""
    if alerts.empty:
        return 0
    new = alerts if "fingerprint" in alerts else _new(conn, alerts)
    rows = [
        {
            "run_id": run_id,
            "customer_id": r.customer_id,
            "rm_id": r.rm_id
            if isinstance(r.rm_id, str)
            else None,  # never NaN: it would be the text 'NaN' on PostgreSQL
            "alert_type": r.alert_type,
            "severity": r.severity,
            "reason": r.reason,
            "details": {**r.details, "period": r.period},
            "status": "open",
            "created_at": at,
            "fingerprint": r.fingerprint,
        }
        for r in new.itertuples(index=False)
    ]
    for i in range(0, len(rows), 5_000):
        insert_ignore(conn, alerts_table, rows[i : i + 5_000], ["fingerprint"])
    return len(rows)


def write_run_alerts(conn: Connection, found: list[pd.DataFrame], run_id: int, at: dt.datetime) -> pd.DataFrame:
    """Route and write the alerts detected per partition that were not raised before: only those
    are routed and built (a re-run of an unchanged bank finds them all raised); returns them,
    attrs["written"] counting them."""
    alerts = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=ALERT_COLUMNS)
    new = route_alerts(conn, _new(conn, alerts) if len(alerts) else alerts)
    new.attrs["written"] = write_alerts(conn, new, run_id, at) if len(new) else 0
    return new


# --- reading and acknowledging ---------------------------------------------------------------


def _get(conn: Connection, alert_id: int) -> dict:
    row = conn.execute(sa.select(alerts_table).where(alerts_table.c.alert_id == alert_id)).mappings().first()
    if row is None:
        raise NotFound("alert", str(alert_id))
    return dict(row)


def acknowledge_alert(
    conn: Connection,
    actor: str,
    alert_id: int,
    note: str | None = None,
    at: dt.datetime | None = None,
    book: str | None = None,
    person: str | None = None,
) -> dict:
    """Mark an open alert handled (the RM saw it and acted). Audited in the same transaction;
    an alert acknowledged already is refused (INVALID_STATE), an unknown id is NOT_FOUND, and
    with `book` (a relationship manager's id) so is an alert on a customer outside it: the answer
    must not tell an alert of another book (its customer, its type) from none."""
    actor = (actor or "").strip()
    if not actor:
        raise ActorRequired("who is acknowledging? pass an actor")
    alert = _get(conn, alert_id)
    require_in_book(conn, alert["customer_id"], book, kind="alert", key=alert_id)
    if alert["status"] != "open":
        raise InvalidState(
            f"alert #{alert_id} was already acknowledged by {alert['acknowledged_by']} "
            f"at {alert['acknowledged_at']:%Y-%m-%d %H:%M}"
        )
    at = at or utcnow()
    done = conn.execute(
        sa.update(alerts_table)
        .where(alerts_table.c.alert_id == alert_id, alerts_table.c.status == "open")
        .values(status="acknowledged", acknowledged_by=actor, acknowledged_at=at)
    ).rowcount
    if done != 1:  # acknowledged by someone else between our read and our write
        raise InvalidState(f"alert #{alert_id} was acknowledged meanwhile")
    audit.record(
        conn,
        actor,
        "alert.acknowledged",
        "alert",
        alert_id,
        {
            "customer_id": alert["customer_id"],
            "alert_type": alert["alert_type"],
            "rm_id": alert["rm_id"],
            "note": (note or "").strip() or None,
            # who acted: a token's person, or an operator named by the CLI's --actor
            **({"person": person} if person else {"via": "operator"}),
        },
        at=at,
    )
    return _get(conn, alert_id)


def list_alerts(
    conn: Connection,
    rm_id: str | None = None,
    status: str | None = None,
    alert_type: str | None = None,
    customer_ids: list[str] | None = None,
    limit: int = 1000,
    after: int = 0,
    book: str | None = None,
) -> pd.DataFrame:
    """Alerts with alert_id > `after`, oldest first, at most `limit` (keyset paging: pass the
    last alert_id as `after`), filtered by RM, status, type and customers. `book` (a
    relationship manager's id) keeps only alerts on customers in that RM's book now."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"`limit` must be between 1 and {MAX_LIMIT:,}")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"`status` must be one of {', '.join(STATUSES)}, not {status!r}")
    if alert_type is not None and alert_type not in ALERT_TYPES:
        raise InvalidInput(f"unknown alert type {alert_type!r} (types: {', '.join(ALERT_TYPES)})")
    q = sa.select(alerts_table).where(alerts_table.c.alert_id > after)
    if rm_id is not None:
        q = q.where(alerts_table.c.rm_id == rm_id)
    if status is not None:
        q = q.where(alerts_table.c.status == status)
    if alert_type is not None:
        q = q.where(alerts_table.c.alert_type == alert_type)
    if customer_ids is not None:
        q = q.where(alerts_table.c.customer_id.in_(list(customer_ids)))
    if book is not None:
        q = q.where(alerts_table.c.customer_id.in_(book_subjects(book)))
    rows = conn.execute(q.order_by(alerts_table.c.alert_id).limit(limit)).mappings().all()
    df = pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in alerts_table.columns])
    for c in ("rm_id", "acknowledged_by"):  # missing is None, not NaN: a branch-queue alert has no RM
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def alerts_by_customer(conn: Connection, ids: list[str], limit: int = 50) -> dict[str, list[dict]]:
    """Each customer's alerts, newest first (at most `limit` each): the customer view's list."""
    rows = conn.execute(
        sa.select(alerts_table)
        .where(alerts_table.c.customer_id.in_(list(ids)))
        .order_by(alerts_table.c.customer_id, alerts_table.c.alert_id.desc())
    ).mappings()
    out: dict[str, list[dict]] = {}
    for r in rows:
        mine = out.setdefault(r["customer_id"], [])
        if len(mine) < limit:
            mine.append(dict(r))
    return out


def open_alert_counts(conn: Connection, rm_id: str | None) -> dict[str, int]:
    """An RM's open alerts by type (every type listed, 0 where none); rm_id None = the branch queues."""
    cond = alerts_table.c.rm_id.is_(None) if rm_id is None else alerts_table.c.rm_id == rm_id
    rows = conn.execute(
        sa.select(alerts_table.c.alert_type, sa.func.count())
        .where(cond, alerts_table.c.status == "open")
        .group_by(alerts_table.c.alert_type)
    ).all()
    found = {t: int(n) for t, n in rows}
    return {t: found.get(t, 0) for t in ALERT_TYPES}
