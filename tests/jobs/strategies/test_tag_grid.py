"""The tag grid (jobs/strategies/tag_grid.py) answers what a pivot of the tags as text answers:
each (customer, dimension)'s last or first tag, None where there is none, a selector's values
held or not, and any other column of the tag read back for the customers asked about."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from clientstrata.jobs.strategies.tag_grid import pivot_tags

TAGS = pd.DataFrame(  # text columns as a run hands them over (pandas' Arrow-backed str)
    {
        "customer_id": ["C2", "C1", "C2", "C1", "C3"],
        "dimension": ["tier", "tier", "tier", "risk", "other"],
        "value": ["a", "b", "c", None, "x"],
        "label_zh": ["甲", "乙", "丙", "无", "叉"],
    }
)


def test_the_grid_keeps_the_last_or_first_tag_and_none_where_there_is_none():
    grid = pivot_tags(TAGS)
    assert grid.customers.tolist() == ["C2", "C1", "C3"]  # the order they first appear
    assert grid.values("tier").tolist() == ["c", "b", None]
    assert grid.values("tier", keep="first").tolist() == ["a", "b", None]
    assert grid.values("risk").tolist() == [None, None, None]  # C1's risk tag has no value
    assert grid.values("nowhere").tolist() == [None, None, None]
    assert grid.holds("tier", ["b", "c"]).tolist() == [True, True, False]
    assert grid.holds("tier", ["z"]).tolist() == [False, False, False]  # a value no tag holds
    assert grid.holds("nowhere", ["a"]).tolist() == [False, False, False]
    assert grid.objects_at("label_zh", "tier").tolist() == ["丙", "乙", None]
    assert grid.objects_at("label_zh", "tier", np.array([True, False, False]), keep="first").tolist() == ["甲"]
    assert grid.objects_at("label_zh", "risk").tolist() == [None, "无", None]  # the tag is there: its label is


def test_an_empty_frame_is_an_empty_grid():
    grid = pivot_tags(TAGS.iloc[:0])
    assert len(grid) == 0 and grid.values("tier").tolist() == [] and grid.holds("tier", ["a"]).tolist() == []


def _text_pivot(t: pd.DataFrame, customers, dim: str, column: str, keep: str) -> list:
    mine = t[t["dimension"] == dim].drop_duplicates("customer_id", keep=keep).set_index("customer_id")[column]
    found = mine.reindex(customers)
    return [None if pd.isna(v) else v for v in found.tolist()]


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["C1", "C2", "C3", "C4", "C5"]),
            st.sampled_from(["tier", "risk", "kyc"]),
            st.sampled_from(["a", "b", "c", None]),
        ),
        max_size=40,
    ),
    allowed=st.sets(st.sampled_from(["a", "b", "c", "z"])),
)
def test_the_grid_is_the_text_pivot_it_replaces(rows, allowed):
    t = pd.DataFrame(rows, columns=["customer_id", "dimension", "value"], dtype=object)
    t["label"] = [f"label {i}" for i in range(len(t))]  # another column of each tag: which one won shows
    grid = pivot_tags(t)
    assert grid.customers.tolist() == list(pd.unique(t["customer_id"]))
    for dim in ("tier", "risk", "kyc", "absent"):
        for keep in ("last", "first"):
            values = _text_pivot(t, grid.customers, dim, "value", keep)
            assert grid.values(dim, keep).tolist() == values
            assert grid.holds(dim, allowed, keep).tolist() == [v in allowed for v in values]
            assert grid.objects_at("label", dim, keep=keep).tolist() == _text_pivot(
                t, grid.customers, dim, "label", keep
            )
