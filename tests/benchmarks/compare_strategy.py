"""Compare what two versions of the strategy stage wrote, row for row. A script:

    # the same bank, the same moment, main's code (a checkout of it first on PYTHONPATH) and this code
    PYTHONPATH=/path/to/main-code .venv/bin/python tests/benchmarks/bench_strategy.py --db DB \\
        --at 2026-12-03T08:00:00 --dump /tmp/main.pkl [--first]
    .venv/bin/python tests/benchmarks/bench_strategy.py --db DB --at 2026-12-03T08:00:00 --dump /tmp/new.pkl [--first]
    .venv/bin/python tests/benchmarks/compare_strategy.py /tmp/main.pkl /tmp/new.pkl

`bench_strategy.py --dump` keeps every table the stage writes (the run's packages and actions,
the whole points ledger). Exits 1 and names the first rows that differ when any table does.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

__all__ = ["SERIALS", "UNORDERED", "differences"]


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    """Equal cell by cell, two missing values (None, NaN) counting as equal."""
    both_missing = a.isna().to_numpy() & b.isna().to_numpy()
    equal = (a.astype(object).to_numpy() == b.astype(object).to_numpy()) | both_missing
    return pd.Series(equal, index=a.index)


# the keys a database numbers itself: PostgreSQL's sequences move on past a rolled-back run
SERIALS = ("nba_id", "posting_id")
# serials whose order is the planner's: the postings are numbered in the order the events were
# read, which PostgreSQL may change from one run to the next; the ledger is compared by its key
UNORDERED = ("posting_id",)


def _renumbered(frame: pd.DataFrame, serials: tuple[str, ...]) -> pd.DataFrame:
    """`serials` as each row's place in their order (the dumps are read in that order)."""
    found = [c for c in serials if c in frame]
    return frame.assign(**{c: frame[c].rank(method="first").astype("int64") for c in found}) if found else frame


def differences(
    before: dict[str, pd.DataFrame],
    after: dict[str, pd.DataFrame],
    serials: tuple[str, ...] = (),
    unordered: tuple[str, ...] = (),
) -> list[str]:
    """What differs between two dumps, table by table (empty when they are identical). Columns in
    `serials` are compared as the order they number the rows in, not as numbers; those also in
    `unordered` are not compared (the rows are, in the order the dump sorted them by)."""
    out = []
    for table in sorted(set(before) | set(after)):
        if table not in before or table not in after:
            out.append(f"{table}: only in {'after' if table in after else 'before'}")
            continue
        a, b = (
            _renumbered(d[table].reset_index(drop=True), serials).drop(columns=list(unordered), errors="ignore")
            for d in (before, after)
        )
        if list(a.columns) != list(b.columns):
            out.append(f"{table}: columns {list(a.columns)} != {list(b.columns)}")
            continue
        if len(a) != len(b):
            out.append(f"{table}: {len(a)} rows != {len(b)} rows")
            continue
        for col in a.columns:
            same = _same(a[col], b[col])
            if not same.all():
                at = same[~same].index[:3].tolist()
                shown = [(a[col].iloc[i], b[col].iloc[i]) for i in at]
                out.append(f"{table}.{col}: {int((~same).sum())} rows differ, first at {at}: {shown}")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("before")
    p.add_argument("after")
    args = p.parse_args()
    before, after = pd.read_pickle(args.before), pd.read_pickle(args.after)
    found = differences(before, after)
    for table in sorted(before):
        print(f"{table}: {len(before[table]):,} rows")
    if found:
        print("\n".join(found))
        sys.exit(1)
    print("identical, row for row")


if __name__ == "__main__":
    main()
