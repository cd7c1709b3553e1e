"""Composite segment (千人千面): asset size × risk preference × ecosystem contribution, 8 classes.

Value `<asset>.<risk>.<ecosystem>`, by default e.g. `high_asset.aggressive.ecosystem` or
`low_asset.conservative.standalone`; labels join the parts' labels (高资产·进取·生态协同)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.standard import Standard

from ._explain import KEY, Lang
from ._tags import fmt, tag_frame
from .cooperation import ecosystem_links
from .risk import assessment
from .wealth import tier_index

__all__ = ["composite_segment", "composite_classes", "explain_composite_segment"]


def composite_classes(std: Standard) -> list[dict]:
    """The eight classes in index order: asset (high, low) × risk (high, low) × ecosystem (high, low)."""
    parts = std.dimensions["composite_segment"]["parts"]
    out = []
    for a, r, e in itertools.product(("high", "low"), repeat=3):
        ps = [parts["asset"][a], parts["risk"][r], parts["ecosystem"][e]]
        out.append(
            {
                "value": ".".join(p["value"] for p in ps),
                "label_zh": "·".join(p["label_zh"] for p in ps),
                "label_en": ", ".join(p["label_en"] for p in ps),
            }
        )
    return out


def composite_segment(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    spec = std.dimensions["composite_segment"]
    bands = std.dimensions["wealth_tier"]["bands"]
    floor = [b["value"] for b in bands].index(spec["high_asset_min_tier"])
    tier = tier_index(features, std)
    a = assessment(features, std)
    min_level = int(spec["aggressive_min_level"][1])
    links = ecosystem_links(features, std).to_numpy()
    high_asset = tier >= floor
    aggressive = (a["status"] == "valid").to_numpy() & (a["level"].to_numpy() >= min_level)
    eco = links >= int(spec["ecosystem_min_links"])
    pick = (~high_asset) * 4 + (~aggressive) * 2 + (~eco) * 1
    classes = composite_classes(std)
    inputs = [
        {
            "wealth_tier": bands[t]["value"],
            "risk_level": f"C{lv}" if lv else None,
            "assessment_status": st,
            "ecosystem_links": int(n),
            "high_asset": bool(h),
            "aggressive": bool(g),
            "ecosystem": bool(e),
        }
        for t, lv, st, n, h, g, e in zip(tier, a["level"], a["status"], links, high_asset, aggressive, eco)
    ]
    return tag_frame(
        features["customer_id"],
        "composite_segment",
        classes,
        np.asarray(pick, int),
        None,
        [KEY] * len(pick),
        inputs,
        std,
    )


def explain_composite_segment(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    spec = std.dimensions["composite_segment"]
    bands = {b["value"]: b for b in std.dimensions["wealth_tier"]["bands"]}
    tier, floor = bands.get(inputs.get("wealth_tier"), {}), bands.get(spec["high_asset_min_tier"], {})
    st, level, links = inputs.get("assessment_status"), inputs.get("risk_level"), inputs.get("ecosystem_links")
    h, g, e = inputs.get("high_asset"), inputs.get("aggressive"), inputs.get("ecosystem")
    if lang == "zh":
        risk = level if st != "unassessed" else "未测评"
        return (
            f"资产等级 {tier.get('label_zh')}（{'≥' if h else '<'} {floor.get('label_zh')}）；"
            f"风险 {risk}{'（已过期）' if st == 'expired' else ''}（{'≥' if g else '低于'} {spec['aggressive_min_level']}）；"
            f"生态关联 {fmt(links)} 个（{'≥' if e else '<'} {spec['ecosystem_min_links']}）→ {tag['label_zh']}"
        )
    risk = level if st != "unassessed" else "unassessed"
    return (
        f"wealth tier {tier.get('label_en')} ({'≥' if h else '<'} {floor.get('label_en')}); "
        f"risk {risk}{' (' + st + ')' if st == 'expired' else ''} "
        f"({'≥' if g else 'below'} {spec['aggressive_min_level']}); {fmt(links)} ecosystem links "
        f"({'≥' if e else '<'} {spec['ecosystem_min_links']}) → {tag['label_en']}"
    )
