"""The playbook (策略): the standard's checked `playbook:` block as typed, read-only values.

`parse_standard` has already refused a malformed block with its file and line
(`jobs/classification/blocks.py`, `PLAYBOOK`); this module only reads it. A standard without a
`playbook:` block gets the packaged default standard's, so every run and every customer has one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from clientstrata.jobs.classification.standard import Standard, load_standard

from .points_rules import PointsRules

__all__ = [
    "Playbook",
    "Package",
    "Selector",
    "Entitlement",
    "Care",
    "Play",
    "RiskMeasure",
    "FeeItem",
    "ContributionDiscount",
    "playbook_of",
]

Selector = dict[str, tuple[str, ...]]  # dimension → the values it takes; all dimensions must hold


def _selectors(raw: list | None) -> tuple[Selector, ...]:
    return tuple({d: tuple(v) for d, v in s.items()} for s in raw or ())


@dataclass(frozen=True)
class Entitlement:
    value: str
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class Care:
    visits_per_quarter: int
    holiday_greetings: bool
    birthday_care: bool


@dataclass(frozen=True)
class Package:
    value: str
    label_zh: str
    label_en: str
    selectors: tuple[Selector, ...]  # empty: the catch-all
    entitlements: tuple[Entitlement, ...]
    care: Care
    channels: tuple[str, ...]
    discounts: dict[str, float]  # fee item → percent off (100: waived)
    advisor: dict | None = None  # label_zh, label_en
    team: dict | None = None  # name ("1+N"), members_zh, members_en
    services_zh: tuple[str, ...] = ()
    services_en: tuple[str, ...] = ()

    @classmethod
    def of(cls, raw: dict) -> Package:
        return cls(
            value=raw["value"],
            label_zh=raw["label_zh"],
            label_en=raw["label_en"],
            selectors=_selectors(raw.get("selectors")),
            entitlements=tuple(Entitlement(e["value"], e["label_zh"], e["label_en"]) for e in raw["entitlements"]),
            care=Care(
                int(raw["care"]["visits_per_quarter"]), raw["care"]["holiday_greetings"], raw["care"]["birthday_care"]
            ),
            channels=tuple(raw["channels"]),
            discounts={k: float(v) for k, v in (raw.get("discounts") or {}).items()},
            advisor=raw.get("advisor"),
            team=raw.get("team"),
            services_zh=tuple(raw.get("services_zh") or ()),
            services_en=tuple(raw.get("services_en") or ()),
        )


@dataclass(frozen=True)
class Play:
    """A marketing play: every play whose selector holds applies to the customer."""

    value: str
    label_zh: str
    label_en: str
    selectors: tuple[Selector, ...]


@dataclass(frozen=True)
class RiskMeasure:
    """A risk measure (credit, aml, suitability) with the parameters the file gives it."""

    value: str
    kind: str
    label_zh: str
    label_en: str
    selectors: tuple[Selector, ...]
    credit_limit_change_pct: float | None = None
    rate_change_bp: float | None = None
    review_months: int | None = None
    enhanced_due_diligence: bool | None = None
    product_ceiling: str | None = None


@dataclass(frozen=True)
class FeeItem:
    value: str
    label_zh: str
    label_en: str
    price: float  # CNY, before any discount
    unit: str
    volume: str  # how the yearly count is estimated (blocks.FEE_VOLUMES)
    share: float = 1.0  # share of that count the fee applies to


@dataclass(frozen=True)
class ContributionDiscount:
    deciles: tuple[str, ...]
    extra_pct: float


@dataclass(frozen=True)
class Playbook:
    """The playbook of one standard version."""

    version: str
    packages: tuple[Package, ...]
    marketing_plays: tuple[Play, ...] = ()
    risk_measures: tuple[RiskMeasure, ...] = ()
    fee_schedule: tuple[FeeItem, ...] = ()
    contribution_discounts: tuple[ContributionDiscount, ...] = ()
    source: str = field(default="", compare=False)
    points: PointsRules | None = None  # 积分 (jobs/strategies/points_rules.py); None: no points

    @classmethod
    def of(cls, raw: dict, version: str, source: str = "") -> Playbook:
        plays = tuple(
            Play(p["value"], p["label_zh"], p["label_en"], _selectors(p["selectors"]))
            for p in raw.get("marketing_plays") or ()
        )
        measures = tuple(
            RiskMeasure(
                m["value"],
                m["kind"],
                m["label_zh"],
                m["label_en"],
                _selectors(m["selectors"]),
                m.get("credit_limit_change_pct"),
                m.get("rate_change_bp"),
                m.get("review_months"),
                m.get("enhanced_due_diligence"),
                m.get("product_ceiling"),
            )
            for m in raw.get("risk_measures") or ()
        )
        fees = tuple(
            FeeItem(
                f["value"], f["label_zh"], f["label_en"], float(f["price"]), f["unit"], f["volume"], f.get("share", 1.0)
            )
            for f in raw.get("fee_schedule") or ()
        )
        bonus = tuple(
            ContributionDiscount(tuple(c["deciles"]), float(c["extra_pct"]))
            for c in raw.get("contribution_discounts") or ()
        )
        packages = tuple(Package.of(p) for p in raw["packages"])
        return cls(version, packages, plays, measures, fees, bonus, source, PointsRules.of(raw.get("points")))

    def package(self, value: str) -> Package | None:
        return next((p for p in self.packages if p.value == value), None)

    def fee(self, value: str) -> FeeItem | None:
        return next((f for f in self.fee_schedule if f.value == value), None)

    @property
    def dimensions(self) -> tuple[str, ...]:
        """Every tag dimension a selector reads: what `assign_packages` needs of a run's tags."""
        found: dict[str, None] = {}
        for group in (self.packages, self.marketing_plays, self.risk_measures):
            for item in group:
                for s in item.selectors:
                    found.update(dict.fromkeys(s))
        found["value_contribution"] = None  # pricing's contribution bonus reads the decile
        return tuple(found)

    def __repr__(self) -> str:
        return (
            f"Playbook(version={self.version!r}, packages={[p.value for p in self.packages]}, "
            f"plays={len(self.marketing_plays)}, risk_measures={len(self.risk_measures)}, "
            f"fees={len(self.fee_schedule)})"
        )


@lru_cache(maxsize=1)
def _default_block() -> dict:
    return load_standard().playbook or {}


def playbook_of(std: Standard) -> Playbook:
    """The standard's playbook; the packaged default's when its file has no `playbook:` block."""
    raw = std.playbook if std.playbook is not None else _default_block()
    return Playbook.of(raw, std.version, std.source)
