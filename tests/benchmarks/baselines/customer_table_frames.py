"""BASELINE: the bulk customer table (`customers()`'s frame) as plainly as pandas reads it — one
`pandas.read_sql` per table over the whole bank, joined and pivoted in pandas, no paging, no
GraphQL, no HTTP, no book:

- the individuals with their rollup AUM, household and household tier (one joined SELECT);
- today's balances of open deposit and investment accounts per customer and currency, in CNY at
  the live standard's rates, rounded to cents;
- the latest published run's tags (the `tags` view, one row per customer and dimension), pivoted to
  a column per dimension, with the manual overrides in force now applied where a tag exists (the
  last decided wins).

    python tests/benchmarks/baselines/customer_table_frames.py DATABASE_URL

prints one JSON line (rows, columns, seconds). It reads the tags themselves, not the wide rows the
API keeps (`current_tag_values`), so tests/jobs/reports/test_customer_page.py also uses it as the
reference the bulk path's pages must equal."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time

import pandas as pd
import sqlalchemy as sa

from clientstrata.graph.clock import utcnow
from clientstrata.jobs.governance.standards import live_standard

__all__ = ["COLUMNS", "customer_table_frame"]

COLUMNS = [
    "customer_id",
    "name",
    "gender",
    "birth_date",
    "branch_id",
    "rm_id",
    "onboarded_on",
    "age",
    "aum_month_average",
    "current_balance",
    "household_id",
    "household_tier",
]

PEOPLE = """
SELECT i.customer_id, i.name, i.gender, i.birth_date, i.branch_id, i.rm_id, i.onboarded_on,
       r.aum AS aum_month_average, m.household_id, h.tier AS household_tier
FROM individuals i
LEFT JOIN customer_rollups r ON r.customer_id = i.customer_id
LEFT JOIN household_members m ON m.customer_id = i.customer_id
LEFT JOIN household_rollups h ON h.household_id = m.household_id
ORDER BY i.customer_id"""
BALANCES = """
SELECT a.owner_id AS customer_id, a.currency, SUM(a.balance) AS balance
FROM accounts a JOIN products p ON p.product_id = a.product_id
WHERE a.owner_type = 'individual' AND a.status <> 'closed' AND p.family <> 'loan'
GROUP BY a.owner_id, a.currency"""
LATEST_RUN = """
SELECT run_id FROM classification_runs WHERE status = 'published'
ORDER BY published_at DESC, run_id DESC LIMIT 1"""
TAGS = "SELECT customer_id, dimension, value FROM tags WHERE run_id = :run"
OVERRIDES = """
SELECT customer_id, dimension, value FROM overrides
WHERE status IN ('approved', 'revoked', 'expired') AND decided_at <= :at
  AND (revoked_at IS NULL OR revoked_at > :at) AND (expires_on IS NULL OR expires_on > :day)
ORDER BY decided_at"""


def _age(born: pd.Series, today: dt.date) -> pd.Series:
    days = pd.to_datetime(born)
    before = (days.dt.month > today.month) | ((days.dt.month == today.month) & (days.dt.day > today.day))
    return (today.year - days.dt.year - before.astype(int)).astype("Int64")


def customer_table_frame(engine: sa.Engine, dimensions: list[str] | None = None) -> pd.DataFrame:
    """The whole table, COLUMNS then one column per dimension (every dimension the latest run
    tagged, sorted, unless `dimensions` names some), object columns with None where empty."""
    now = utcnow()
    with engine.connect() as conn:
        people = pd.read_sql(sa.text(PEOPLE), conn)
        held = pd.read_sql(sa.text(BALANCES), conn)
        run = conn.execute(sa.text(LATEST_RUN)).scalar()
        tags = pd.read_sql(sa.text(TAGS), conn, params={"run": run})
        overrides = pd.read_sql(sa.text(OVERRIDES), conn, params={"at": now, "day": now.date()})
        fx = live_standard(conn).fx_to_cny
    for col in ("birth_date", "onboarded_on"):
        people[col] = pd.to_datetime(people[col]).dt.date.astype(object).where(people[col].notna(), None)
    people["age"] = _age(people["birth_date"], dt.date.today())
    people["aum_month_average"] = people["aum_month_average"].fillna(0.0).astype(float)
    held["cny"] = held["balance"].fillna(0).astype(float) * held["currency"].map(fx).fillna(0.0).astype(float)
    balance = held.groupby("customer_id")["cny"].sum().round(2)
    people["current_balance"] = people["customer_id"].map(balance).fillna(0.0).astype(float)
    wide = tags.pivot(index="customer_id", columns="dimension", values="value")
    for cid, dim, value in overrides.itertuples(index=False):
        if cid in wide.index and dim in wide.columns and pd.notna(wide.at[cid, dim]):
            wide.at[cid, dim] = value
    dims = sorted(wide.columns) if dimensions is None else list(dimensions)
    wide = wide.reindex(columns=dims)
    out = people[COLUMNS].join(wide, on="customer_id")
    return out.astype(object).where(out.notna(), None)


if __name__ == "__main__":
    started = time.perf_counter()
    frame = customer_table_frame(sa.create_engine(sys.argv[1]))
    print(
        json.dumps({"rows": len(frame), "columns": frame.shape[1], "seconds": round(time.perf_counter() - started, 2)})
    )
