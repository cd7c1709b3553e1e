"""The notification outbox: letter / SMS / email records the channel systems drain.

A published run writes one row per customer, notified dimension and channel whose value
changed against the previous published run, in the publish transaction (all or nothing); an
approved, revoked or expired override that moves a notified tag writes its own, in the
decision's transaction.
Payloads carry values, labels and the explanation — no contact details: the channel systems
resolve addresses from the customer id, so the outbox holds no C2 data. A notice states the
service package the customer now has and its entitlements (告知客户享有的服务权益), when the run
gave them one."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.models import Notification
from clientstrata.jobs.classification.dimensions import explain
from clientstrata.jobs.classification.standard import Standard
from clientstrata.jobs.governance.standards import Governance

__all__ = ["notification_rows", "override_notification_rows", "write_notifications", "outbox"]

_notifications = Notification.__table__


def notification_rows(
    diff: pd.DataFrame,
    gov: Governance,
    run_id: int,
    at: dt.datetime,
    std: Standard,
    packages: dict[str, dict] | None = None,
) -> list[dict]:
    """Outbox rows for a run's diff (`changes.run_diff`): customers who had a value and now
    have a different one, on the dimensions and channels the standard's governance names.
    A customer's first classification is in the change feed, not a letter. `packages`:
    customer → their new package's name and entitlements (`strategies.store.package_payload`).
    The explanation is put into words here, by the run's standard `std`: a letter is read by
    people who never see the record."""
    if diff.empty:
        return []
    hit = diff[diff["dimension"].isin(gov.notify_dimensions) & diff["old_value"].notna() & diff["new_value"].notna()]
    rows = []
    for r in hit.itertuples(index=False):
        tag = {
            "dimension": r.dimension,
            "value": r.new_value,
            "label_zh": r.new_label_zh,
            "label_en": r.new_label_en,
            "score": r.score,
            "rule": r.explanation,
            "inputs": r.inputs,
        }
        payload = {
            "dimension": r.dimension,
            "old_value": r.old_value,
            "new_value": r.new_value,
            "old_label_zh": r.old_label_zh,
            "old_label_en": r.old_label_en,
            "new_label_zh": r.new_label_zh,
            "new_label_en": r.new_label_en,
            "explanation": explain(tag, std, "en"),
            "explanation_zh": explain(tag, std, "zh"),
            "standard_version": r.standard_version,
            "run_id": run_id,
        }
        if packages and r.customer_id in packages:
            payload["package"] = packages[r.customer_id]
        rows += [
            {
                "run_id": run_id,
                "customer_id": r.customer_id,
                "channel": ch,
                "template": f"{r.dimension}_changed",
                "payload": payload,
                "status": "pending",
                "created_at": at,
            }
            for ch in gov.notify_channels
        ]
    return rows


def override_notification_rows(
    gov: Governance,
    labels: dict[str, tuple[str, str]],
    override: dict,
    step: str,
    old_value: str | None,
    new_value: str | None,
    run_id: int,
    at: dt.datetime,
) -> list[dict]:
    """Outbox rows for an override decision (`step`: approved, revoked, expired) that moved a
    notified tag from one value to another, as a run's would be: the new value, its labels, and
    why — the override's reason, not a rule. `labels`: value → (zh, en) of the live standard."""
    dim = override["dimension"]
    if dim not in gov.notify_dimensions or old_value is None or new_value is None or old_value == new_value:
        return []
    old_zh, old_en = labels.get(old_value, (old_value, old_value))
    new_zh, new_en = labels.get(new_value, (new_value, new_value))
    why = f"manual review (人工审核) #{override['override_id']} {step}: {override['reason']}"
    payload = {
        "dimension": dim,
        "old_value": old_value,
        "new_value": new_value,
        "old_label_zh": old_zh,
        "old_label_en": old_en,
        "new_label_zh": new_zh,
        "new_label_en": new_en,
        "explanation": why,
        "override_id": override["override_id"],
        "step": step,
        "run_id": run_id,
    }
    return [
        {
            "run_id": run_id,
            "override_id": override["override_id"],
            "customer_id": override["customer_id"],
            "channel": ch,
            "template": f"{dim}_changed_{step}",
            "payload": payload,
            "status": "pending",
            "created_at": at,
        }
        for ch in gov.notify_channels
    ]


def write_notifications(conn: Connection, rows: list[dict]) -> None:
    for i in range(0, len(rows), 5_000):
        conn.execute(sa.insert(_notifications), rows[i : i + 5_000])


def outbox(
    conn: Connection, run_id: int | None = None, status: str | None = "pending", customer_id: str | None = None
) -> pd.DataFrame:
    q = sa.select(_notifications)
    if run_id is not None:
        q = q.where(_notifications.c.run_id == run_id)
    if status:
        q = q.where(_notifications.c.status == status)
    if customer_id:
        q = q.where(_notifications.c.customer_id == customer_id)
    rows = conn.execute(q.order_by(_notifications.c.notification_id)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in _notifications.columns])
