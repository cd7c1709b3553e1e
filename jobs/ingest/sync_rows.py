"""A sync's rows as the graph gets them, and the digest that tells a re-sync what changed.

The digest of a row is a hash of its values in a fixed type per column, so it is the same
whatever batch the row was read in (pandas infers a batch's types from the values it holds:
an all-integer SUM arrives as int64 in one batch and float64 in the next), and the same in
every process (pandas' row hash has a fixed key; Python's `hash` of text does not)."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from clientstrata.graph.stores.base import DIGEST

__all__ = ["typed", "with_digests", "records"]

# numbers in the graph are floats whatever SQL summed them as; payroll is a boolean
# (SQLite hands booleans back as 0/1: the graph must see true/false on every backend)
_FLOATS = {"balance", "share", "annual_volume", "aum"}
_BOOLEANS = {"payroll"}


def _iso(v):
    return v.isoformat() if hasattr(v, "isoformat") else v


def typed(df: pd.DataFrame) -> pd.DataFrame:
    """Each column in its one type: floats, booleans, and plain values with None for null
    (dates as ISO text: PostgreSQL sends dates, SQLite sends text)."""
    out = {}
    for col in df.columns:
        s = df[col]
        if col in _FLOATS:
            out[col] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif col in _BOOLEANS:
            out[col] = pd.Series(pd.array(s, dtype="boolean"), index=df.index)
        else:
            s = s.astype(object)
            sample = s.dropna().head(1).tolist()
            if sample and hasattr(sample[0], "isoformat"):
                s = s.map(_iso)
            out[col] = s.where(s.notna(), None)
    return pd.DataFrame(out, index=df.index)


def with_digests(df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """`typed(df)` with DIGEST: a non-negative 63-bit hash of the row's non-key values and of
    the column names (a property added to the sync changes every digest of its target)."""
    df = typed(df)
    props = [c for c in df.columns if c not in key]
    salt = np.uint64(zlib.crc32("\x1f".join(props).encode()))
    if props:
        h = pd.util.hash_pandas_object(df[props], index=False).to_numpy() ^ salt
    else:
        h = np.full(len(df), salt, dtype=np.uint64)
    df[DIGEST] = (h >> np.uint64(1)).astype(np.int64)
    return df


def records(df: pd.DataFrame) -> list[dict]:
    """Plain Python values, None for null: what the driver packs and networkx keeps."""
    plain = df.astype(object)
    return plain.where(df.notna(), None).to_dict("records")
