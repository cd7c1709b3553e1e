"""Tag columns as pandas understands them, in the order the server's standard gives.

A scale (`mass < affluent < wealth < private_banking`, `D1 < … < D10`) becomes an ordered
categorical, so `df[df.wealth_tier >= "wealth"]` and sorting mean what they say; other listed
values an unordered categorical; a multi-label tag (`investment,savings`) a list. The order is
read from the API's `dimensions` field each time, never kept here: the committee may change it."""

from __future__ import annotations

import warnings

import pandas as pd
from gql import gql

__all__ = ["DIMENSIONS", "categorise"]

DIMENSIONS = gql("""
query Dimensions($run: Int) {
  dimensions(run: $run) { name subject ordered separator values { value } }
}""")
# columns that hold a dimension's values under another name
_ALIASES = {"household_tier": "household_wealth_tier"}


def _split(value, sep: str):
    return None if value is None or value is pd.NA else [v for v in str(value).split(sep) if v]


def categorise(
    df: pd.DataFrame, dimensions: list[dict], subject: str = "individual", aliases: dict[str, str] | None = None
) -> pd.DataFrame:
    """`df` with each dimension column typed by `dimensions` (the API's answer). A column of
    another subject's dimension that is empty on every row (an enterprise dimension on
    individuals) is dropped: it is empty by construction. A value the server's list does not
    hold leaves its column as text, with a warning, rather than silently becoming NaN.
    `aliases` names columns that hold a dimension under another name (`household_tier` by default)."""
    out = df.copy()
    by_name, aliases = {d["name"]: d for d in dimensions}, _ALIASES if aliases is None else aliases
    for col in list(out.columns):
        d = by_name.get(aliases.get(col, col))
        if d is None:
            continue
        if d["subject"] != subject and out[col].isna().all():
            out = out.drop(columns=col)
            continue
        if d["separator"]:
            out[col] = out[col].map(lambda v, s=d["separator"]: _split(v, s)).astype(object)
            continue
        values = [v["value"] for v in d["values"]]
        if not values:
            continue
        # as a plain object array: iterating an Arrow-backed column cell by cell cost more than the pull
        cells = out[col].to_numpy(dtype=object, na_value=None)
        unknown = set(pd.unique(cells)) - set(values) - {None}
        if unknown:
            warnings.warn(f"{col}: {sorted(unknown)[:5]} not among the standard's values; left as text", stacklevel=3)
            continue
        out[col] = pd.Categorical(cells, categories=values, ordered=d["ordered"])
    out.attrs = dict(df.attrs)
    return out
