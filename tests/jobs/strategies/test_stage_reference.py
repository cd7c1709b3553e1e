"""The strategy stage writes, row for row, what main's code wrote before the tag grid: the run's
packages and next-best actions and the points ledger, on the small bank, re-run and as a bank's
first run (every event posted), on both backends. Main's functions are kept as the reference in
tests/benchmarks/baselines/strategy_rows.py; `bench_strategy.run` drives the stage as a run's
publish does (partitions, one transaction) and rolls it back, once with each."""

import datetime as dt
import sys
from pathlib import Path

import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench_strategy  # noqa: E402
from compare_strategy import SERIALS, differences  # noqa: E402

AT = dt.datetime(2026, 12, 3, 8, 0)  # one moment for both: the rows carry it


@pytest.mark.parametrize("first", [False, True], ids=["re-run", "first run"])
def test_the_stage_writes_what_mains_code_wrote(loaded, tmp_path, first):
    engine, _ = loaded
    tables = {}
    for code in ("main", "now"):
        out = tmp_path / f"{code}.pkl"
        # partitions of 120 customers: several, as a run has, with a short last one
        bench_strategy.run(engine, out, first=first, at=AT, reference=code == "main", part=120)
        tables[code] = pd.read_pickle(out)
    assert len(tables["now"]["customer_packages"]) > 200 and len(tables["now"]["next_best_actions"]) > 50
    if first:
        assert len(tables["now"]["points_postings"]) > 500
    assert set(tables["now"]["next_best_actions"]["trigger"].dropna()) >= {"cross_sell"}
    # PostgreSQL numbers the second run's rows past the first's (a sequence is not rolled back)
    serials = SERIALS if engine.dialect.name == "postgresql" else ()
    assert differences(tables["main"], tables["now"], serials) == []
