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

__all__ = ["PACKAGE_COLUMNS", "assign_packages", "matching", "wide_tags", "pivot_tags"]

PACKAGE_COLUMNS = ["customer_id", "package", "selector", "explanation_zh", "explanation_en"]


def pivot_tags(
    tags: pd.DataFrame, dims: list[str], columns: list[str], keep: str = "last"
) -> tuple[pd.Index, list[np.ndarray]]:
    """(customers in the order they first appear, one (customers × dims) object array per
    column of `columns`): the `keep` ("last" or "first") tag of a (customer, dimension) wins,
    None where there is none.
    Integer codes, not a pivot on text: a pivot of a run's partition spent most of the stage."""
    codes, uniques = pd.factorize(tags["customer_id"], sort=False, use_na_sentinel=False)
    customers = pd.Index(np.asarray(uniques, dtype=object), name="customer_id", dtype=object)
    d = pd.Index(dims).get_indexer(tags["dimension"])
    rows = np.flatnonzero(d >= 0)
    k = max(len(dims), 1)
    key = codes[rows].astype(np.int64) * k + d[rows]
    if keep == "last":
        _, last = np.unique(key[::-1], return_index=True)
        rows = rows[len(rows) - 1 - last]
    else:
        rows = rows[np.unique(key, return_index=True)[1]]
    out = []
    for col in columns:
        grid = np.full((len(customers), len(dims)), None, dtype=object)
        v = tags[col].iloc[rows].to_numpy(dtype=object)
        grid[codes[rows], d[rows]] = np.where(pd.isna(v), None, v)
        out.append(grid)
    return customers, out


def wide_tags(tags: pd.DataFrame, dimensions: tuple[str, ...] | list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values, Chinese labels): one row per customer, one column per dimension asked for;
    None where a customer has no such tag (no selector over it holds)."""
    dims = list(dict.fromkeys(dimensions))
    t = tags[["customer_id", "dimension", "value", *(["label_zh"] if "label_zh" in tags else [])]]
    customers, (values, zh) = pivot_tags(t, dims, ["value", "label_zh" if "label_zh" in t else "value"])
    return (
        pd.DataFrame(values, index=customers, columns=dims, dtype=object),
        pd.DataFrame(zh, index=customers, columns=dims, dtype=object),
    )


def _holds(values: pd.DataFrame, selector: Selector) -> np.ndarray:
    ok = np.ones(len(values), dtype=bool)
    for dim, allowed in selector.items():
        ok &= values[dim].isin(allowed).to_numpy() if dim in values else False
    return ok


def _why(values: pd.DataFrame, zh: pd.DataFrame, selector: Selector, mask: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """`wealth_tier = wealth, …` and `wealth_tier：财富客户、…` for the rows of `mask`."""
    en = zh_out = None
    for dim in selector:
        e = dim + " = " + values.loc[mask, dim].astype(str)
        z = dim + "：" + zh.loc[mask, dim].fillna(values.loc[mask, dim]).astype(str)
        en, zh_out = (e, z) if en is None else (en + ", " + e, zh_out + "，" + z)
    return en, zh_out


def assign_packages(tags: pd.DataFrame, playbook: Playbook) -> pd.DataFrame:
    """One row per customer of `tags` (PACKAGE_COLUMNS), in the order they first appear."""
    values, zh = wide_tags(tags, playbook.dimensions)
    n = len(values)
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
            mask = free & _holds(values, s)
            if not mask.any():
                continue
            en, z = _why(values, zh, s, mask)
            package[mask], selector[mask] = p.value, f"packages[{i}].selectors[{j}]"
            why_en[mask] = (f"selector {j + 1} of {p.value}: " + en + f" → {p.label_en}").to_numpy()
            why_zh[mask] = (f"{p.label_zh}：满足选择条件{j + 1}（" + z + "）").to_numpy()
            free &= ~mask
    return pd.DataFrame(
        {
            "customer_id": values.index.to_numpy(dtype=object),
            "package": package,
            "selector": selector,
            "explanation_zh": why_zh,
            "explanation_en": why_en,
        },
        columns=PACKAGE_COLUMNS,
    )


def matching(tags: pd.DataFrame, items, dimensions: tuple[str, ...]) -> pd.DataFrame:
    """customer_id, value: every (customer, play or measure) whose selectors hold — plays and
    risk measures are not exclusive, a customer gets each that applies."""
    values, _ = wide_tags(tags, dimensions)
    frames = []
    for item in items:
        mask = np.zeros(len(values), dtype=bool)
        for s in item.selectors:
            mask |= _holds(values, s)
        frames.append(pd.DataFrame({"customer_id": values.index[mask].to_numpy(dtype=object), "value": item.value}))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["customer_id", "value"])
    return out.astype(object)
