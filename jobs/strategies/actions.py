"""The action catalogue (行动目录): the standard's `actions:` block with its defaults filled in.

Service actions (upgrade invitation, retention call, reinvestment at maturity, care visit,
equity-fund experience event, specialist referral) fire on alert triggers and segment selectors;
product offers are one action per product of an offered family, with the product's risk level.
The block is declared and checked with the rest of the standard
(`jobs.classification.blocks.ACTIONS`), so `action_settings` only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from clientstrata.jobs.classification.blocks import ACTION_CHANNELS, ACTION_DEFAULTS, OFFER_FAMILIES, SERVICE_ACTIONS
from clientstrata.jobs.classification.standard import Standard

__all__ = [
    "ACTION_CHANNELS",
    "SERVICE_ACTIONS",
    "OFFER_FAMILIES",
    "PRODUCT_OFFER",
    "ActionSettings",
    "action_settings",
    "action_key",
    "catalogue",
    "CATALOGUE_COLUMNS",
]

PRODUCT_OFFER = "product_offer"
CATALOGUE_COLUMNS = [
    "action_key",
    "action",
    "product_id",
    "product_name",
    "family",
    "product_risk",
    "label_zh",
    "label_en",
    "channel",
    "value",
    "base_rate",
    "lever",
    "cooldown_days",
    "due_days",
    "control_share",
]


@dataclass(frozen=True)
class ActionSettings:
    """The `actions:` block, every key present: the service catalogue and the offers hold only
    the enabled entries (one set to `false` is left out)."""

    top_k: int
    weights: dict[str, float]
    contact: dict[str, Any]
    eligibility: dict[str, Any]
    control: dict[str, Any]
    learning: dict[str, Any]
    effect: dict[str, Any]
    cross_sell: dict[str, float]
    offers: dict[str, dict[str, Any]]
    services: dict[str, dict[str, Any]]

    @property
    def prior_strength(self) -> float:
        return float(self.learning["prior_strength"])


def _merged(defaults: dict, given: Any) -> dict:
    return {**defaults, **(given or {})}


def action_settings(std: Standard | None) -> ActionSettings:
    """The standard's action settings: each key's defaults overridden by its block."""
    block = (std.actions if std is not None else None) or {}
    d = ACTION_DEFAULTS
    contact = _merged(d["contact"], block.get("contact"))
    contact["max_per_channel"] = _merged(d["contact"]["max_per_channel"], contact.get("max_per_channel"))
    offers_given, services_given = block.get("offers") or {}, block.get("catalogue") or {}
    return ActionSettings(
        top_k=int(block.get("top_k", d["top_k"])),
        weights=_merged(d["weights"], block.get("weights")),
        contact=contact,
        eligibility=_merged(d["eligibility"], block.get("eligibility")),
        control=_merged(d["control"], block.get("control")),
        learning=_merged(d["learning"], block.get("learning")),
        effect=_merged(d["effect"], block.get("effect")),
        cross_sell=_merged(d["cross_sell"], block.get("cross_sell")),
        offers={
            f: _merged(d["offers"][f], offers_given.get(f)) for f in OFFER_FAMILIES if offers_given.get(f) is not False
        },
        services={
            s: _merged(d["catalogue"][s], services_given.get(s))
            for s in SERVICE_ACTIONS
            if services_given.get(s) is not False
        },
    )


def action_key(action, product_id):
    """What cooldowns, learning, the control group and the effect count by: the service action,
    or `product_offer:<product_id>` (vectorised over Series as well as scalars)."""
    if isinstance(action, pd.Series):
        pid = pd.Series(product_id, index=action.index).astype(object)
        offer = (action == PRODUCT_OFFER) & pid.notna()
        return action.where(~offer, action + ":" + pid.where(offer, "").astype(str))
    return f"{action}:{product_id}" if action == PRODUCT_OFFER and product_id is not None else action


def catalogue(settings: ActionSettings, products: pd.DataFrame) -> pd.DataFrame:
    """Every action the bank can take, one row each (CATALOGUE_COLUMNS): the enabled service
    actions, then one offer per product of an enabled family (products: product_id, name,
    family, risk_level)."""
    share = float(settings.control["share"])
    rows = [
        {
            "action_key": name,
            "action": name,
            "product_id": None,
            "product_name": None,
            "family": None,
            "product_risk": s.get("product_level"),
            "label_zh": s["label_zh"],
            "label_en": s["label_en"],
            "channel": s["channel"],
            "value": float(s["value"]),
            "base_rate": float(s["base_rate"]),
            "lever": float(s["lever"]),
            "cooldown_days": int(s["cooldown_days"]),
            "due_days": int(s["due_days"]),
            "control_share": float(s.get("control_share", share)),
        }
        for name, s in settings.services.items()
    ]
    p = products[products["family"].isin(list(settings.offers))]
    for r in p.itertuples(index=False):
        o = settings.offers[r.family]
        risk = r.risk_level if isinstance(r.risk_level, str) and r.risk_level else None
        rows.append(
            {
                "action_key": action_key(PRODUCT_OFFER, r.product_id),
                "action": PRODUCT_OFFER,
                "product_id": r.product_id,
                "product_name": r.name,
                "family": r.family,
                "product_risk": risk,
                "label_zh": f"产品推荐：{r.name}",
                "label_en": f"Product offer: {r.name}",
                "channel": o["channel"],
                "value": float(o["value"]),
                "base_rate": float(o["base_rate"]),
                "lever": float(o["lever"]),
                "cooldown_days": int(o["cooldown_days"]),
                "due_days": 14,
                "control_share": float(o.get("control_share", share)),
            }
        )
    return pd.DataFrame(rows, columns=CATALOGUE_COLUMNS)
