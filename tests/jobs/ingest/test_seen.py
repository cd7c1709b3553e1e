import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from clientstrata.jobs.ingest.seen import SeenKeys


def test_first_row_of_every_key_across_many_merged_runs():
    seen, rng = SeenKeys(), np.random.default_rng(1)
    keys = pd.Series([f"T{i:010d}" for i in rng.permutation(20_000)])
    for start in range(0, len(keys), 700):  # 29 chunks: runs merge as they grow
        part = keys.iloc[start : start + 700]
        assert seen.first_rows(part).isna().all()
        seen.add(part, pd.Series(np.arange(start, start + len(part)) + 1, index=part.index))
    assert len(seen) == 20_000 and len(seen._runs) <= 15
    probe = pd.Series(["T0000000007", "nope", keys.iloc[19_999], keys.iloc[0]], index=[5, 6, 7, 8])
    got = seen.first_rows(probe)
    assert got.index.tolist() == [5, 6, 7, 8]
    assert np.isnan(got.iloc[1]) and got.tolist()[2:] == [20_000.0, 1.0]
    assert got.iloc[0] == keys[keys == "T0000000007"].index[0] + 1


@settings(max_examples=150, deadline=None)
@given(
    chunks=st.lists(
        st.lists(
            st.one_of(st.integers(0, 60).map(lambda i: f"K{i:03d}"), st.sampled_from(["", "k", "Z", "é"])), max_size=12
        ),
        max_size=8,
    ),
    ordered=st.booleans(),
)
def test_first_rows_are_the_first_sighting_in_any_order(chunks, ordered):
    """Chunks in key order (whose lookups are skipped) or not: the row each value was first added."""
    if ordered:  # as extracts come: each chunk's values after every earlier chunk's
        flat = sorted(set(v for c in chunks for v in c))
        sizes = [len(c) for c in chunks]
        chunks, at = [], 0
        for n in sizes:
            chunks.append(flat[at : at + n])
            at += n
    seen, first, row = SeenKeys(), {}, 0
    for chunk in chunks:
        values = pd.Series(chunk, dtype=object)
        got = seen.first_rows(values)
        want = [first.get(v, np.nan) for v in chunk]
        assert np.array_equal(got.to_numpy(), np.array(want, dtype=float), equal_nan=True), (chunk, first)
        fresh = [i for i, v in enumerate(chunk) if v not in first and v not in chunk[:i]]
        for i in fresh:
            first[chunk[i]] = row + i + 1
        seen.add(values.iloc[fresh], pd.Series([row + i + 1 for i in fresh], index=values.index[fresh]))
        row += len(chunk)


def test_an_ordered_extract_is_not_looked_up_and_a_late_repeat_still_is():
    seen = SeenKeys()
    for start in range(0, 3000, 500):
        part = pd.Series([f"T{i:06d}" for i in range(start, start + 500)])
        assert seen._all_after(part) or start == 0
        seen.add(part, pd.Series(range(start + 1, start + 501)))
    late = pd.Series(["T999999", "T000042"])  # one new, one repeated from the first chunk
    assert not seen._all_after(late)
    assert seen.first_rows(late).tolist()[1] == 43.0 and np.isnan(seen.first_rows(late).iloc[0])
    mixed = SeenKeys()
    mixed.add(pd.Series(["A", 7], dtype=object), pd.Series([1, 2]))  # not all text: never skipped
    assert not mixed._all_after(pd.Series(["B"])) and mixed.first_rows(pd.Series([7], dtype=object)).tolist() == [2.0]
