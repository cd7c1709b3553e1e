"""Service packages, marketing plays and risk measures from a run's tags: pure and vectorised.

`assign_packages(tags, playbook)` takes tags in the record's long form (customer_id, dimension,
value; label_zh used when present) and returns one row per customer: the package, the selector
that chose it (its path in the file, `packages[1].selectors[0]`) and why, in Chinese and English.
Packages are tried in the file's order and the first selector that holds wins, so every customer
gets exactly one; the schema guarantees the last package is a catch-all. The same function runs
per partition in a run, over the whole bank in a what-if, and for one customer in the API.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .playbook import Playbook, Selector
from .tag_grid import TagCodes, pivot_tags

__all__ = ["PACKAGE_COLUMNS", "assign_packages", "matching"]

PACKAGE_COLUMNS = ["customer_id", "package", "selector", "explanation_zh", "explanation_en"]


def _grid(tags: pd.DataFrame | TagCodes) -> TagCodes:
    return tags if isinstance(tags, TagCodes) else pivot_tags(tags)


def _holds(grid: TagCodes, selector: Selector, only: tuple[str, ...] | None = None) -> np.ndarray:
    """Per customer: every dimension of the selector holds one of its values (a dimension
    outside `only`, when given, never holds)."""
    ok = np.ones(len(grid), dtype=bool)
    for dim, allowed in selector.items():
        ok &= grid.holds(dim, allowed) if only is None or dim in only else False
    return ok


def _why(grid: TagCodes, selector: Selector, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`wealth_tier = wealth, …` and `wealth_tier：财富客户、…` for the customers of `mask`: the
    words made once per distinct combination of the selector's values and labels (a handful),
    then handed to each customer by its combination's number."""
    labelled = "label_zh" in grid.tags
    values = {dim: grid.values(dim)[mask] for dim in selector}
    labels = {dim: grid.objects_at("label_zh", dim, mask) if labelled else values[dim] for dim in selector}
    keys = []
    for dim in selector:  # a label may differ between two tags of one value: counted apart
        keys.append(grid.codes(dim)[mask])
        keys.append(pd.factorize(labels[dim], use_na_sentinel=False)[0])
    _, first, inverse = np.unique(np.stack(keys, axis=1), axis=0, return_index=True, return_inverse=True)
    en = [", ".join(f"{dim} = {values[dim][i]}" for dim in selector) for i in first]
    zh = [
        "，".join(f"{dim}：{values[dim][i] if labels[dim][i] is None else labels[dim][i]}" for dim in selector)
        for i in first
    ]
    inverse = inverse.reshape(-1)
    return np.asarray(en, dtype=object)[inverse], np.asarray(zh, dtype=object)[inverse]


def assign_packages(tags: pd.DataFrame | TagCodes, playbook: Playbook) -> pd.DataFrame:
    """One row per customer of `tags` (PACKAGE_COLUMNS), in the order they first appear. `tags`
    in long form, or already pivoted (`tag_grid.pivot_tags`: a run pivots a partition once for
    its packages and its actions)."""
    grid = _grid(tags)
    n = len(grid)
    package = np.full(n, None, dtype=object)
    selector = np.full(n, None, dtype=object)
    why_en = np.full(n, None, dtype=object)
    why_zh = np.full(n, None, dtype=object)
    free = np.ones(n, dtype=bool)
    for i, p in enumerate(playbook.packages):
        if not p.selectors:  # the catch-all: everyone no selector above chose
            package[free], selector[free] = p.value, f"packages[{i}]"
            why_en[free] = f"no selector of a package above it holds → {p.label_en} (the default package)"
            why_zh[free] = f"未满足以上任何服务包的选择条件 → {p.label_zh}（默认服务包）"
            free[:] = False
            break
        for j, s in enumerate(p.selectors):
            mask = free & _holds(grid, s)
            if not mask.any():
                continue
            en, z = _why(grid, s, mask)
            package[mask], selector[mask] = p.value, f"packages[{i}].selectors[{j}]"
            head_en, tail_en = f"selector {j + 1} of {p.value}: ", f" → {p.label_en}"
            head_zh = f"{p.label_zh}：满足选择条件{j + 1}（"
            why_en[mask] = [head_en + e + tail_en for e in en]
            why_zh[mask] = [head_zh + w + "）" for w in z]
            free &= ~mask
    return pd.DataFrame(
        {
            "customer_id": grid.customers,
            "package": package,
            "selector": selector,
            "explanation_zh": why_zh,
            "explanation_en": why_en,
        },
        columns=PACKAGE_COLUMNS,
    )


def matching(tags: pd.DataFrame | TagCodes, items, dimensions: tuple[str, ...]) -> pd.DataFrame:
    """customer_id, value: every (customer, play or measure) whose selectors hold — plays and
    risk measures are not exclusive, a customer gets each that applies. Only the `dimensions`
    named are read."""
    grid, only = _grid(tags), tuple(dimensions)
    frames = []
    for item in items:
        mask = np.zeros(len(grid), dtype=bool)
        for s in item.selectors:
            mask |= _holds(grid, s, only)
        frames.append(pd.DataFrame({"customer_id": grid.customers[mask], "value": item.value}))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["customer_id", "value"])
    return out.astype(object)
