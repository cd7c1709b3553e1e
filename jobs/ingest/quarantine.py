"""The quarantine: rejected rows kept as evidence, without becoming a leak.

A row is kept with every reason it failed and its raw values, each cut at RAW_CHARS characters
(the longest text the record holds, so a value that could have loaded is kept whole) and the
reasons at REASON_CHARS. Readers without `read_pii` see PII masked as the API masks it
(jobs/ingest/masking.py): the PII columns, and the same values where a reason quotes them. A row
the reader could not split cleanly into the header's fields (`aligned` false: a short, long or
damaged row) may hold PII in any column, so every value of it is masked, and so are the extra
fields its reason lists. Reading PII unmasked is the caller's decision and is audited
(`pii.read`, entity `quarantine`).
"""

from __future__ import annotations

import hashlib
import json
import re

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import ClientStrataError, InvalidInput
from clientstrata.graph.record.audit import record_many
from clientstrata.graph.record.models import QuarantinedRow

from .masking import mask_any, mask_cell, pii_columns
from .validate import ROW

__all__ = [
    "RAW_CHARS",
    "REASON_CHARS",
    "MAX_PAGE",
    "IngestRefused",
    "quarantine_rows",
    "mask_row",
    "quarantined",
    "audit_pii_reads",
    "over_limit",
]

RAW_CHARS = 300  # per raw value: the record's longest text column (an address)
REASON_CHARS = 2000  # per row: every reason in full, except an endless list of extra fields
MAX_PAGE = 10_000
_EXTRA = "(extra: ["  # how the tolerant reader lists the fields beyond the header's

_table = QuarantinedRow.__table__


class IngestRefused(ClientStrataError):
    """More rows were quarantined than the caller allows (`max_quarantined`): nothing of the
    ingest was loaded; its quarantined rows and report are kept."""

    code = "INGEST_REFUSED"

    def __init__(self, message: str, report) -> None:
        super().__init__(message)
        self.report = report


_CUT = re.compile(r"… \(\+[\d,]+ characters\)$")


def _cut(value: object, limit: int = RAW_CHARS) -> object:
    if not isinstance(value, str) or len(value) <= limit or (len(value) < limit + 40 and _CUT.search(value)):
        return value  # short enough, or cut already
    return value[:limit] + f"… (+{len(value) - limit:,} characters)"


def _cut_reason(reason: str) -> str:
    """Whole reasons while they fit (only the list of a long row's extra fields is ever long)."""
    if len(reason) <= REASON_CHARS or (len(reason) < REASON_CHARS + 40 and _CUT.search(reason)):
        return reason
    kept, size = [], 0
    parts = reason.split("; ")
    for part in parts:
        if size + len(part) > REASON_CHARS:
            kept.append(_cut(part, max(0, REASON_CHARS - size)))
            break
        kept.append(part)
        size += len(part) + 2
    return "; ".join(kept)


def quarantine_rows(
    ingest_id: int, table: str, source_file: str, bad: pd.DataFrame, misaligned: set[int]
) -> list[dict]:
    """Quarantine rows for a validated chunk's bad rows; `misaligned`: the row numbers the reader
    could not split cleanly."""
    rows = []
    cols = [c for c in bad.columns if c not in (ROW, "reason")]
    for rec in bad.to_dict("records"):
        raw = {c: rec[c] for c in cols}
        aligned = int(rec[ROW]) not in misaligned
        # The row itself identifies it (in full, before cutting): re-reading it may word the reason
        # differently (a duplicate within the file becomes a clash with the database) but adds nothing.
        # A row that did not split into the header's fields is padded, so its cells alone cannot tell
        # "," from ",,,,": its reason (which counts the fields) is part of what identifies it.
        key = [table, raw] if aligned else [table, raw, rec["reason"]]
        body = json.dumps(key, sort_keys=True, ensure_ascii=False, default=str)
        rows.append(
            {
                "ingest_id": ingest_id,
                "source_file": source_file,
                "row_number": int(rec[ROW]),
                "table_name": table,
                "reason": _cut_reason(rec["reason"]),
                "raw": {c: _cut(v) for c, v in raw.items()},
                "aligned": aligned,
                "fingerprint": hashlib.sha256(body.encode()).hexdigest(),
            }
        )
    return rows


def _mask_extras(reason: str) -> str:
    start = reason.find(_EXTRA)
    if start < 0:
        return reason
    end = reason.rfind("])")
    end = end + 2 if end > start else len(reason)
    return reason[:start] + "(extra fields masked)" + reason[end:]


def mask_row(table: str, raw: dict, reason: str, aligned: bool) -> tuple[dict, str]:
    """The row as a reader without read_pii sees it."""
    suspects = [c for c, v in raw.items() if isinstance(v, str) and v and (not aligned or c in pii_columns(table))]

    def mask(c: str, v: str) -> str:
        return str(mask_cell(table, c, v) if aligned else mask_any(v))

    masks = {c: mask(c, raw[c]) for c in suspects}
    if not aligned:
        reason = _mask_extras(reason)
    # reasons quote a value's first 40 characters between single quotes; bare PII too
    for c in sorted(suspects, key=lambda c: -len(raw[c])):
        v, m = raw[c], str(masks[c])
        reason = reason.replace(f"'{v[:40]}'", f"'{mask(c, v[:40])}'")
        for text in {v, v.strip()}:
            if len(text) >= 4:
                reason = reason.replace(text, m)
    return {c: masks.get(c, v) for c, v in raw.items()}, reason


def quarantined(
    conn: Connection,
    ingest_id: int | None = None,
    table: str | None = None,
    first: int = 1000,
    after: int = 0,
    pii: bool = False,
) -> tuple[list[dict], bool]:
    """Quarantined rows with id > `after` (keyset paging), oldest first, at most `first`, and
    whether more follow. Masked unless `pii`; each row says which of its values were shown
    unmasked (`pii_shown`), for `audit_pii_reads`."""
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_PAGE:,}")
    q = sa.select(_table).where(_table.c.id > after)
    if ingest_id is not None:
        q = q.where(_table.c.ingest_id == ingest_id)
    if table is not None:
        q = q.where(_table.c.table_name == table)
    found = conn.execute(q.order_by(_table.c.id).limit(first + 1)).mappings().all()
    out = []
    for r in found[:first]:
        raw = {c: _cut(v) for c, v in (r["raw"] or {}).items()}  # rows kept before the cut existed
        reason, aligned = _cut_reason(r["reason"]), bool(r["aligned"])
        shown = [
            c for c, v in raw.items() if v not in (None, "") and (not aligned or c in pii_columns(r["table_name"]))
        ]
        if not aligned and _EXTRA in reason:
            shown.append("extra fields")
        if not pii:
            raw, reason = mask_row(r["table_name"], raw, reason, aligned)
        out.append(
            {
                "id": r["id"],
                "ingest_id": r["ingest_id"],
                "table": r["table_name"],
                "source_file": r["source_file"],
                "row_number": r["row_number"],
                "reason": reason,
                "raw": raw,
                "aligned": aligned,
                "masked": not pii,
                "pii_shown": shown if pii else [],
            }
        )
    return out, len(found) > first


def audit_pii_reads(conn: Connection, actor: str, rows: list[dict], via: str) -> int:
    """One `pii.read` audit entry per quarantined row whose PII was shown unmasked."""
    entries = [(r["id"], {"fields": r["pii_shown"], "via": via}) for r in rows if r["pii_shown"]]
    record_many(conn, actor, "pii.read", "quarantine", entries)
    return len(entries)


def over_limit(read: int, quarantined: int, share: float | None) -> str | None:
    """Why an ingest is refused under `share` (the largest quarantined share of rows read that
    still loads), or None."""
    if share is None or not read or quarantined / read <= share:
        return None
    return f"{quarantined:,} of {read:,} rows quarantined ({quarantined / read:.2%}), above the limit of {share:.2%}"
