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
from compare_strategy import SERIALS, UNORDERED, differences  # noqa: E402

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
    # PostgreSQL numbers the second run's rows past the first's (a sequence is not rolled back),
    # and its planner may read the events, which number the postings, in another order
    pg = engine.dialect.name == "postgresql"
    assert differences(tables["main"], tables["now"], SERIALS if pg else (), UNORDERED if pg else ()) == []


def test_the_ledger_is_compared_by_its_key_not_by_the_order_the_planner_read_the_events_in():
    # the same three postings, appended in another order: PostgreSQL's planner may read the events
    # in another order from one run to the next (the CI failure of 2026-12-03); a changed row is
    # still found
    rows = [("C1", "card:1", 10), ("C1", "card:2", 20), ("C2", "txn:9", 30)]

    def ledger(order, first_id):
        picked = [rows[i] for i in order]
        frame = pd.DataFrame(picked, columns=["customer_id", "source", "points"])
        frame.insert(0, "posting_id", range(first_id, first_id + len(picked)))
        return {"points_postings": frame.sort_values(["customer_id", "source"], ignore_index=True)}

    main, now = ledger([0, 1, 2], 1), ledger([2, 0, 1], 41)
    assert differences(main, now, SERIALS, unordered=UNORDERED) == []
    changed = ledger([2, 0, 1], 41)
    changed["points_postings"].loc[1, "points"] = 21
    assert differences(main, changed, SERIALS, unordered=UNORDERED) == [
        "points_postings.points: 1 rows differ, first at [1]: [(np.int64(20), np.int64(21))]"
    ]
