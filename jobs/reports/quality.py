"""Data quality of an ingest: rows read, loaded and quarantined per table, with the reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record.models import (
    IngestRun,
    QuarantinedRow,
)

from .base import (
    pct,
    with_attrs,
)


def data_quality(conn: Connection, ingest_id: int | None = None) -> pd.DataFrame:
    """Per table of an ingest (the latest by default): rows read, loaded and quarantined,
    whether loaded + quarantined = read, the rows held in the quarantine table for it, and
    the top reasons (from the quarantined rows, one reason per failed rule)."""
    from clientstrata.jobs.ingest.load import _rule

    ingests, quarantine = IngestRun.__table__, QuarantinedRow.__table__
    if ingest_id is None:
        ingest_id = conn.execute(sa.select(sa.func.max(ingests.c.ingest_id))).scalar()
        if ingest_id is None:
            raise InvalidInput("nothing ingested yet: run `clientstrata ingest DIR` first")
    row = conn.execute(sa.select(ingests).where(ingests.c.ingest_id == ingest_id)).mappings().first()
    if row is None:
        raise NotFound("ingest", str(ingest_id))
    summary = row["summary"] or {}
    tables = [*(summary.get("tables") or {}).values(), *(summary.get("derived") or {}).values()]
    g = pd.DataFrame(
        [{k: t.get(k) for k in ("table", "source_file", "read", "loaded", "quarantined", "derived")} for t in tables],
        columns=["table", "source_file", "read", "loaded", "quarantined", "derived"],
    )
    held = pd.DataFrame(
        conn.execute(
            sa.select(quarantine.c.table_name, quarantine.c.reason).where(quarantine.c.ingest_id == ingest_id)
        ).all(),
        columns=["table", "reason"],
    )
    reasons: dict[str, list[str]] = {}
    if len(held):
        parts = held.assign(reason=held["reason"].str.split("; ")).explode("reason")
        parts["rule"] = parts["reason"].map(_rule)
        counts = parts.groupby(["table", "rule"]).size().rename("rows").reset_index()
        counts = counts.sort_values(["table", "rows", "rule"], ascending=[True, False, True])
        for tbl, grp in counts.groupby("table"):
            reasons[tbl] = [f"{n:,} × {r}" for r, n in zip(grp["rule"].head(3), grp["rows"].head(3))]
    from_summary = {
        t["table"]: [f"{r['rows']:,} × {r['reason']}" for r in t.get("top_reasons", [])[:3]] for t in tables
    }
    g["in_quarantine"] = g["table"].map(held["table"].value_counts()).fillna(0).astype(int)
    g["balanced"] = (g["loaded"] + g["quarantined"]) == g["read"]
    g["quarantine_rate"] = np.where(g["read"] > 0, (g["quarantined"] / g["read"].where(g["read"] > 0)).round(4), 0.0)
    g["top_reasons"] = [" | ".join(reasons.get(t) or from_summary.get(t) or []) for t in g["table"]]
    notes = [f"ingest #{ingest_id} of {row['source']} ({row['format']}), finished {row['finished_at']}"]
    if (g["quarantined"] > g["in_quarantine"]).any():
        notes.append(
            "some quarantined rows were already held from an earlier ingest of the same rows "
            "(quarantine keeps one copy per row); their reasons come from the ingest summary"
        )
    if not g["balanced"].all():
        notes.append("UNBALANCED: loaded + quarantined ≠ read for " + ", ".join(g.loc[~g["balanced"], "table"]))
    src = g[~g["derived"].astype(bool)]
    read, quarantined = int(src["read"].sum()), int(src["quarantined"].sum())
    summary_line = (
        f"ingest #{ingest_id}: read {read:,}, loaded {int(src['loaded'].sum()):,}, quarantined "
        f"{quarantined:,} ({pct(quarantined / read) if read else '0%'}) in {len(src)} files"
    )
    return with_attrs(
        g,
        "data-quality",
        f"Data quality, ingest #{ingest_id}",
        None,
        summary_line,
        notes,
        ingest_id=int(ingest_id),
        read=read,
        quarantined=quarantined,
    )
