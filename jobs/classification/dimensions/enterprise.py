"""Enterprise (对公) dimensions: industry, size, credit tier, ecosystem role.

The features frame has one row per enterprise (`enterprise_id`); tags carry the enterprise id
in `customer_id` (enterprise and individual ids never collide)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.standard import Standard

from ._explain import KEY, Lang, arrow, match_words
from ._tags import first_match, fmt, inputs_of, tag_frame

__all__ = [
    "enterprise_industry",
    "enterprise_size",
    "enterprise_credit_tier",
    "enterprise_ecosystem_role",
    "explain_enterprise_industry",
    "explain_enterprise_size",
    "explain_enterprise_credit_tier",
    "explain_enterprise_ecosystem_role",
]


def enterprise_industry(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """GB/T 4754 section (行业属性) with the standard's labels; unknown when not recorded."""
    spec = std.dimensions["enterprise_industry"]
    sections = spec["sections"]
    labels = [{"value": k, **v} for k, v in sections.items()] + [spec["unknown"]]
    index = {k: i for i, k in enumerate(sections)}
    ind = features["industry"].astype(object)
    pick = np.array([index.get(x, len(sections)) for x in ind])
    inputs = [{"industry": x} for x in ind]
    return tag_frame(
        features["enterprise_id"], "enterprise_industry", labels, pick, None, [KEY] * len(pick), inputs, std
    )


def explain_enterprise_industry(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    sections = std.dimensions["enterprise_industry"]["sections"]
    x = inputs.get("industry")
    if x in sections:
        if lang == "zh":
            return f"国民经济行业门类 {x}（GB/T 4754）：{sections[x]['label_zh']}"
        return f"industry section {x} (GB/T 4754): {sections[x]['label_en']} ({sections[x]['label_zh']})"
    if x is None or x == "" or (isinstance(x, float) and x != x):  # NaN before the inputs' JSON, null after
        return "行业未登记" if lang == "zh" else "industry not recorded"
    if lang == "zh":
        return f"行业 {x!r} 不是已知门类"
    return f"industry {x!r} is not a known section"


def enterprise_size(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """The declared size when recorded, otherwise from annual revenue bands."""
    spec = std.dimensions["enterprise_size"]
    bands = spec["bands"]
    labels = [*bands, spec["unknown"]]
    index = {b["value"]: i for i, b in enumerate(bands)}
    mins = np.array([b["min"] for b in bands], dtype=float)
    revenue = features["annual_revenue"].astype(float).to_numpy()
    declared = features["size"].astype(object).to_numpy()
    from_rev = np.where(np.isnan(revenue), len(bands), np.searchsorted(mins, np.nan_to_num(revenue), side="right") - 1)
    pick = np.array([index.get(d, r) for d, r in zip(declared, from_rev)])
    inputs = inputs_of(
        pd.DataFrame(
            {
                "declared_size": declared,
                "annual_revenue": revenue,
                "registered_capital": features["registered_capital"].astype(float).to_numpy(),
            }
        )
    )
    return tag_frame(features["enterprise_id"], "enterprise_size", labels, pick, None, [KEY] * len(pick), inputs, std)


def explain_enterprise_size(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    bands = std.dimensions["enterprise_size"]["bands"]
    declared = inputs.get("declared_size")
    said = next((b for b in bands if b["value"] == declared), None)
    if said is not None:
        return f"申报规模 → {said['label_zh']}" if lang == "zh" else f"declared size {declared}"
    p = next((i for i, b in enumerate(bands) if b["value"] == tag["value"]), None)
    if p is None:
        return (
            "既无申报规模也无年营业收入记录" if lang == "zh" else "neither a declared size nor annual revenue on record"
        )
    revenue = fmt(inputs.get("annual_revenue"))
    if lang == "zh":
        return f"年营业收入 {revenue} ≥ {fmt(bands[p]['min'])} → {bands[p]['label_zh']}"
    return f"annual revenue {revenue} ≥ {fmt(bands[p]['min'])} → {bands[p]['label_en']}"


def enterprise_credit_tier(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """First matching rule over loan status (A–D), days past due and debt-to-revenue."""
    rules = std.dimensions["enterprise_credit_tier"]["rules"]
    revenue = features["annual_revenue"].astype(float)
    out = features["loans_outstanding"].astype(float)
    x = pd.DataFrame(
        {
            "loan_in_debt": features["loans_D"] > 0,
            "loan_unpaid": features["loans_B"] > 0,
            "days_past_due": features["max_dpd"].astype(float),
            "debt_to_revenue": np.where(out <= 0, 0.0, out / revenue.where(revenue > 0)),
            "has_loan_history": features["loans_count"] > 0,
            "loans_outstanding": out,
        },
        index=features.index,
    )
    m = first_match(x, rules)
    return tag_frame(
        features["enterprise_id"], "enterprise_credit_tier", rules, m.pick, None, m.keys, inputs_of(x, round_to=4), std
    )


def explain_enterprise_credit_tier(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    rules = std.dimensions["enterprise_credit_tier"]["rules"]
    return f"{match_words(tag['rule'], rules, inputs, lang)} {arrow(tag, lang)}"


def enterprise_ecosystem_role(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Core enterprise of a supply chain (enough suppliers that are customers too), payroll
    provider (employees paid through the bank, 代发工资), both, or none."""
    spec = std.dimensions["enterprise_ecosystem_role"]
    core = features["suppliers"].to_numpy() >= int(spec["core_min_suppliers"])
    payroll = features["payroll_employees"].to_numpy() >= int(spec["payroll_min_employees"])
    pick = np.select([core & payroll, core, payroll], [0, 1, 2], default=3)
    inputs = inputs_of(features[["suppliers", "buyers", "employees", "payroll_employees", "controllers"]])
    return tag_frame(
        features["enterprise_id"],
        "enterprise_ecosystem_role",
        spec["roles"],
        pick,
        features["suppliers"].to_numpy(dtype=float),
        [KEY] * len(pick),
        inputs,
        std,
    )


def explain_enterprise_ecosystem_role(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    spec = std.dimensions["enterprise_ecosystem_role"]
    s, p = inputs.get("suppliers"), inputs.get("payroll_employees")
    if lang == "zh":
        return (
            f"供应商 {s} 家（{spec['core_min_suppliers']} 家起为核心企业），代发工资员工 {p} 人"
            f"（{spec['payroll_min_employees']} 人起为代发单位）→ {tag['label_zh']}"
        )
    return (
        f"{s} suppliers (core from {spec['core_min_suppliers']}), {p} payroll employees "
        f"(provider from {spec['payroll_min_employees']}) → {tag['label_en']}"
    )
