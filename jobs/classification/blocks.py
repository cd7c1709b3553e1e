"""The standard's blocks besides `dimensions`, declared in the schema's terms (`schema.py`):
`governance:` (re-tagging period, change notifications), `alerts:` (the RM alerts' thresholds)
and `playbook:` (service packages, plays, risk measures, care and pricing).

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
