"""The standard's blocks besides `dimensions`, declared in the schema's terms (`schema.py`):
`governance:` (re-tagging period, change notifications), `alerts:` (the RM alerts' thresholds)
and `actions:` (the next-best-action catalogue, arbitration weights, contact policy, control
group and learning prior).

`parse_standard` checks them with the rest of the file, so a bad block is refused with its file
and line before anything runs; `jobs.governance.standards.governance_of` and
`jobs.tracking.settings.alert_settings` only read the checked values, filling in these defaults.
"""

from __future__ import annotations

from typing import Any

from clientstrata.jobs.ingest.bundle import PRODUCT_FAMILIES

from .schema import Bool, DictOf, ListOf, Map, Maybe, Num, OneOf, Str, Toggle, fmt, need

__all__ = [
    "NOTIFY_CHANNELS",
    "RETAG_EVERY_MONTHS",
    "NOTIFY_DEFAULTS",
    "GOVERNANCE",
    "ALERT_TYPES",
    "SEVERITIES",
    "ALERT_DEFAULTS",
    "ALERTS",
    "ACTION_CHANNELS",
    "SERVICE_ACTIONS",
    "OFFER_FAMILIES",
    "RISK_LEVELS",
    "ACTION_DEFAULTS",
    "ACTIONS",
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

# --- actions: (next-best actions) -------------------------------------------------------------

ACTION_CHANNELS = ("rm_call", "visit", "event", "sms", "app", "branch")
# The service actions code knows (each fires on the triggers its entry lists); product offers
# are made per product family, one action per product of the product table.
SERVICE_ACTIONS = (
    "upgrade_invitation",
    "retention_call",
    "reinvestment",
    "care_visit",
    "event_invitation",
    "specialist_referral",
)
OFFER_FAMILIES = ("deposit", "wealth_management", "fund", "insurance")
RISK_LEVELS = ("R1", "R2", "R3", "R4", "R5")


def _service(label_zh: str, label_en: str, channel: str, value: float, base_rate: float, **more) -> dict[str, Any]:
    return {
        "label_zh": label_zh,
        "label_en": label_en,
        "channel": channel,
        "value": value,
        "base_rate": base_rate,
        "lever": 1.0,
        "cooldown_days": 90,
        "due_days": 14,
        "triggers": [],
        "segments": {},
        **more,
    }


def _offer(channel: str, value: float, base_rate: float, **more) -> dict[str, Any]:
    return {"channel": channel, "value": value, "base_rate": base_rate, "lever": 1.0, "cooldown_days": 60, **more}


# One mapping per setting; the standard's `actions:` block overrides them key by key (a
# catalogue entry's keys one by one, `false` switching an action off).
ACTION_DEFAULTS: dict[str, Any] = {
    "top_k": 3,
    # priority = propensity^w_p × value^w_v × lever^w_l (1, 1, 1: the plain product)
    "weights": {"propensity": 1.0, "value": 1.0, "lever": 1.0},
    "contact": {
        "period_days": 30,
        "max_per_channel": {"rm_call": 2, "visit": 1, "event": 1, "sms": 2, "app": 3, "branch": 2},
        "declined_suppress_days": 90,
    },
    "eligibility": {"min_age": 18, "products_need_kyc": True},
    "control": {"share": 0.1, "salt": "clientstrata"},
    "learning": {"prior_strength": 20},
    "effect": {"horizon_days": 90, "confidence": 0.95},
    "cross_sell": {"min_support": 0.01, "min_confidence": 0.1, "min_lift": 1.0},
    "offers": {
        "deposit": _offer("app", 150, 0.04),
        "wealth_management": _offer("rm_call", 900, 0.03),
        "fund": _offer("app", 700, 0.02),
        "insurance": _offer("rm_call", 1200, 0.015),
    },
    "catalogue": {
        "upgrade_invitation": _service(
            "升级邀约", "Upgrade invitation", "rm_call", 2500, 0.2, lever=1.2, triggers=["near_upgrade"]
        ),
        "retention_call": _service(
            "挽留回访（利率优惠）",
            "Retention call with a rate uplift",
            "rm_call",
            4000,
            0.25,
            lever=1.5,
            triggers=["aum_outflow"],
            due_days=3,
        ),
        "reinvestment": _service(
            "到期续作", "Reinvestment at maturity", "rm_call", 1500, 0.35, triggers=["product_maturity"], due_days=7
        ),
        "care_visit": _service(
            "关怀拜访",
            "Care visit",
            "visit",
            600,
            0.3,
            cooldown_days=90,
            segments={"wealth_tier": ["wealth", "private_banking"]},
        ),
        "event_invitation": _service(
            "权益类基金体验活动",
            "Equity-fund experience event",
            "event",
            800,
            0.1,
            triggers=["risk_appetite_drift"],
            product_level="R3",
        ),
        "specialist_referral": _service(
            "专家转介", "Specialist referral", "rm_call", 3000, 0.15, triggers=["demand_signal"], due_days=7
        ),
    },
}

_CHANNEL = OneOf(ACTION_CHANNELS, "unknown channel {x!r} (channels: {allowed})")
_RATE = Num(0.0001, 0.9999, says="a rate between 0 and 1 (exclusive)")
_DAYS = _range(0, 3650, integer=True)


class _Segments:
    """dimension → the values it must hold (all must match): names a dimension of this standard."""

    def check(self, path: str, x: Any, doc: dict) -> None:
        DictOf(ListOf(Str(max_len=40), 1)).check(path, x, doc)
        dims = set(doc.get("dimensions") or {})
        for k in x:
            need(not dims or k in dims, f"{path}.{k}", f"{k!r} is not a dimension of this standard")


def _entry_of(defaults: dict[str, Any], **fields) -> Toggle:
    return Toggle(Map({f"?{k}": spec for k, spec in fields.items()}, defaults=defaults))


_OFFER_FIELDS = dict(
    channel=_CHANNEL, value=_range(0, 10**9), base_rate=_RATE, lever=_range(0, 100), cooldown_days=_DAYS
)
_SERVICE_FIELDS = dict(
    label_zh=Str(),
    label_en=Str(),
    channel=_CHANNEL,
    value=_range(0, 10**9),
    base_rate=_RATE,
    lever=_range(0, 100),
    cooldown_days=_DAYS,
    due_days=_range(1, 365, integer=True),
    triggers=ListOf(OneOf(ALERT_TYPES, "{x!r} is not an alert type (types: {allowed})")),
    segments=_Segments(),
    product_level=OneOf(RISK_LEVELS, "{x!r} is not a product risk level (levels: {allowed})"),
    control_share=_range(0, 0.5),
    min_age=_range(0, 120, integer=True),
    max_age=_range(0, 150, integer=True),
)

ACTIONS = Map(
    {
        "?top_k": _range(1, 20, integer=True),
        "?weights": Map(
            {f"?{k}": _range(0, 5) for k in ("propensity", "value", "lever")}, defaults=ACTION_DEFAULTS["weights"]
        ),
        "?contact": Map(
            {
                "?period_days": _range(1, 366, integer=True),
                "?max_per_channel": DictOf(_range(0, 100, integer=True), keys=ACTION_CHANNELS),
                "?declined_suppress_days": _DAYS,
            },
            defaults=ACTION_DEFAULTS["contact"],
        ),
        "?eligibility": Map(
            {"?min_age": _range(0, 120, integer=True), "?products_need_kyc": Bool()},
            defaults=ACTION_DEFAULTS["eligibility"],
        ),
        "?control": Map({"?share": _range(0, 0.5), "?salt": Str()}, defaults=ACTION_DEFAULTS["control"]),
        "?learning": Map({"?prior_strength": _range(1, 100_000)}, defaults=ACTION_DEFAULTS["learning"]),
        "?effect": Map(
            {"?horizon_days": _range(1, 730, integer=True), "?confidence": _range(0.5, 0.999)},
            defaults=ACTION_DEFAULTS["effect"],
        ),
        "?cross_sell": Map(
            {"?min_support": _range(0, 1), "?min_confidence": _range(0, 1), "?min_lift": _range(0, 1000)},
            defaults=ACTION_DEFAULTS["cross_sell"],
        ),
        "?offers": Map(
            {f"?{fam}": _entry_of(d, **_OFFER_FIELDS) for fam, d in ACTION_DEFAULTS["offers"].items()},
            unknown="not a family that can be offered",
        ),
        "?catalogue": Map(
            {f"?{name}": _entry_of(d, **_SERVICE_FIELDS) for name, d in ACTION_DEFAULTS["catalogue"].items()},
            unknown="unknown service action",
        ),
    },
)
assert set(SERVICE_ACTIONS) == set(ACTION_DEFAULTS["catalogue"]) and set(OFFER_FAMILIES) == set(
    ACTION_DEFAULTS["offers"]
)
