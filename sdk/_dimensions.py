"""Tag columns as pandas understands them, in the order the server's standard gives.

A scale (`mass < affluent < wealth < private_banking`, `D1 < … < D10`) becomes an ordered
categorical, so `df[df.wealth_tier >= "wealth"]` and sorting mean what they say; other listed
values an unordered categorical; a multi-label tag (`investment,savings`) a list. The order is
read from the API's `dimensions` field each time, never kept here: the committee may change it."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from gql import gql

__all__ = ["DIMENSIONS", "categorical_columns", "categorise"]

DIMENSIONS = gql("""
query Dimensions($run: Int) {
  dimensions(run: $run) { name subject ordered separator values { value } }
}""")
# columns that hold a dimension's values under another name
_ALIASES = {"household_tier": "household_wealth_tier"}


def _split(value, sep: str):
    return None if value is None else [v for v in str(value).split(sep) if v]


def _cells(s: pd.Series) -> np.ndarray:
    # as a plain object array, None where missing (pandas 3 reads missing text as NaN): iterating
    # an Arrow-backed column cell by cell cost more than the pull
    return s.to_numpy(dtype=object, na_value=None)


def categorical_columns(dimensions: list[dict], aliases: dict[str, str] | None = None) -> set[str]:
    """The columns `categorise` makes categoricals of (a dimension with listed values and a single
    label, under its name or an alias): a bulk read may bring them as categoricals already."""
    aliases = _ALIASES if aliases is None else aliases
    names = {d["name"] for d in dimensions if d["values"] and not d["separator"]}
    return names | {col for col, name in aliases.items() if name in names}


def categorise(
    df: pd.DataFrame, dimensions: list[dict], subject: str = "individual", aliases: dict[str, str] | None = None
) -> pd.DataFrame:
    """`df` with each dimension column typed by `dimensions` (the API's answer). A column of
    another subject's dimension that is empty on every row (an enterprise dimension on
    individuals) is dropped: it is empty by construction. A value the server's list does not
    hold leaves its column as text, with a warning, rather than silently becoming NaN.
    `aliases` names columns that hold a dimension under another name (`household_tier` by default).
    A column may come as text or already as a categorical (the Arrow path): the result is the same."""
    out = df.copy()
    by_name, aliases = {d["name"]: d for d in dimensions}, _ALIASES if aliases is None else aliases
    for col in list(out.columns):
        d = by_name.get(aliases.get(col, col))
        if d is None:
            continue
        if d["subject"] != subject and out[col].isna().all():
            out = out.drop(columns=col)
            continue
        if d["separator"]:  # each distinct text split once; every row its own list, free to change
            cells = _cells(out[col])
            parts = {v: _split(v, d["separator"]) for v in set(cells) - {None}}
            lists = [None if v is None else list(parts[v]) for v in cells]
            out[col] = pd.Series(lists, index=out.index, dtype=object)
            continue
        values = [v["value"] for v in d["values"]]
        if not values:
            continue
        coded = isinstance(out[col].dtype, pd.CategoricalDtype)
        met = set(out[col].cat.categories) if coded else set(pd.unique(_cells(out[col]))) - {None}
        unknown = met - set(values)
        if unknown:
            warnings.warn(f"{col}: {sorted(unknown)[:5]} not among the standard's values; left as text", stacklevel=3)
            if coded:  # as the JSON path leaves it: the text column pandas makes of the values
                out[col] = pd.Series(list(_cells(out[col])), index=out.index)
            continue
        if coded:  # the codes re-pointed at the standard's order, no string hashed per row
            out[col] = out[col].cat.set_categories(values, ordered=d["ordered"])
        else:
            out[col] = pd.Categorical(_cells(out[col]), categories=values, ordered=d["ordered"])
    out.attrs = dict(df.attrs)
    return out
