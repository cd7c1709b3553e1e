"""Why each change on the feed happened, in words, for an integration that shows it.

A run's change is explained by the reason the run gave for its new value (the tag as that run
computed it, in the standard that run used); a tag the run no longer gives says so. An override's
change says which override it was and who decided what: taking effect (proposed by, approved by,
why) or ending (revoked by whom, or expired on its day), after which the run's value applies.
Read for a whole page at once: one tag read per run on the page, one override read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.models import Override

from .explain import computed_words, explained_tags, override_decision

__all__ = ["change_reasons"]

_overrides = Override.__table__


def _run_reasons(conn: Connection, rows: list[Mapping]) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    by_run: dict[int, list[Mapping]] = defaultdict(list)
    for r in rows:
        by_run[r["run_id"]].append(r)
    for run_id, changes in by_run.items():
        tags = explained_tags(conn, sorted({c["customer_id"] for c in changes}), run_id)
        for c in changes:
            tag = next((t for t in tags.get(c["customer_id"], ()) if t["dimension"] == c["dimension"]), None)
            if tag is None or c["new_value"] is None:
                out[c["seq"]] = (
                    f"run #{run_id} no longer gives this classification",
                    f"第 {run_id} 次分类运行不再给出此分类",
                )
            else:
                out[c["seq"]] = (computed_words(tag, "en"), computed_words(tag, "zh"))
    return out


def _override_words(c: Mapping, ov: Mapping) -> tuple[str, str]:
    n, who, by, why = ov["override_id"], ov["proposed_by"], ov["decided_by"], ov["reason"]
    if c["new_value"] == ov["value"]:  # the override took effect (its approval)
        return override_decision(n, who, by, why, "en"), override_decision(n, who, by, why, "zh")
    if ov["status"] == "revoked":
        return (
            f"manual override #{n} revoked by {ov['revoked_by']}; the run's value applies again",
            f"人工调整 #{n} 已由 {ov['revoked_by']} 撤销，恢复系统计算值",
        )
    day = ov["expires_on"].isoformat() if ov["expires_on"] is not None else "?"
    return (
        f"manual override #{n} expired on {day}; the run's value applies again",
        f"人工调整 #{n} 已于 {day} 到期，恢复系统计算值",
    )


def change_reasons(conn: Connection, changes: Sequence[Mapping]) -> dict[int, tuple[str, str]]:
    """seq → (English, Chinese) reason of each change (rows as `changes.changes_after` gives them)."""
    out = _run_reasons(conn, [c for c in changes if c["source"] == "run" and c["run_id"] is not None])
    ids = sorted({c["override_id"] for c in changes if c["source"] == "override" and c["override_id"] is not None})
    if ids:
        found = {
            r["override_id"]: r
            for r in conn.execute(sa.select(_overrides).where(_overrides.c.override_id.in_(ids))).mappings()
        }
        for c in changes:
            ov = found.get(c["override_id"]) if c["source"] == "override" else None
            if ov is not None:
                out[c["seq"]] = _override_words(c, ov)
    return out
