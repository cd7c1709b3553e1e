"""Business categories (业务类别), multi-label: savings, loan, investment, insurance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientstrata.jobs.classification.standard import Standard

from ._explain import KEY, Lang, family_names
from ._tags import tag_frame

__all__ = ["business_categories", "explain_business_categories"]


def business_categories(features: pd.DataFrame, std: Standard) -> pd.DataFrame:
    """Value = the categories held, sorted and comma-joined (e.g. `investment,savings`), or `none`;
    the list is in inputs. Labels join the categories' labels."""
    spec = std.dimensions["business_categories"]
    cats = spec["categories"]
    fams = features["families"].fillna("").str.split(",")
    held = [sorted({c["value"] for c in cats if any(f in c["families"] for f in fs)}) for fs in fams]
    by = {c["value"]: c for c in cats}
    labels, pick, seen = [], [], {}
    for h in held:
        key = ",".join(h) or spec["none"]["value"]
        if key not in seen:
            seen[key] = len(labels)
            labels.append(
                spec["none"]
                if not h
                else {
                    "value": key,
                    "label_zh": "、".join(by[v]["label_zh"] for v in h),
                    "label_en": ", ".join(by[v]["label_en"] for v in h),
                }
            )
        pick.append(seen[key])
    inputs = [{"categories": h, "families": [f for f in fs if f]} for h, fs in zip(held, fams)]
    return tag_frame(
        features["customer_id"],
        "business_categories",
        labels or [spec["none"]],
        np.array(pick, int),
        np.array([len(h) for h in held], dtype=float),
        [KEY] * len(held),
        inputs,
        std,
    )


def explain_business_categories(tag: dict, inputs: dict, std: Standard, lang: Lang) -> str:
    fams, cats = inputs.get("families") or [], inputs.get("categories") or []
    if lang == "zh":
        return f"持有 {'、'.join(family_names(fams, lang)) or '无产品'} → {tag['label_zh']}"
    return f"holds {', '.join(fams) or 'no products'} → {', '.join(cats) or 'none'}"
