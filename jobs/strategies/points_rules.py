"""The playbook's points rules (积分, `playbook.points`) as typed, read-only values.

`parse_standard` has already checked the block (`jobs/classification/blocks.py`, `POINTS_SPEC`):
earn rules name their source and, for purchases, product families; multipliers name packages;
redemption names fee items of the fee schedule."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["EarnRule", "PointsRules"]


@dataclass(frozen=True)
class EarnRule:
    value: str
    label_zh: str
    label_en: str
    source: str  # purchases | card_spend | deposits (blocks.POINT_SOURCES)
    points_per_100: float  # points per CNY 100 of the amount
    families: tuple[str, ...] = ()  # purchases only; empty: every family
    min_amount: float = 0.0


@dataclass(frozen=True)
class PointsRules:
    earn: tuple[EarnRule, ...]
    multipliers: dict[str, float]  # package → multiplier; a package not named earns ×1
    points_per_cny: int  # points that pay CNY 1 of a fee
    fee_items: tuple[str, ...]  # the fee items points can be redeemed against
    expiry_months: int

    @classmethod
    def of(cls, raw: dict | None) -> PointsRules | None:
        if not raw:
            return None
        earn = tuple(
            EarnRule(
                r["value"],
                r["label_zh"],
                r["label_en"],
                r["source"],
                float(r["points_per_100"]),
                tuple(r.get("families") or ()),
                float(r.get("min_amount") or 0.0),
            )
            for r in raw["earn"]
        )
        return cls(
            earn=earn,
            multipliers={k: float(v) for k, v in (raw.get("multipliers") or {}).items()},
            points_per_cny=int(raw["redeem"]["points_per_cny"]),
            fee_items=tuple(raw["redeem"]["fee_items"]),
            expiry_months=int(raw["expiry_months"]),
        )

    def rule(self, value: str) -> EarnRule | None:
        return next((r for r in self.earn if r.value == value), None)

    def points_for(self, cny: float) -> int:
        """Points that pay `cny` of a fee: rounded up, so points never pay less than the fee."""
        return math.ceil(round(cny * self.points_per_cny, 6))
