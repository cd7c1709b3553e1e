"""Alert settings: the standard's `alerts:` block, with the defaults it leaves out filled in.

```yaml
alerts:
  valuable: {min_tier: affluent, min_value_decile: 8}
  aum_outflow: {drop_pct: 30, months: 3, severity: high}
  dormant: false                 # a type set to false is off
  ...
```
The block is declared and checked with the rest of the standard when it is parsed
(`jobs.classification.blocks.ALERTS`: unknown types or keys, numbers out of range, severities,
tiers and levels the standard does not know are refused with the file and line), so
`alert_settings` only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clientstrata.jobs.classification.blocks import ALERT_DEFAULTS, ALERT_TYPES, SEVERITIES
from clientstrata.jobs.classification.standard import Standard

__all__ = ["ALERT_TYPES", "SEVERITIES", "AlertSettings", "alert_settings"]


@dataclass(frozen=True)
class AlertSettings:
    """Per type its thresholds and severity (and `valuable`: who the retention alert watches);
    `enabled` lists the types that run (a type set to `false` in the standard is off)."""

    types: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: dict(v) for k, v in ALERT_DEFAULTS.items()})
    enabled: tuple[str, ...] = ALERT_TYPES

    def __getitem__(self, key: str) -> dict[str, Any]:
        return self.types[key]


def alert_settings(std: Standard) -> AlertSettings:
    """The standard's alert settings: each entry's defaults overridden key by key by its block."""
    block = std.alerts or {}
    types = {name: {**defaults, **(block.get(name) or {})} for name, defaults in ALERT_DEFAULTS.items()}
    return AlertSettings(types=types, enabled=tuple(t for t in ALERT_TYPES if block.get(t) is not False))
