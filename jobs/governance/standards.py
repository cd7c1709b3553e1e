"""The standard's `governance` block, the standards register, and what a standard allows.

```yaml
governance:
  retag_every_months: 3          # scheduled re-tagging period (default 3: quarterly)
  notify:                        # outbox rows when a customer's effective value changes
    dimensions: [wealth_tier]
    channels: [letter, sms, email]
```
The standard validator only checks that `governance` is a mapping; its contents are
checked here, with messages that say where and how to fix them."""

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
from clientstrata.jobs.classification.standard import (
    DEFAULT_STANDARD,
    InvalidStandard,
    Standard,
    load_standard,
    parse_standard,
)

__all__ = [
    "Governance",
    "CHANNELS",
    "governance_of",
    "standard_text",
    "register_standard",
    "dimension_values",
    "run_standard_dimensions",
    "current_dimensions",
    "live_standard",
]

CHANNELS = ("letter", "sms", "email")
_KEYS = ("retag_every_months", "notify")


@dataclass(frozen=True)
class Governance:
    retag_every_months: int = 3
    notify_dimensions: tuple[str, ...] = ("wealth_tier",)
    notify_channels: tuple[str, ...] = ("sms", "email")


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


def governance_of(std: Standard, text: str | None = None) -> Governance:
    """The validated governance settings of a standard (defaults where the block is silent)."""
    doc = yaml.safe_load(text if text is not None else standard_text(_path(std), std)) or {}
    where = f"{std.source}: governance"
    gov = doc.get("governance")
    if gov is None:
        return Governance()
    _need(isinstance(gov, dict), where, "must be a mapping")
    unknown = sorted(set(gov) - set(_KEYS))
    _need(not unknown, f"{where}.{unknown[0] if unknown else ''}", f"unknown key (known: {', '.join(_KEYS)})")
    months = gov.get("retag_every_months", Governance.retag_every_months)
    _need(
        isinstance(months, int) and not isinstance(months, bool) and 1 <= months <= 120,
        f"{where}.retag_every_months",
        f"must be a whole number of months from 1 to 120 (got {months!r})",
    )
    notify = gov.get("notify")
    if notify is None:
        return Governance(retag_every_months=months)
    _need(isinstance(notify, dict), f"{where}.notify", "must be a mapping with `dimensions` and `channels`")
    dims = notify.get("dimensions", list(Governance.notify_dimensions))
    chans = notify.get("channels", list(Governance.notify_channels))
    _need(
        isinstance(dims, list) and all(isinstance(d, str) for d in dims),
        f"{where}.notify.dimensions",
        "must be a list of dimension names",
    )
    for d in dims:
        _need(
            d in std.dimensions,
            f"{where}.notify.dimensions",
            f"{d!r} is not a dimension of this standard (it has: {', '.join(sorted(std.dimensions))})",
        )
    _need(isinstance(chans, list) and chans, f"{where}.notify.channels", f"must be a list, from {', '.join(CHANNELS)}")
    for c in chans:
        _need(c in CHANNELS, f"{where}.notify.channels", f"unknown channel {c!r} (channels: {', '.join(CHANNELS)})")
    return Governance(retag_every_months=months, notify_dimensions=tuple(dims), notify_channels=tuple(chans))


def _need(cond: bool, where: str, problem: str) -> None:
    if not cond:
        raise InvalidStandard(f"{where}: {problem}")


def _path(std: Standard) -> str | None:
    return None if std.source.startswith("(default)") else std.source


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
