"""The bulk fields' rows (api/tables.py `json_rows`), converted a column at a time: whatever a frame
holds — numbers with NaN, numpy and nullable integers, dates, datetimes, lists, None — comes out as
strict JSON (no NaN), cell for cell what the frame said."""

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from clientstrata.api.tables import json_columns, json_rows

_dates = st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))
_cells = {
    "float": st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32)),
    "int": st.integers(-(2**40), 2**40),
    "text": st.one_of(st.none(), st.text(max_size=8)),
    "date": st.one_of(st.none(), _dates),
    "list": st.one_of(st.none(), st.lists(st.text(max_size=3), max_size=3)),
}


def _expected(kind, v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if kind == "date":
        return v.isoformat()
    return v


@settings(max_examples=60, deadline=None)
@given(st.data(), st.lists(st.sampled_from(sorted(_cells)), min_size=1, max_size=6), st.integers(1, 20))
def test_every_cell_is_strict_json_and_what_the_frame_held(data, kinds, n):
    columns = {f"c{i}": data.draw(st.lists(_cells[k], min_size=n, max_size=n)) for i, k in enumerate(kinds)}
    df = pd.DataFrame(columns)
    rows = json_rows(df)
    json.dumps(rows, allow_nan=False)  # raises on NaN, numpy scalars and dates
    assert len(rows) == n
    for i, kind in enumerate(kinds):
        assert [r[i] for r in rows] == [_expected(kind, v) for v in columns[f"c{i}"]]


def test_numpy_nullable_and_datetime_columns_become_plain_json():
    df = pd.DataFrame(
        {
            "n": pd.array([1, None], dtype="Int64"),
            "i": np.array([3, 4], dtype=np.int64),
            "at": pd.to_datetime(["2026-01-02T03:04:05", None]),
            "o": pd.Series([np.float64(1.5), np.int32(2)], dtype=object),
        }
    )
    assert json_rows(df) == [[1, 3, "2026-01-02T03:04:05", 1.5], [None, 4, None, 2]]
    assert json_rows(df.iloc[:0]) == []


@settings(max_examples=30, deadline=None)
@given(st.data(), st.lists(st.sampled_from(sorted(_cells)), min_size=1, max_size=5), st.integers(0, 12))
def test_columns_are_the_rows_turned_round(data, kinds, n):
    """`columnValues` and `rows` carry the same cells: a client may read either."""
    df = pd.DataFrame({f"c{i}": data.draw(st.lists(_cells[k], min_size=n, max_size=n)) for i, k in enumerate(kinds)})
    columns = json_columns(df)
    assert len(columns) == len(kinds) and all(len(c) == n for c in columns)
    assert [list(r) for r in zip(*columns)] == json_rows(df)
