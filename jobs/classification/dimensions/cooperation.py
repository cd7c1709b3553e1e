"""Cooperation depth (合作深度): basic service, comprehensive, ecosystem synergy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.standard import Standard

from ._explain import KEY, Lang, family_names, feature_name
from ._tags import tag_frame

__all__ = ["cooperation_depth", "ecosystem_links", "explain_cooperation_depth"]


def ecosystem_links(features: pd.DataFrame, std: Standard) -> pd.Series:
    """Graph links to other customers counted by the standard (payroll, control, household…)."""
    links = std.dimensions["cooperation_depth"]["ecosystem_links"]
    return features.reindex(columns=links).fillna(0).sum(axis=1).astype("int64")


def cooperation_depth(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """From the product families held (`families`, comma-joined) and the graph's ecosystem
    link counts (`payroll_employer`, `controls`, `household_members`, `co_holders`, `supply_chain`)."""
    spec = std.dimensions["cooperation_depth"]
    basic, comp, eco = spec["classes"]
    basic_fams = set(spec["basic_families"])
    links = spec["ecosystem_links"]
    fams = features["families"].fillna("").map(lambda s: sorted(f for f in s.split(",") if f))
    n_other = fams.map(lambda f: sum(1 for x in f if x not in basic_fams)).to_numpy()
    n_links = ecosystem_links(features, std).to_numpy()
    is_eco = (n_other >= eco.get("min_other_families", 0)) & (n_links >= eco.get("min_ecosystem_links", 1))
    is_comp = ~is_eco & (n_other >= comp.get("min_other_families", 1))
    pick = np.select([is_eco, is_comp], [2, 1], default=0)
    counts = features.reindex(columns=links).fillna(0).astype("int64")
    inputs = [{"families": f, **dict(zip(links, row))} for f, row in zip(fams, counts.to_numpy().tolist())]
    return tag_frame(
        features["customer_id"],
        "cooperation_depth",
        spec["classes"],
        pick,
        n_links.astype(float),
        [KEY] * len(pick),
        inputs,
        std,
    )


def explain_cooperation_depth(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    spec = std.dimensions["cooperation_depth"]
    basic = set(spec["basic_families"])
    fams = list(inputs.get("families") or [])
    other = sum(1 for f in fams if f not in basic)
    p = next((i for i, c in enumerate(spec["classes"]) if c["value"] == tag["value"]), 0)
    ties = [(k, inputs.get(k)) for k in spec["ecosystem_links"] if inputs.get(k)]
    if lang == "zh":
        held = "、".join(family_names(fams, lang))
        if p == 2:
            links = "，".join(f"{feature_name(k, lang)}={v}" for k, v in ties)
            return f"持有 {held}；{'、'.join(family_names(sorted(basic), lang))} 以外 {other} 类；与其他客户关联（{links}）"
        if p == 1:
            return f"持有 {held}：存款与支付以外 {other} 类"
        return f"持有 {held}：仅存款与支付" if fams else "未持有产品"
    held = ", ".join(fams) or "nothing"
    if p == 2:
        links = ", ".join(f"{k}={v}" for k, v in ties)
        return f"holds {held}; {other} beyond {'/'.join(sorted(basic))}; linked to other customers ({links})"
    if p == 1:
        return f"holds {held}: {other} famil{'y' if other == 1 else 'ies'} beyond deposits and payments"
    return f"holds {held}: deposits and payments only" if fams else "holds no products"
