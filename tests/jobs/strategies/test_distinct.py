"""Work done once per distinct combination (jobs/strategies/distinct.py) is the work done per row:
rows numbered alike hold values no format tells apart, and equal rows are numbered alike."""

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from clientstrata.jobs.strategies.distinct import distinct_rows

# values a reason's words read, with the ones equality confuses: None, NaN and NA; 1, 1.0 and
# True; 0.0 and -0.0
HOSTILE = [None, math.nan, pd.NA, 0.0, -0.0, 1, 1.0, True, False, "1", "a", "", "lift", np.float64(-0.0)]


def _strict(v) -> tuple:
    """What a row's formatting could tell apart: the value's type, its text and its sign."""
    return (type(v), repr(v), isinstance(v, float) and math.copysign(1.0, v) < 0)


def _formats(v) -> tuple:
    out = [str(v), repr(v) if not isinstance(v, np.floating) else repr(float(v))]
    if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v)):
        out += [f"{v:.0%}", f"{v:,.0f}", f"{v:.1f}"]
    return tuple(out)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(HOSTILE), st.sampled_from(HOSTILE)), min_size=1, max_size=30))
def test_rows_numbered_alike_format_alike_and_equal_rows_are_numbered_alike(rows):
    columns = [np.array([r[i] for r in rows], dtype=object) for i in range(2)]
    first, inverse = distinct_rows(columns)
    assert sorted(first.tolist()) == first.tolist() and inverse[first].tolist() == list(range(len(first)))
    for i, a in enumerate(rows):
        for j, b in enumerate(rows):
            if inverse[i] == inverse[j]:
                assert [_formats(x) for x in a] == [_formats(y) for y in b], (a, b)
            if [_strict(x) for x in a] == [_strict(y) for y in b]:
                assert inverse[i] == inverse[j], (a, b)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([0.0, -0.0, 0.5, math.nan, 1e9]), min_size=1, max_size=20), st.booleans())
def test_float_and_text_columns_keep_their_signs_and_gaps(values, as_text):
    column = pd.Series(values, dtype=float)
    text = pd.Series(["x" if v == 0.5 else None for v in values], dtype="str" if as_text else object)
    _, inverse = distinct_rows([column, text])
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            same = _strict(a) == _strict(b) and (pd.isna(text[i]) == pd.isna(text[j]))
            assert (inverse[i] == inverse[j]) == same
