"""Risk preference (风险偏好), its cross-check with behaviour, and suitability (适当性).

`suitable()` is the hard rule every recommendation path calls: a product of level Rn may be
recommended only to a customer whose valid assessment is Cn or above; professional investors
may be offered every level."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.standard import Standard

from ._explain import KEY, Lang
from ._tags import tag_frame

__all__ = [
    "risk_preference",
    "risk_consistency",
    "suitability",
    "suitable",
    "assessment",
    "explain_risk_preference",
    "explain_risk_consistency",
    "explain_suitability",
]


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
    return tag_frame(features["customer_id"], "risk_preference", labels, pick, score, [KEY] * len(pick), inputs, std)


def explain_risk_preference(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    st, lv = inputs.get("status"), inputs.get("questionnaire_level")
    on, until = inputs.get("assessed_on"), inputs.get("valid_until")
    if lang == "zh":
        if st == "unassessed":
            return "无风险测评问卷记录"
        if st == "expired":
            return f"最近一次问卷（{lv}，{on}）已于 {until} 过期：重新测评前不采信"
        return f"{on} 的问卷评定为 {lv}（{tag['label_zh']}），有效期至 {until}"
    if st == "unassessed":
        return "no risk questionnaire on record"
    if st == "expired":
        return f"latest questionnaire ({lv}, {on}) expired on {until}: not trusted until reassessed"
    return f"questionnaire of {on} gave {lv} ({tag['label_en']}), valid until {until}"


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
        [KEY] * len(pick),
        inputs,
        std,
    )


def _level_of(text: str | None) -> int:
    return int(text[1]) if text else 0


def explain_risk_consistency(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    spec = std.dimensions["risk_consistency"]
    p = next((i for i, c in enumerate(spec["classes"]) if c["value"] == tag["value"]), 3)
    lv = _level_of(inputs.get("questionnaire_level"))
    h, bo = _level_of(inputs.get("max_risk_held")), _level_of(inputs.get("max_risk_bought_12m"))
    b, zh = max(h, bo), lang == "zh"
    if p == 3:
        if inputs.get("assessment_status") != "valid":
            return "无有效问卷可比对" if zh else "no valid questionnaire to compare with"
        return "未持有风险评级产品" if zh else "holds no risk-rated products"
    if p == 1:
        if zh:
            src = "持有" if h >= bo else "近 12 个月购买了"
            return f"{src}高于评定等级 C{lv} 的 R{b} 产品：适当性待复核"
        src = "holds" if h >= bo else "bought in the last 12 months"
        return f"{src} R{b} products above the assessed C{lv}: a suitability finding for review"
    if p == 2:
        gap = int(spec["below_gap"])
        if zh:
            return f"最高产品 R{b} 比评定等级 C{lv} 低 {lv - b} 级（差距 ≥ {gap}）"
        return f"highest product R{b} is {lv - b} levels below the assessed C{lv} (gap ≥ {gap})"
    return f"最高产品 R{b} 在评定等级 C{lv} 以内" if zh else f"highest product R{b} within the assessed C{lv}"


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
        features["customer_id"],
        "suitability",
        spec["levels"],
        allowed,
        allowed.astype(float),
        [KEY] * len(allowed),
        inputs,
        std,
    )


def explain_suitability(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    st, lv = inputs.get("assessment_status"), inputs.get("questionnaire_level")
    zh = lang == "zh"
    if inputs.get("professional"):
        r = (
            "专业投资者：可推荐各风险等级产品"
            if zh
            else "professional investor (专业投资者): every risk level may be recommended"
        )
    elif st == "valid":
        n = lv[1] if lv else "?"
        r = (
            f"有效测评 {lv}：可推荐不高于 R{n} 的产品"
            if zh
            else f"valid assessment {lv}: products up to R{n} may be recommended"
        )
    elif st == "expired":
        r = (
            f"测评 {lv} 已过期：重新测评前不推荐风险评级产品"
            if zh
            else f"assessment {lv} expired: no risk-rated product until reassessed"
        )
    else:
        r = "未测评：测评前不推荐风险评级产品" if zh else "not assessed: no risk-rated product until assessed"
    words = ("适老化（65 岁及以上）", "最低风险类别") if zh else ("aged 65+ (适老化)", "lowest risk category")
    flags = [w for w, on in zip(words, (inputs.get("elderly"), inputs.get("lowest_category"))) if on]
    if not flags:
        return r
    return r + (f"；提示：{'、'.join(flags)}" if zh else f"; flagged: {', '.join(flags)}")
