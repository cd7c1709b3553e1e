"""The first row of every key value in one file, compact enough for tens of millions of rows.

A Python dict of 43M transaction ids would take ~6 GB; this keeps two independent 64-bit hashes
and the row number (24 bytes a key) in sorted runs that merge as they grow, so adding a chunk
and looking a chunk up are both vectorised (numpy searchsorted). A value counts as seen only
when both hashes match: a false match is about as likely as 1 in 10^20 for a billion keys.

Extracts usually come in key order. A chunk whose every value sorts after the largest value added
so far cannot hold one seen before, so it is not looked up at all: profiled at 100,000 customers,
the lookups of the transactions file's ids were about 7% of the ingest's time, every one a miss.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.util import hash_array

__all__ = ["SeenKeys", "key_hashes", "repeats_within", "Hashes"]

_KEY_A = "ClientStrata-k1!"  # hash_array wants 16 characters
_KEY_B = "ClientStrata-k2?"


Hashes = tuple[np.ndarray, np.ndarray]


def key_hashes(values: pd.Series) -> Hashes:
    """The two hashes of each value: computed once per chunk by the caller and handed to both
    `first_rows` and `add` (hashing was most of the duplicate check's cost)."""
    arr = values.to_numpy(dtype=object)
    # keys are mostly distinct: hashed as they are, not factorised first (the same hashes, about
    # five times less CPU on a file of distinct ids)
    return hash_array(arr, hash_key=_KEY_A, categorize=False), hash_array(arr, hash_key=_KEY_B, categorize=False)


def repeats_within(hashes: Hashes) -> bool:
    """Whether two of the values may be equal (their first hashes are): False means the values
    are distinct, with no further hashing; True asks the caller for an exact check."""
    h1 = np.sort(hashes[0])
    return bool((h1[1:] == h1[:-1]).any())


def _text_bound(values: pd.Series, which) -> str | None:
    """The least (`min`) or greatest (`max`) value when all are text, else None."""
    if values.isna().any():
        return None
    try:
        bound = values.min() if which is min else values.max()
    except TypeError:  # text and numbers mixed
        return None
    return bound if isinstance(bound, str) else None


class SeenKeys:
    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (h1 sorted, h2, row)
        self._max: str | None = None  # the largest value added
        self._ordered = True  # every value added was text, so `_max` bounds them all

    def _all_after(self, values: pd.Series) -> bool:
        """Whether every value sorts after every value added (so none was added)."""
        if not self._ordered or self._max is None:
            return False
        low = _text_bound(values, min)
        return low is not None and low > self._max

    def __len__(self) -> int:
        return sum(len(r[0]) for r in self._runs)

    def __repr__(self) -> str:
        return f"SeenKeys(keys={len(self)}, runs={len(self._runs)})"

    def first_rows(self, values: pd.Series, hashes: Hashes | None = None) -> pd.Series:
        """Row number where each value was first added, NaN for new values (`hashes`: the
        values' `key_hashes`, when the caller has them)."""
        out = np.full(len(values), np.nan)
        if len(values) and self._runs and not self._all_after(values):
            h1, h2 = hashes if hashes is not None else key_hashes(values)
            for r1, r2, rows in self._runs:
                lo = np.searchsorted(r1, h1, side="left")
                hi = np.searchsorted(r1, h1, side="right")
                for i in np.flatnonzero(hi > lo):
                    if np.isnan(out[i]):
                        hit = np.flatnonzero(r2[lo[i] : hi[i]] == h2[i])
                        if len(hit):
                            out[i] = rows[lo[i] + hit[0]]
        return pd.Series(out, index=values.index)

    def add(self, values: pd.Series, rows: pd.Series, hashes: Hashes | None = None) -> None:
        """Remember `values` (distinct, not seen before) as first met at `rows`."""
        if not len(values):
            return
        high = _text_bound(values, max)
        if high is None:  # values that do not compare as text: no shortcut from now on
            self._ordered = False
        if self._ordered and (self._max is None or high > self._max):
            self._max = high
        h1, h2 = hashes if hashes is not None else key_hashes(values)
        order = np.argsort(h1, kind="stable")
        self._runs.append((h1[order], h2[order], rows.to_numpy(dtype=np.int64)[order]))
        # merge while the newest run is at least half the previous: O(log n) runs to search
        while len(self._runs) > 1 and len(self._runs[-1][0]) * 2 >= len(self._runs[-2][0]):
            b, a = self._runs.pop(), self._runs.pop()
            h = np.concatenate([a[0], b[0]])
            order = np.argsort(h, kind="stable")
            self._runs.append((h[order], np.concatenate([a[1], b[1]])[order], np.concatenate([a[2], b[2]])[order]))
