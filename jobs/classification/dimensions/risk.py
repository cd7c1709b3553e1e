"""Risk preference (风险偏好), its cross-check with behaviour, and suitability (适当性).

`suitable()` is the hard rule every recommendation path calls: a product of level Rn may be
recommended only to a customer whose valid assessment is Cn or above; professional investors
may be offered every level."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.standard import Standard

from ._tags import tag_frame

__all__ = ["risk_preference", "risk_consistency", "suitability", "suitable", "assessment"]


def _level(x, prefix: str) -> int | None:
    if x is None or x == "" or (isinstance(x, float) and np.isnan(x)):
        return None
    if isinstance(x, (int, np.integer)):
        return int(x) if 1 <= int(x) <= 5 else None
    s = str(x).strip().upper()
    if len(s) == 2 and s[0] == prefix and s[1] in "12345":
        return int(s[1])
    raise ValueError(f"not a {prefix}1..{prefix}5 risk level: {x!r}")


def suitable(customer_level, product_level, professional: bool = False) -> bool:
    """May a product of `product_level` (R1..R5, or None for products without a risk rating,
    such as deposits) be recommended to a customer whose valid assessment is `customer_level`
    (C1..C5, or None when unassessed or expired)?"""
    product = _level(product_level, "R")
    if product is None:
        return True
    if professional:
        return True
    customer = _level(customer_level, "C")
    return customer is not None and customer >= product


def assessment(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """level (0 = none), status (valid / expired / unassessed), valid_until, professional."""
    months = int(std.dimensions["risk_preference"]["validity_months"])
    as_of = pd.to_datetime(features["as_of"])
    assessed = pd.to_datetime(features["q_assessed_on"], errors="coerce")
    until = pd.to_datetime(features["q_valid_until"], errors="coerce")
    until = until.fillna(assessed + pd.DateOffset(months=months))
    level = features["q_level"].fillna(0).astype(int).to_numpy()
    status = np.where(level == 0, "unassessed", np.where(until.to_numpy() < as_of.to_numpy(), "expired", "valid"))
    return pd.DataFrame(
        {
            "level": level,
            "status": status,
            "assessed_on": assessed.dt.strftime("%Y-%m-%d").astype(object).where(assessed.notna(), None),
            "valid_until": until.dt.strftime("%Y-%m-%d").astype(object).where(until.notna(), None),
            "professional": features["q_professional"].fillna(False).astype(bool).to_numpy() & (level > 0),
        },
        index=features.index,
    )


def risk_preference(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """C1..C5 from the latest questionnaire; `unassessed` without one; `expired` past validity."""
    spec = std.dimensions["risk_preference"]
    a = assessment(features, std)
    labels = [*spec["levels"], spec["unassessed"], spec["expired"]]
    pick = np.where(a["status"] == "unassessed", 5, np.where(a["status"] == "expired", 6, a["level"] - 1))
    names = np.array([lab["label_en"] for lab in spec["levels"]], dtype=object)
    rule = []
    for st, lv, on, until in zip(a["status"], a["level"], a["assessed_on"], a["valid_until"]):
        if st == "unassessed":
            rule.append("no risk questionnaire on record")
        elif st == "expired":
            rule.append(f"latest questionnaire (C{lv}, {on}) expired on {until}: not trusted until reassessed")
        else:
            rule.append(f"questionnaire of {on} gave C{lv} ({names[lv - 1]}), valid until {until}")
    score = features["q_score"].astype(float).where(a["status"] != "unassessed")
    inputs = [
        {
            "questionnaire_level": f"C{lv}" if lv else None,
            "assessed_on": on,
            "valid_until": until,
            "status": st,
            "professional": bool(pro),
            "questionnaire_score": None if np.isnan(sc) else float(sc),
        }
        for lv, on, until, st, pro, sc in zip(
            a["level"], a["assessed_on"], a["valid_until"], a["status"], a["professional"], score
        )
    ]
    return tag_frame(features["customer_id"], "risk_preference", labels, pick, score, rule, inputs, std)


def risk_consistency(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Questionnaire vs behaviour: the highest product risk level held now or bought in the last
    12 months. Holding above the assessed level is a finding of its own (above_appetite), kept
    beside the questionnaire level rather than replacing it."""
    spec = std.dimensions["risk_consistency"]
    gap = int(spec["below_gap"])
    a = assessment(features, std)
    held = features["max_risk_held"].fillna(0).astype(int).to_numpy()
    bought = features["max_risk_bought"].fillna(0).astype(int).to_numpy()
    behaviour = np.maximum(held, bought)
    level = a["level"].to_numpy()
    known = (a["status"] == "valid").to_numpy() & (behaviour > 0)
    above = known & (behaviour > level)
    below = known & ~above & (behaviour <= level - gap)
    pick = np.select([~known, above, below], [3, 1, 2], default=0)
    rule = []
    for p, st, lv, b, h, bo in zip(pick, a["status"], level, behaviour, held, bought):
        if p == 3:
            rule.append("no valid questionnaire to compare with" if st != "valid" else "holds no risk-rated products")
        elif p == 1:
            src = "holds" if h >= bo else "bought in the last 12 months"
            rule.append(f"{src} R{b} products above the assessed C{lv}: a suitability finding for review")
        elif p == 2:
            rule.append(f"highest product R{b} is {lv - b} levels below the assessed C{lv} (gap ≥ {gap})")
        else:
            rule.append(f"highest product R{b} within the assessed C{lv}")
    inputs = [
        {
            "questionnaire_level": f"C{lv}" if lv else None,
            "assessment_status": st,
            "max_risk_held": f"R{h}" if h else None,
            "max_risk_bought_12m": f"R{bo}" if bo else None,
        }
        for lv, st, h, bo in zip(level, a["status"], held, bought)
    ]
    return tag_frame(
        features["customer_id"],
        "risk_consistency",
        spec["classes"],
        pick,
        np.where(known, behaviour - level, np.nan),
        rule,
        inputs,
        std,
    )


def suitability(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """The highest product risk level that may be recommended: Rn for a valid Cn, R5 (all) for a
    professional investor, none without a valid assessment. Flags (in inputs): aged 65+, lowest
    category (C1), expired assessment."""
    spec = std.dimensions["suitability"]
    a = assessment(features, std)
    valid = (a["status"] == "valid").to_numpy()
    pro = a["professional"].to_numpy() & valid & bool(spec["professional_all_levels"])
    allowed = np.where(pro, 5, np.where(valid, a["level"].to_numpy(), 0))
    elderly = features["age"].astype(float).to_numpy() >= float(spec["elderly_age"])
    lowest = valid & (a["level"].to_numpy() == 1)
    expired = (a["status"] == "expired").to_numpy()
    rule = []
    for _allowed, p, v, st, lv, old, low in zip(allowed, pro, valid, a["status"], a["level"], elderly, lowest):
        if p:
            r = "professional investor (专业投资者): every risk level may be recommended"
        elif v:
            r = f"valid assessment C{lv}: products up to R{lv} may be recommended"
        elif st == "expired":
            r = f"assessment C{lv} expired: no risk-rated product until reassessed"
        else:
            r = "not assessed: no risk-rated product until assessed"
        flags = [f for f, on in (("aged 65+ (适老化)", old), ("lowest risk category", low)) if on]
        rule.append(r + (f"; flagged: {', '.join(flags)}" if flags else ""))
    inputs = [
        {
            "max_product_level": f"R{al}" if al else None,
            "questionnaire_level": f"C{lv}" if lv else None,
            "assessment_status": st,
            "professional": bool(p),
            "elderly": bool(o),
            "lowest_category": bool(lo),
            "expired": bool(e),
            "age": int(ag) if ag == ag else None,
        }
        for al, lv, st, p, o, lo, e, ag in zip(
            allowed, a["level"], a["status"], pro, elderly, lowest, expired, features["age"].astype(float)
        )
    ]
    return tag_frame(
        features["customer_id"], "suitability", spec["levels"], allowed, allowed.astype(float), rule, inputs, std
    )
