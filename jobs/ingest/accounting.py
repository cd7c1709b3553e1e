"""What an ingest changed in the record, per table: rows inserted, updated and unchanged, how
many rows each column changed in, and a few changed rows with their values before and after.

Measured by the upsert itself (graph/record/bulk_diff.py), so the counts are the rows the
ingest rewrote; each of those rows carries the ingest's id (`ingest_id`). The sample goes into
the ingest report, which every operator and the data-quality report read: PII in it is masked.
"""

from __future__ import annotations

from clientstrata.graph.record.bulk import UpsertDiff

from .masking import mask_cell

__all__ = ["UpsertDiff", "changes_summary", "change_lines"]


def changes_summary(table: str, diff: UpsertDiff) -> dict:
    """The report's keys for one table's changes (inserted + updated + unchanged = loaded)."""
    sample = [
        {
            "key": s["key"],
            "changes": {c: [mask_cell(table, c, b), mask_cell(table, c, a)] for c, (b, a) in s["changes"].items()},
        }
        for s in diff.sample
    ]
    return {
        "inserted": diff.inserted,
        "updated": diff.updated,
        "unchanged": diff.unchanged,
        "changed_fields": dict(diff.fields.most_common()),
        "changes_sample": sample,
    }


def change_lines(summary: dict, rows: int = 3) -> list[str]:
    """Human lines for one table's changes: rows per changed column, then a few changed rows."""
    fields = summary.get("changed_fields") or {}
    if not fields:
        return []
    lines = ["changed: " + ", ".join(f"{c} {n:,}" for c, n in fields.items())]
    for s in (summary.get("changes_sample") or [])[:rows]:
        key = "/".join(str(v) for v in s["key"].values())
        lines.append(key + ": " + "; ".join(f"{c} {b!s} → {a!s}" for c, (b, a) in s["changes"].items()))
    return lines
