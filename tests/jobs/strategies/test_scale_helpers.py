"""The integer-code helpers the strategy stage runs on at scale answer what the text operations
they replace answered: a rank within a group, a partition's rows (the tag grid: test_tag_grid.py)."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from clientstrata.jobs.strategies.association import rank_within
from clientstrata.jobs.strategies.nba import _by_customer, _of


def test_rank_within_counts_from_one_in_each_run():
    assert rank_within(np.array([0, 0, 0, 3, 3, 7])).tolist() == [1, 2, 3, 1, 2, 1]
    assert rank_within(np.array([], dtype=np.int64)).tolist() == []


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.integers(0, 40), max_size=80),
    wanted=st.lists(st.integers(0, 45), max_size=30),
)
def test_a_partitions_rows_are_those_an_isin_finds(rows, wanted):
    frame = pd.DataFrame({"customer_id": [f"C{i:03d}" for i in rows], "n": range(len(rows))})
    ids = np.array([f"C{i:03d}" for i in wanted], dtype=object)
    got = _of(_by_customer(frame), ids)
    want = frame[frame["customer_id"].isin(ids)].sort_values("customer_id", kind="stable")
    assert got["n"].tolist() == want["n"].tolist()
