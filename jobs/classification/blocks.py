"""The standard's blocks besides `dimensions`, declared in the schema's terms (`schema.py`):
`governance:` (re-tagging period, change notifications) and `alerts:` (the RM alerts' thresholds).

`parse_standard` checks them with the rest of the file, so a bad block is refused with its file
and line before anything runs; `jobs.governance.standards.governance_of` and
`jobs.tracking.settings.alert_settings` only read the checked values, filling in these defaults.
"""

from __future__ import annotations

from typing import Any

from clientstrata.jobs.ingest.bundle import PRODUCT_FAMILIES

from .schema import Bool, ListOf, Map, Maybe, Num, OneOf, Str, Toggle, fmt

__all__ = [
    "NOTIFY_CHANNELS",
    "RETAG_EVERY_MONTHS",
    "NOTIFY_DEFAULTS",
    "GOVERNANCE",
    "ALERT_TYPES",
    "SEVERITIES",
    "ALERT_DEFAULTS",
    "ALERTS",
]


def _values_of(dimension: str, key: str, fallback: tuple[str, ...] = ()):
    """The `value`s a dimension of the document lists under `key` (`fallback` when it has none)."""

    def values(doc: dict) -> list[str]:
        section = (doc.get("dimensions") or {}).get(dimension) or {}
        return [e["value"] for e in section.get(key) or []] or list(fallback)

    return values


def _dimensions(doc: dict) -> list[str]:
    return sorted(doc.get("dimensions") or {})


def _range(lo: float, hi: float, integer: bool = False) -> Num:
    kind = "a whole number" if integer else "a number"
    return Num(lo, hi, integer, says=f"{kind} from {fmt(lo)} to {fmt(hi)}")


# --- governance: ----------------------------------------------------------------------------

NOTIFY_CHANNELS = ("letter", "sms", "email")
RETAG_EVERY_MONTHS = 3  # scheduled re-tagging: quarterly
NOTIFY_DEFAULTS: dict[str, list[str]] = {"dimensions": ["wealth_tier"], "channels": ["sms", "email"]}

GOVERNANCE = Map(
    {
        "?retag_every_months": Num(1, 120, integer=True, says="a whole number of months from 1 to 120"),
        "?notify": Maybe(
            Map(
                {
                    "?dimensions": ListOf(
                        OneOf(_dimensions, "{x!r} is not a dimension of this standard (it has: {allowed})")
                    ),
                    "?channels": ListOf(OneOf(NOTIFY_CHANNELS, "unknown channel {x!r} (channels: {allowed})"), 1),
                },
                defaults=NOTIFY_DEFAULTS,
            )
        ),
    }
)

# --- alerts: --------------------------------------------------------------------------------

ALERT_TYPES = (
    "aum_outflow",
    "near_upgrade",
    "risk_appetite_drift",
    "product_maturity",
    "birthday",
    "dormant",
    "demand_signal",
    "aml_red_flag",
)
SEVERITIES = ("low", "medium", "high")

# One mapping per entry (`valuable` says who the retention alert watches; the rest are the
# types); the standard's `alerts:` block overrides them key by key.
ALERT_DEFAULTS: dict[str, dict[str, Any]] = {
    "valuable": {"min_tier": "affluent", "min_value_decile": 8},
    "aum_outflow": {"drop_pct": 30, "months": 3, "severity": "high"},
    "near_upgrade": {"within_pct": 10, "severity": "medium"},
    "risk_appetite_drift": {"conservative_levels": ["C1", "C2"], "min_product_risk": 4, "severity": "high"},
    "product_maturity": {"within_days": 30, "families": ["deposit", "wealth_management"], "severity": "medium"},
    "birthday": {"within_days": 7, "tiers": ["affluent", "wealth", "private_banking"], "severity": "low"},
    "dormant": {"severity": "medium"},
    "demand_signal": {
        "large_transfer_min": 500_000,
        "lookback_days": 90,
        "cross_border_min_count": 3,
        "severity": "medium",
    },
    "aml_red_flag": {"ratings": ["high"], "on_rise": True, "severity": "high"},
}

_BANDS = _values_of("wealth_tier", "bands")
_LEVELS = _values_of("risk_preference", "levels", tuple(f"C{i}" for i in range(1, 6)))
_RATINGS = _values_of("aml_risk", "ratings", SEVERITIES)
_SEVERITY = Str(SEVERITIES)


def _listed(values, what: str) -> ListOf:
    """A non-empty list of values the standard itself defines (its bands, levels, ratings)."""
    return ListOf(OneOf(values, f"{{x!r}} is not a {what} of this standard (it has: {{allowed}})"), 1)


def _entry(name: str, **fields) -> Toggle:
    """An `alerts:` entry: every key optional (defaulting to ALERT_DEFAULTS[name]), or `false`."""
    assert set(fields) == set(ALERT_DEFAULTS[name]), name
    return Toggle(
        Map({f"?{k}": spec for k, spec in fields.items()}, defaults=ALERT_DEFAULTS[name]),
        says="must be a mapping of settings, or false to switch the type off",
    )


ALERTS = Map(
    {
        "?valuable": _entry(
            "valuable",
            min_tier=OneOf(_BANDS, "{x!r} is not a wealth_tier band (bands: {allowed})"),
            min_value_decile=_range(1, 10, integer=True),
        ),
        "?aum_outflow": _entry(
            "aum_outflow", drop_pct=_range(0.01, 100), months=_range(1, 11, integer=True), severity=_SEVERITY
        ),
        "?near_upgrade": _entry("near_upgrade", within_pct=_range(0.01, 100), severity=_SEVERITY),
        "?risk_appetite_drift": _entry(
            "risk_appetite_drift",
            conservative_levels=_listed(_LEVELS, "risk_preference level"),
            min_product_risk=_range(1, 5, integer=True),
            severity=_SEVERITY,
        ),
        "?product_maturity": _entry(
            "product_maturity",
            within_days=_range(0, 366, integer=True),
            families=ListOf(Str(PRODUCT_FAMILIES), 1),
            severity=_SEVERITY,
        ),
        "?birthday": _entry(
            "birthday",
            within_days=_range(0, 60, integer=True),
            tiers=_listed(_BANDS, "wealth_tier band"),
            severity=_SEVERITY,
        ),
        "?dormant": _entry("dormant", severity=_SEVERITY),
        "?demand_signal": _entry(
            "demand_signal",
            large_transfer_min=_range(1, 10**12),
            lookback_days=_range(1, 366, integer=True),
            cross_border_min_count=_range(1, 10_000, integer=True),
            severity=_SEVERITY,
        ),
        "?aml_red_flag": _entry(
            "aml_red_flag", ratings=_listed(_RATINGS, "aml_risk rating"), on_rise=Bool(), severity=_SEVERITY
        ),
    },
    defaults=ALERT_DEFAULTS,
    unknown="unknown alert type",
)
assert set(ALERT_TYPES) == set(ALERT_DEFAULTS) - {"valuable"}
