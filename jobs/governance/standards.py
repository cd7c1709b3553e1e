"""The standard's `governance` block, the standards register, the live standard, and what a
standard allows (which standard is live changes only by adoption: `adoption.py`).

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

import copy
import hashlib
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection

from clientstrata.graph.record.db import insert_ignore
from clientstrata.graph.record.models import ClassificationRun, StandardAdoption, StandardVersion
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
    "live_sha256",
    "registered_text",
]

_adoptions = StandardAdoption.__table__


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
    """The dimensions of the live standard (`live_standard`)."""
    found = _live(conn)
    text = registered_text(conn, found[0]) if found is not None else None
    return (yaml.safe_load(text) or {}).get("dimensions") if text is not None else load_standard().dimensions


def _live(conn: Connection) -> tuple[str, str] | None:
    """(sha256, where it is live from) of the live standard in the register; None: the packaged one."""
    from clientstrata.graph.record.queries import latest_run_id

    adopted = conn.execute(sa.select(_adoptions.c.sha256).order_by(_adoptions.c.adoption_id.desc()).limit(1)).scalar()
    if adopted is not None:
        return adopted, "adopted standard"
    run = latest_run_id(conn)
    if run is not None:
        sha = conn.execute(
            sa.select(ClassificationRun.__table__.c.standard_sha256).where(ClassificationRun.__table__.c.run_id == run)
        ).scalar()
        if sha is not None:
            return sha, f"(run {run}) standard"
    return None


def registered_text(conn: Connection, sha256: str) -> str | None:
    """The full text of the registered standard with this hash (None: not registered)."""
    return conn.execute(sa.select(StandardVersion.__table__.c.text).where(StandardVersion.sha256 == sha256)).scalar()


def live_sha256(conn: Connection) -> str:
    """The sha256 of the live standard (`live_standard`), without parsing it."""
    found = _live(conn)
    return found[0] if found is not None else load_standard().sha256


def live_standard(conn: Connection) -> Standard:
    """The standard runs use: the latest adopted one (`jobs.governance.adoption`); before any
    adoption, that of the latest published run (a record older than adoptions); before any run,
    the packaged default. Every run path uses it, so re-tagging never silently switches standards."""
    found = _live(conn)
    if found is None:
        return load_standard()
    sha, name = found
    parsed = _parsed.get(sha)
    if parsed is None:
        text = registered_text(conn, sha)
        if text is None:
            return load_standard()
        parsed = parse_standard(text, f"{name} {sha[:12]}")
        with _parsed_lock:  # the API reads from a thread pool
            _parsed[sha] = parsed
            while len(_parsed) > 8:  # a few standards in play at once: adopted, drafts being tried
                _parsed.pop(next(iter(_parsed)))
    return copy.deepcopy(parsed)  # callers own their copy: nobody can change another's standard


# sha256 → the standard parsed from that text: the text cannot change under its hash, and parsing
# the YAML (with its line map) cost a bulk page more than its queries
_parsed: dict[str, Standard] = {}
_parsed_lock = threading.Lock()
