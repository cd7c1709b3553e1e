"""The DuckDB features frame equals the per-range SQL + pandas build it replaced (kept as the
reference in tests/benchmarks/baselines/per_range_features.py), on the generated bank, on every
backend."""

import sys
from pathlib import Path

import pandas as pd

from clientstrata.jobs.classification.features.engine import duckdb_features
from clientstrata.jobs.classification.standard import load_standard

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "baselines"))
import per_range_features  # noqa: E402  (the reference: not a module of the package)

STD = load_standard()


def assert_same_features(new: pd.DataFrame, old: pd.DataFrame) -> None:
    """Exact columns, order and dtypes; floats within a relative 1e-9 (sums in another order)."""
    pd.testing.assert_frame_equal(
        new.reset_index(drop=True), old.reset_index(drop=True), check_exact=False, rtol=1e-9, atol=1e-6
    )


def test_duckdb_features_equal_the_per_range_build(loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        old = per_range_features.individual_features(conn, STD, chunk=97, workers=1, progress=False)  # several ranges
        new = duckdb_features(conn, STD)
    assert len(new) > 100
    assert new["txn_count"].sum() > 0 and new["families"].str.len().sum() > 0  # the bank is not empty
    assert_same_features(new, old)


def test_a_changed_value_is_caught(loaded_ro):
    """The comparison can fail: one customer's AUM nudged is a difference."""
    engine, _ = loaded_ro
    with engine.connect() as conn:
        new = duckdb_features(conn, STD)
    bad = new.copy()
    bad.loc[0, "aum"] += 1.0
    try:
        assert_same_features(bad, new)
    except AssertionError:
        return
    raise AssertionError("a changed AUM passed the comparison")
