"""Work done once per distinct combination of values, then handed to every row that has it.

A run words each action's reason and dates each posting's expiry: hundreds of thousands of rows,
a few thousand distinct inputs. `distinct_rows` numbers the combinations; the caller does its
Python work on one row of each and spreads the results with `inverse`. Values count as the same
only when the work could not tell them apart: None, NaN and pd.NA are three values (a reason
reads `None` as "no risk rating" and NaN as "nan"), so are 1, 1.0 and True, and so are 0.0 and
-0.0 (their formats differ).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["distinct_rows"]


def _codes(column) -> list[np.ndarray]:
    """The codes that tell a column's values apart as the work would: the value, and where
    equality is looser than formatting, the value's type and sign."""
    values = column.to_numpy() if isinstance(column, (pd.Series, pd.Index)) else np.asarray(column)
    codes = [pd.factorize(values, use_na_sentinel=False)[0]]
    if values.dtype == object:
        missing = pd.isna(values)
        present = values[~missing]
        kind = pd.api.types.infer_dtype(present, skipna=False)
        if kind in ("string", "empty", "integer", "boolean", "floating"):
            # one kind of value apart from the gaps: only the gaps' kinds (and a float's sign) to tell apart
            gaps = np.zeros(len(values), dtype=np.int64)
            found = values[missing]
            gaps[missing] = 1 + pd.factorize(np.fromiter(map(type, found), dtype=object, count=len(found)))[0]
            codes.append(gaps)
            if kind == "floating":
                signs = np.zeros(len(values), dtype=np.int64)
                signs[~missing] = np.signbit(present.astype(float))
                codes.append(signs)
        else:  # mixed values (1, 1.0 and True are equal): each row's type and sign
            codes.append(pd.factorize(np.fromiter(map(type, values), dtype=object, count=len(values)))[0])
            signed = (isinstance(v, float) and bool(np.signbit(v)) for v in values)
            codes.append(np.fromiter(signed, dtype=bool, count=len(values)).astype(np.int64))
    elif values.dtype.kind == "f":
        codes.append(np.signbit(values).astype(np.int64))
    return codes


def distinct_rows(columns: list) -> tuple[np.ndarray, np.ndarray]:
    """(first, inverse) over rows of equal length columns: `first` the row where each distinct
    combination first appears, in row order; `inverse` each row's combination (an index into
    `first`)."""
    n = len(columns[0]) if columns else 0
    key = np.zeros(n, dtype=np.int64)
    for column in columns:
        for codes in _codes(column):
            # numbered again after each column (in the order rows first show it), so the combined
            # key stays below n² and the last numbering is the combinations' own
            key = pd.factorize(key * (int(codes.max(initial=0)) + 1) + codes)[0].astype(np.int64)
    first = np.unique(key, return_index=True)[1] if n else np.zeros(0, dtype=np.int64)
    return first, key
