"""A partition's tags as one customer × dimension grid of integer codes (`TagCodes`).

The strategy stage's rules read a handful of dimensions of every customer: package selectors
(`wealth_tier in (wealth, private_banking)`), service triggers and segments, the suitability
and KYC inputs. Compared as text, row by row, a partition of 50,000 customers spent most of the
stage in string operations; compared as codes, a selector is one integer comparison per
customer. `pivot_tags` factorizes the long tag frame once (customers, dimensions, values) and
places each (customer, dimension)'s tag in the grid; rules ask `holds(dim, allowed)` and
`codes(dim)`, and only what is written or shown is turned back into objects (`values`,
`objects_at`), for the rows that need it. The packages and the next-best actions of a run share
one pivot per partition.

A pair (customer, dimension) normally has one tag. Where a frame has several, `keep="last"`
(what the packages read) and `keep="first"` (what the actions read) say which one counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["TagCodes", "pivot_tags", "objects"]


def objects(column) -> np.ndarray:
    """A column as Python objects, missing values (None, NaN, NA) as None."""
    out = np.asarray(column.to_numpy(dtype=object) if hasattr(column, "to_numpy") else column, dtype=object)
    missing = pd.isna(out)
    if missing.any():
        out = out.copy()
        out[missing] = None
    return out


@dataclass
class TagCodes:
    """The tags of `tags` as codes: one row per customer (in the order they first appear), one
    column per dimension (in the order they first appear). `value_codes` is each tag's code in
    `vocabulary`; a cell with no tag (or a missing value) reads -1."""

    tags: pd.DataFrame
    customers: np.ndarray  # object: the customer ids, one per grid row
    dimensions: list[str]
    value_codes: np.ndarray  # per row of `tags`: its value's code, -1 when missing (one more -1 at the end)
    vocabulary: np.ndarray  # object: code -> value (one more None at the end, what -1 reads)
    last_rows: np.ndarray  # (customers, dimensions): the row of `tags` that holds the pair's last tag, -1 none
    first_rows: np.ndarray  # the same, its first tag (the same array when no pair has two)

    def __len__(self) -> int:
        return len(self.customers)

    def rows(self, dim: str, keep: str = "last") -> np.ndarray:
        """Per customer, the row of `tags` holding its `dim` tag (-1 where it has none)."""
        grid = self.last_rows if keep == "last" else self.first_rows
        if dim not in self.dimensions:
            return np.full(len(self), -1, dtype=np.int64)
        return grid[:, self.dimensions.index(dim)]

    def codes(self, dim: str, keep: str = "last") -> np.ndarray:
        """Per customer, the code of its `dim` value (-1: no tag, or no value)."""
        return self.value_codes[self.rows(dim, keep)]

    def code_of(self, values) -> np.ndarray:
        """The codes of `values` (-2 for a value no tag holds: it matches nothing, not even a gap)."""
        found = pd.Index(self.vocabulary[:-1], dtype=object).get_indexer(list(values))
        return np.where(found >= 0, found, -2)

    def holds(self, dim: str, allowed, keep: str = "last") -> np.ndarray:
        """Per customer: its `dim` value is one of `allowed` (False where it has none)."""
        return np.isin(self.codes(dim, keep), self.code_of(allowed))

    def values(self, dim: str, keep: str = "last") -> np.ndarray:
        """Per customer, its `dim` value as an object (None where it has none)."""
        return self.vocabulary[self.codes(dim, keep)]

    def objects_at(self, column: str, dim: str, where: np.ndarray | None = None, keep: str = "last") -> np.ndarray:
        """Per customer (of `where`, a mask or positions, when given), `column` of its `dim` tag
        as an object, None where it has no tag: another column of the tag (its label, its
        inputs) read back only for the customers that need it."""
        rows = self.rows(dim, keep)
        if where is not None:
            rows = rows[where]
        if column == "value":
            return self.vocabulary[self.value_codes[rows]]
        out = np.full(len(rows), None, dtype=object)
        found = rows >= 0
        if found.any():
            out[found] = objects(self.tags[column].array.take(rows[found]))
        return out


def pivot_tags(tags: pd.DataFrame) -> TagCodes:
    """The grid of `tags` (customer_id, dimension, value and any other column of the tag).
    Customers, dimensions and values are factorized once; each tag's row lands in its cell.
    A missing customer id is a customer of its own, as a text pivot would group it."""
    n = len(tags)
    cust, customers = pd.factorize(tags["customer_id"], sort=False, use_na_sentinel=False)
    dim, dims = pd.factorize(tags["dimension"], sort=False)
    val, vocabulary = pd.factorize(tags["value"], sort=False)
    customers = np.asarray(customers, dtype=object)
    dims = [str(d) for d in np.asarray(dims, dtype=object)]
    k = max(len(dims), 1)
    rows = np.flatnonzero(dim >= 0)
    key = cust[rows].astype(np.int64) * k + dim[rows]
    last = np.full(len(customers) * k, -1, dtype=np.int64)
    last[key] = rows
    if np.count_nonzero(last >= 0) == len(rows):  # one tag per pair: the first is the last
        first = last
    else:  # several tags of a pair: which one wins is the caller's choice, read from sorted keys
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        starts = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
        ends = np.r_[sorted_key[1:] != sorted_key[:-1], True]
        first = np.full_like(last, -1)
        first[sorted_key[starts]] = rows[order[starts]]
        last = np.full_like(last, -1)
        last[sorted_key[ends]] = rows[order[ends]]
    vocabulary = np.append(np.asarray(vocabulary, dtype=object), None)
    return TagCodes(
        tags=tags,
        customers=customers,
        dimensions=dims,
        value_codes=np.append(val.astype(np.int64), -1) if n else np.array([-1], dtype=np.int64),
        vocabulary=vocabulary,
        last_rows=last.reshape(len(customers), k)[:, : len(dims)],
        first_rows=first.reshape(len(customers), k)[:, : len(dims)],
    )
