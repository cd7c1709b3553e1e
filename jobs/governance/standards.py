"""The standard's `governance` block, the standards register, and what a standard allows.

```yaml
governance:
  retag_every_months: 3          # scheduled re-tagging period (default 3: quarterly)
  notify:                        # outbox rows when a customer's effective value changes
    dimensions: [wealth_tier]
    channels: [letter, sms, email]
```
The block is declared and checked with the rest of the standard when it is parsed
(`jobs.classification.blocks.GOVERNANCE`); `governance_of` only reads the checked values."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection

from clientstrata.graph.record.db import insert_ignore
from clientstrata.graph.record.models import ClassificationRun, StandardVersion
from clientstrata.jobs.classification.blocks import NOTIFY_CHANNELS, NOTIFY_DEFAULTS, RETAG_EVERY_MONTHS
from clientstrata.jobs.classification.standard import (
    DEFAULT_STANDARD,
    InvalidStandard,
    Standard,
    load_standard,
    parse_standard,
)

__all__ = [
    "Governance",
    "NOTIFY_CHANNELS",
    "governance_of",
    "standard_text",
    "register_standard",
    "dimension_values",
    "run_standard_dimensions",
    "current_dimensions",
    "live_standard",
]


@dataclass(frozen=True)
class Governance:
    retag_every_months: int = RETAG_EVERY_MONTHS
    notify_dimensions: tuple[str, ...] = tuple(NOTIFY_DEFAULTS["dimensions"])
    notify_channels: tuple[str, ...] = tuple(NOTIFY_DEFAULTS["channels"])


def standard_text(path: str | Path | None, std: Standard | None = None) -> str:
    """The exact text a standard was loaded from (the register keeps it verbatim)."""
    if std is not None and std.text:
        return std.text
    if path is None:
        text = (
            resources.files("clientstrata.jobs.classification")
            .joinpath("standards", DEFAULT_STANDARD)
            .read_text("utf-8")
        )
    else:
        text = Path(path).read_text("utf-8")
    if std is not None and hashlib.sha256(text.encode()).hexdigest() != std.sha256:
        raise InvalidStandard(f"{std.source}: the file changed while it was being read; run again")
    return text


def governance_of(std: Standard) -> Governance:
    """The governance settings of a standard, defaults where the block is silent (the block was
    checked when `std` was parsed)."""
    gov = std.governance or {}
    notify = {**NOTIFY_DEFAULTS, **(gov.get("notify") or {})}
    return Governance(
        retag_every_months=int(gov.get("retag_every_months", RETAG_EVERY_MONTHS)),
        notify_dimensions=tuple(notify["dimensions"]),
        notify_channels=tuple(notify["channels"]),
    )


def register_standard(conn: Connection, std: Standard, text: str) -> None:
    """Keep the standard's full text by its sha256, once, so every run can be reproduced."""
    insert_ignore(
        conn,
        StandardVersion.__table__,
        [{"sha256": std.sha256, "version": std.version, "name": std.name or None, "text": text}],
        ["sha256"],
    )


def dimension_values(spec: object) -> dict[str, tuple[str, str]]:
    """value → (label_zh, label_en) for every value a dimension's spec lists (bands, classes,
    levels, …: any list of mappings with a `value`). Empty when the standard lists none."""
    found: dict[str, tuple[str, str]] = {}
    if isinstance(spec, dict):
        for v in spec.values():
            found.update(dimension_values(v))
    elif isinstance(spec, list):
        if spec and all(isinstance(i, dict) and "value" in i for i in spec):
            for i in spec:
                found[str(i["value"])] = (str(i.get("label_zh") or i["value"]), str(i.get("label_en") or i["value"]))
        else:
            for v in spec:
                found.update(dimension_values(v))
    return found


def run_standard_dimensions(conn: Connection, run_id: int) -> dict | None:
    """The `dimensions` of the standard a run used, from the register (None if unregistered)."""
    runs, stds = ClassificationRun.__table__, StandardVersion.__table__
    text = conn.execute(
        sa.select(stds.c.text)
        .select_from(runs.join(stds, stds.c.sha256 == runs.c.standard_sha256))
        .where(runs.c.run_id == run_id)
    ).scalar()
    return (yaml.safe_load(text) or {}).get("dimensions") if text else None


def current_dimensions(conn: Connection) -> dict:
    """The dimensions of the live standard: the latest published run's, else the packaged one."""
    from clientstrata.graph.record.queries import latest_run_id

    run = latest_run_id(conn)
    dims = run_standard_dimensions(conn, run) if run is not None else None
    return dims if dims is not None else load_standard().dimensions


def live_standard(conn: Connection) -> Standard:
    """The standard of the latest published run, from the register (the one readers see
    applied); the packaged default before the first run. An on-demand re-run uses it, so
    re-tagging never silently switches standards."""
    from clientstrata.graph.record.queries import latest_run_id

    run = latest_run_id(conn)
    if run is not None:
        runs, stds = ClassificationRun.__table__, StandardVersion.__table__
        row = conn.execute(
            sa.select(stds.c.text, stds.c.sha256)
            .select_from(runs.join(stds, stds.c.sha256 == runs.c.standard_sha256))
            .where(runs.c.run_id == run)
        ).first()
        if row is not None:
            return parse_standard(row.text, f"(run {run}) standard {row.sha256[:12]}")
    return load_standard()
