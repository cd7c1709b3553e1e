"""Tables as GraphQL carries them: a frame's rows as JSON lists, built a column at a time.

The bulk fields (`customerTable`, `actionTable`, `packageTable`) send tens of thousands of cells a
page; converting them value by value was a large share of a page's time, so each column is
converted once with `tolist()` (numpy scalars become Python numbers) and only the columns that
hold dates or numpy objects are touched cell by cell."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

__all__ = ["json_columns", "json_rows"]

_PLAIN = {str, int, bool, type(None), list, dict}  # floats may be NaN: checked


def _cell(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, dt.date):  # datetimes and pandas Timestamps are dates too
        return v.isoformat()
    return v.item() if hasattr(v, "item") else v


def _column(s: pd.Series) -> list:
    values = s.tolist()
    return values if set(map(type, values)) <= _PLAIN else list(map(_cell, values))


def json_columns(df: pd.DataFrame) -> list[list]:
    """The frame's columns as lists of JSON values: dates as ISO text, NaN and NaT as null."""
    return [_column(df[c]) for c in df.columns]


def json_rows(df: pd.DataFrame) -> list[list]:
    """The frame's rows as lists of JSON values (`json_columns` turned round)."""
    if df.empty:
        return []
    return [list(r) for r in zip(*json_columns(df))]
