"""The column-wise number helpers tags are made with must say exactly what their one-value
forms say, since a publish compares rule text and inputs as text and a last-digit difference
would reopen a tag that did not change: `round2` is Python's `round(x, 2)`, `fmt_many` is
`fmt` per value."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from clientstrata.jobs.classification.dimensions._tags import fmt, fmt_many, round2

_HALVES = st.integers(-(10**9), 10**9).map(lambda k: (k + 0.5) / 100)  # next to a half: where rint(x·100) can tip
_FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), _HALVES, st.floats(-1e7, 1e7))


def _python(values: np.ndarray) -> list:
    return [round(x, 2) if np.isfinite(x) else x for x in values.tolist()]


@given(arrays(np.float64, st.integers(0, 40), elements=_FLOATS))
def test_round2_is_pythons_round_for_every_float(values):
    got, want = round2(values).tolist(), _python(values)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert (g != g and w != w) or (g == w and np.signbit(g) == np.signbit(w)), (g, w)


def test_round2_keeps_a_matrix_shape_and_the_known_half_cases():
    m = np.array([[2.675, 1.005], [0.125, -0.125]])
    assert round2(m).tolist() == [[round(2.675, 2), round(1.005, 2)], [round(0.125, 2), round(-0.125, 2)]]


# -0.0 and 0.0 are one distinct value to np.unique: a list holding both is where fmt_many can
# say of one what fmt says of the other
_ZEROS = st.sampled_from([0.0, -0.0, 0, -0.001, 0.001])


@given(st.lists(st.one_of(st.floats(), _HALVES, _ZEROS, st.integers(-(10**12), 10**12), st.none()), max_size=30))
@example([0.0, -0.0])
@example([-0.0, 0.0])
def test_fmt_many_says_what_fmt_says_of_each_value(values):
    assert fmt_many(values).tolist() == [fmt(None if v is None else float(v)) for v in values]


def test_no_number_is_said_as_minus_zero():
    # a negative zero, or a small negative that rounds to it, reads as people write it: 0
    zeros = [0.0, -0.0, -0.001, -0.004, 0.004]
    assert [fmt(z) for z in zeros] == fmt_many(zeros).tolist() == ["0"] * len(zeros)
