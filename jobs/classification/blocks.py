"""The standard's blocks besides `dimensions`, declared in the schema's terms (`schema.py`):
`governance:` (re-tagging period, change notifications), `alerts:` (the RM alerts' thresholds)
`playbook:` (service packages, plays, risk measures, care and pricing) and `actions:` (the
next-best-action catalogue, arbitration weights, contact policy, control group and learning prior).

`parse_standard` checks them with the rest of the file, so a bad block is refused with its file
and line before anything runs; `jobs.governance.standards.governance_of` and
`jobs.tracking.settings.alert_settings` only read the checked values, filling in these defaults.
"""

from __future__ import annotations

from typing import Any

from clientstrata.jobs.ingest.bundle import PRODUCT_FAMILIES

from .schema import Bool, DictOf, Label, Labelled, ListOf, Map, Maybe, Num, OneOf, Str, Toggle, fmt, need

__all__ = [
    "NOTIFY_CHANNELS",
    "RETAG_EVERY_MONTHS",
    "NOTIFY_DEFAULTS",
    "GOVERNANCE",
    "ALERT_TYPES",
    "SEVERITIES",
    "ALERT_DEFAULTS",
    "ALERTS",
    "FEE_VOLUMES",
    "RISK_KINDS",
    "DECILES",
    "PLAYBOOK",
    "POINT_SOURCES",
    "dimension_values",
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

# --- playbook: ------------------------------------------------------------------------------
# Service packages, marketing plays, risk measures, care cadence and tiered pricing
# (jobs/strategies/playbook.py reads the checked block; docs/strategies.md explains it).

FEE_VOLUMES = ("atm_withdrawals", "transfers", "months", "accounts", "cards")
RISK_KINDS = ("credit", "aml", "suitability")
DECILES = tuple(f"D{i}" for i in range(1, 11))
_CLUSTER = "behaviour_cluster"  # a tag of every run, fitted per run: its values are not in the file


def dimension_values(doc: dict, dimension: str) -> list[str] | None:
    """The values a tag of `dimension` can take under this document, or None where the file
    cannot list them (the behaviour clusters)."""
    dims = doc.get("dimensions") or {}
    s = dims.get(dimension)
    if not isinstance(s, dict):
        return None
    labelled = lambda key: [e.get("value") for e in s.get(key) or [] if isinstance(e, dict)]  # noqa: E731
    single = lambda *keys: [s[k]["value"] for k in keys if isinstance(s.get(k), dict) and "value" in s[k]]  # noqa: E731
    if dimension == "value_contribution":
        return list(DECILES)
    if dimension == "composite_segment":
        parts = [s.get("parts", {}).get(p, {}) for p in ("asset", "risk", "ecosystem")]
        values = [[(p.get(h) or {}).get("value") for h in ("high", "low")] for p in parts]
        return [f"{a}.{r}.{e}" for a in values[0] for r in values[1] for e in values[2]]
    if dimension == "enterprise_industry":
        return [*sorted(s.get("sections") or {}), *single("unknown")]
    if dimension == "business_categories":
        return None  # values are combinations (`investment,savings`): checked when tagged
    for key in ("bands", "levels", "classes", "rules", "segments", "labels", "ratings", "roles"):
        if key in s:
            return labelled(key) + single("unassessed", "expired", "unknown", "none")
    return None


class Selector(DictOf):
    """`{dimension: [values]}`: holds when every listed dimension's tag is one of its values.
    Values are checked against the standard's own, so a typo is refused here, not silently
    unmatched; a dimension a partial standard leaves out never holds (its customers fall through)."""

    def __init__(self) -> None:
        super().__init__(ListOf(Str(max_len=40), 1, unique=True), min_len=1)

    def check(self, path: str, x: Any, doc: dict) -> None:
        from .standard import KNOWN_DIMENSIONS  # standard.py declares the document with this block

        super().check(path, x, doc)
        known = [*KNOWN_DIMENSIONS, _CLUSTER]
        for dim, values in x.items():
            need(dim in known, f"{path}.{dim}", f"{dim!r} is not a dimension (dimensions: {', '.join(known)})")
            allowed = dimension_values(doc, dim)  # None when this standard leaves the dimension out
            for i, v in enumerate(values):
                need(
                    allowed is None or v in allowed,
                    f"{path}.{dim}[{i}]",
                    f"{v!r} is not a value of {dim} (values: {', '.join(map(str, allowed or ()))})",
                )


_SELECTORS = ListOf(Selector(), 1)


class Packages(ListOf):
    """Service packages in precedence order: the last one, and only it, has no selectors."""

    def __init__(self) -> None:
        super().__init__(
            Label(
                **{
                    "?selectors": _SELECTORS,
                    "?advisor": Map({"label_zh": Str(), "label_en": Str()}),
                    "?team": Map({"name": Str(), "members_zh": ListOf(Str(), 1), "members_en": ListOf(Str(), 1)}),
                    "?services_zh": ListOf(Str()),
                    "?services_en": ListOf(Str()),
                    "channels": ListOf(Str(), 1, unique=True),
                    "entitlements": Labelled(min_len=1),
                    "care": Map(
                        {
                            "visits_per_quarter": _range(0, 90, integer=True),
                            "holiday_greetings": Bool(),
                            "birthday_care": Bool(),
                        }
                    ),
                    "?discounts": DictOf(_range(0, 100)),
                }
            ),
            min_len=1,
        )

    def check(self, path: str, x: Any, doc: dict) -> None:
        super().check(path, x, doc)
        values = [p["value"] for p in x]
        for i, v in enumerate(values):
            need(v not in values[:i], f"{path}[{i}]", f"package {v!r} appears twice")
        for i, p in enumerate(x[:-1]):
            need(
                "selectors" in p,
                f"{path}[{i}]",
                "a package without selectors catches everyone, so it must be the last",
            )
        need(
            "selectors" not in x[-1],
            f"{path}[{len(x) - 1}]",
            "the last package must be a catch-all (no selectors) so every customer gets exactly one package",
        )


# Points (积分): what earns them (purchases by product family, card spend, large deposits into
# deposit accounts), multipliers by package, redemption against fee items, expiry.
POINT_SOURCES = ("purchases", "card_spend", "deposits")

POINTS_SPEC = Map(
    {
        "earn": Labelled(
            min_len=1,
            source=Str(POINT_SOURCES),
            points_per_100=_range(0.01, 1000),  # points per CNY 100 of the amount
            **{
                "?families": ListOf(Str(PRODUCT_FAMILIES), 1, unique=True),
                "?min_amount": _range(0, 1e10),
            },
        ),
        "?multipliers": DictOf(_range(0, 100)),
        "redeem": Map({"points_per_cny": _range(1, 100_000, integer=True), "fee_items": ListOf(Str(), 1, unique=True)}),
        "expiry_months": _range(1, 240, integer=True),
    }
)


def _check_points(path: str, points: dict, packages: list[dict], fees: list[str]) -> None:
    """What the points block must agree on with the rest of the playbook."""
    names = [p["value"] for p in packages]
    for name in points.get("multipliers") or {}:
        need(
            name in names,
            f"{path}.multipliers.{name}",
            f"{name!r} is not a package of the playbook (packages: {', '.join(names)})",
        )
    for i, fee in enumerate(points["redeem"]["fee_items"]):
        need(
            fee in fees,
            f"{path}.redeem.fee_items[{i}]",
            f"{fee!r} is not a fee item of fee_schedule (items: {', '.join(fees) or 'none'})",
        )
    for i, rule in enumerate(points["earn"]):
        need(
            "families" not in rule or rule["source"] == "purchases",
            f"{path}.earn[{i}].families",
            "families only narrow purchases (card spend and deposits have no product family)",
        )


_RULED = {"?description_zh": Str(), "?description_en": Str()}

PLAYBOOK_SPEC = {
    "packages": Packages(),
    "?marketing_plays": Labelled(min_len=0, selectors=_SELECTORS, **_RULED),
    "?risk_measures": Labelled(
        min_len=0,
        kind=Str(RISK_KINDS),
        selectors=_SELECTORS,
        **{
            "?credit_limit_change_pct": _range(-100, 100),
            "?rate_change_bp": _range(-2000, 2000),
            "?review_months": _range(1, 120, integer=True),
            "?enhanced_due_diligence": Bool(),
            "?product_ceiling": Str(("none", "R1", "R2", "R3", "R4", "R5")),
            **_RULED,
        },
    ),
    "?fee_schedule": Labelled(
        min_len=0,
        price=_range(0, 1_000_000),
        unit=Str(),
        volume=Str(FEE_VOLUMES),
        **{"?share": _range(0, 1)},
    ),
    "?points": POINTS_SPEC,
    "?contribution_discounts": ListOf(
        Map(
            {
                "deciles": ListOf(OneOf(DECILES, "{x!r} is not a decile ({allowed})"), 1, unique=True),
                "extra_pct": _range(0, 100),
            }
        )
    ),
}


class Playbook(Map):
    """The `playbook:` block: its parts, then what they must agree on — discounts name fee items
    of the schedule and descend with the packages' precedence (递减定价), contribution bonuses
    descend with the decile."""

    def __init__(self) -> None:
        super().__init__(PLAYBOOK_SPEC)

    def check(self, path: str, x: Any, doc: dict) -> None:
        super().check(path, x, doc)
        fees = [f["value"] for f in x.get("fee_schedule") or []]
        packages = x["packages"]
        for i, p in enumerate(packages):
            for fee in p.get("discounts") or {}:
                need(
                    fee in fees,
                    f"{path}.packages[{i}].discounts.{fee}",
                    f"{fee!r} is not a fee item of fee_schedule (items: {', '.join(fees) or 'none'})",
                )
        for fee in fees:  # precedence runs from the highest tier down, and so must the discounts
            for i in range(1, len(packages)):
                here = (packages[i].get("discounts") or {}).get(fee, 0)
                above = min((packages[j].get("discounts") or {}).get(fee, 0) for j in range(i))
                need(
                    here <= above,
                    f"{path}.packages[{i}].discounts"
                    + (f".{fee}" if fee in (packages[i].get("discounts") or {}) else ""),
                    f"{packages[i]['value']} gets {fmt(here)}% off {fee}, more than a package above it "
                    f"({fmt(above)}%): discounts must descend with precedence (递减定价)",
                )
        if "points" in x:
            _check_points(f"{path}.points", x["points"], packages, fees)
        seen: dict[str, int] = {}
        bonus = x.get("contribution_discounts") or []
        for i, c in enumerate(bonus):
            for d in c["deciles"]:
                need(d not in seen, f"{path}.contribution_discounts[{i}]", f"{d} is already in entry {seen.get(d)}")
                seen[d] = i
        ranked = sorted(((int(d[1:]), c["extra_pct"], i) for i, c in enumerate(bonus) for d in c["deciles"]))
        for (d1, e1, _), (d2, e2, i2) in zip(ranked, ranked[1:]):
            need(
                e2 >= e1,
                f"{path}.contribution_discounts[{i2}]",
                f"D{d2} gets {fmt(e2)} extra points, less than D{d1} ({fmt(e1)}): bonuses must rise with contribution",
            )


PLAYBOOK = Playbook()
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
