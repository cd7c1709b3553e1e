"""The integer-code helpers the strategy stage runs on at scale answer what the text operations
they replace answered: a pivot's last (or first) tag, a rank within a group, a partition's rows."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from clientstrata.jobs.strategies.association import rank_within
from clientstrata.jobs.strategies.nba import _by_customer, _of
from clientstrata.jobs.strategies.packages import pivot_tags

TAGS = pd.DataFrame(
    {
        "customer_id": ["C2", "C1", "C2", "C1", "C3"],
        "dimension": ["tier", "tier", "tier", "risk", "other"],
        "value": ["a", "b", "c", None, "x"],
    }
)


def test_pivot_keeps_the_last_or_first_tag_and_none_where_there_is_none():
    ids, (last,) = pivot_tags(TAGS, ["tier", "risk"], ["value"])
    assert list(ids) == ["C2", "C1", "C3"]  # the order they first appear
    assert last.tolist() == [["c", None], ["b", None], [None, None]]
    _, (first,) = pivot_tags(TAGS, ["tier", "risk"], ["value"], keep="first")
    assert first[0].tolist() == ["a", None]


def test_the_pivot_is_the_text_pivot_it_replaces():
    rng = np.random.default_rng(3)
    n = 2_000
    t = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in rng.integers(0, 300, n)],
            "dimension": rng.choice(["a", "b", "c", "d"], n),
            "value": [f"v{i}" for i in rng.integers(0, 9, n)],
        }
    )
    ids, (got,) = pivot_tags(t, ["a", "b", "c"], ["value"])
    want = (
        t[t["dimension"].isin(["a", "b", "c"])]
        .drop_duplicates(["customer_id", "dimension"], keep="last")
        .pivot(index="customer_id", columns="dimension", values="value")
        .reindex(index=ids, columns=["a", "b", "c"])
        .astype(object)
    )
    assert np.array_equal(got, want.where(want.notna(), None).to_numpy(), equal_nan=False)


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
