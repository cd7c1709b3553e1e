"""Enterprise (对公) dimensions: industry, size, credit tier, ecosystem role.

The features frame has one row per enterprise (`enterprise_id`); tags carry the enterprise id
in `customer_id` (enterprise and individual ids never collide)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.standard import Standard

from ._tags import first_match, fmt, inputs_of, tag_frame

__all__ = ["enterprise_industry", "enterprise_size", "enterprise_credit_tier", "enterprise_ecosystem_role"]


def enterprise_industry(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """GB/T 4754 section (行业属性) with the standard's labels; unknown when not recorded."""
    spec = std.dimensions["enterprise_industry"]
    sections = spec["sections"]
    labels = [{"value": k, **v} for k, v in sections.items()] + [spec["unknown"]]
    index = {k: i for i, k in enumerate(sections)}
    ind = features["industry"].astype(object)
    pick = np.array([index.get(x, len(sections)) for x in ind])
    rule = [
        f"industry section {x} (GB/T 4754): {sections[x]['label_en']} ({sections[x]['label_zh']})"
        if x in index
        else f"industry {x!r} not recorded or not a known section"
        for x in ind
    ]
    inputs = [{"industry": x} for x in ind]
    return tag_frame(features["enterprise_id"], "enterprise_industry", labels, pick, None, rule, inputs, std)


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
    rule = [
        f"declared size {d}"
        if d in index
        else (
            f"annual revenue {fmt(v)} ≥ {fmt(mins[p])} → {bands[p]['label_en']}"
            if p < len(bands)
            else "neither a declared size nor annual revenue on record"
        )
        for d, v, p in zip(declared, revenue, pick)
    ]
    inputs = inputs_of(
        pd.DataFrame(
            {
                "declared_size": declared,
                "annual_revenue": revenue,
                "registered_capital": features["registered_capital"].astype(float).to_numpy(),
            }
        )
    )
    return tag_frame(features["enterprise_id"], "enterprise_size", labels, pick, None, rule, inputs, std)


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
    rule = [f"{w} → {rules[p]['label_en']} ({rules[p]['label_zh']})" for w, p in zip(m.why, m.pick)]
    return tag_frame(
        features["enterprise_id"], "enterprise_credit_tier", rules, m.pick, None, rule, inputs_of(x, round_to=4), std
    )


def enterprise_ecosystem_role(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Core enterprise of a supply chain (enough suppliers that are customers too), payroll
    provider (employees paid through the bank, 代发工资), both, or none."""
    spec = std.dimensions["enterprise_ecosystem_role"]
    core = features["suppliers"].to_numpy() >= int(spec["core_min_suppliers"])
    payroll = features["payroll_employees"].to_numpy() >= int(spec["payroll_min_employees"])
    pick = np.select([core & payroll, core, payroll], [0, 1, 2], default=3)
    rule = [
        f"{s} suppliers (core from {spec['core_min_suppliers']}), {p} payroll employees "
        f"(provider from {spec['payroll_min_employees']}) → {spec['roles'][k]['label_en']}"
        for s, p, k in zip(features["suppliers"], features["payroll_employees"], pick)
    ]
    inputs = inputs_of(features[["suppliers", "buyers", "employees", "payroll_employees", "controllers"]])
    return tag_frame(
        features["enterprise_id"],
        "enterprise_ecosystem_role",
        spec["roles"],
        pick,
        features["suppliers"].to_numpy(dtype=float),
        rule,
        inputs,
        std,
    )
