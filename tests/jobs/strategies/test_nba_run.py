"""Next-best actions in a classification run (jobs/strategies/nba.py): written atomically with
the publish, suitable on the whole bank, and the same for one customer on request."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from clientstrata.jobs.classification.dimensions.risk import suitable
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.runs.pipeline import BEFORE_COMMIT, TAGS_WRITTEN, classify
from clientstrata.jobs.strategies.nba import next_best_actions


def _actions(engine, run_id=None) -> pd.DataFrame:
    q = "SELECT * FROM next_best_actions" + ("" if run_id is None else f" WHERE run_id = {int(run_id)}")
    with engine.connect() as conn:
        return pd.read_sql(sa.text(q), conn)


def test_the_run_stores_suitable_actions_with_reasons_atomically(loaded, set_aum, customer_in, crash_run):
    engine, graph = loaded
    near = customer_in("wealth_tier", "mass")[0]
    set_aum(near, 48_000, every_month=True)  # 4 % under the affluent minimum: a near-upgrade alert
    before = len(_actions(engine))
    for hook in (crash_run(TAGS_WRITTEN, rows=1), crash_run(BEFORE_COMMIT)):
        with pytest.raises(RuntimeError, match="simulated"):
            classify(engine, graph, progress=False, on_stage=hook)
        assert len(_actions(engine)) == before  # a run that dies leaves no actions

    report = classify(engine, graph, progress=False)
    acts = _actions(engine, report.run_id)
    assert len(acts) > 0 and acts["reason_en"].str.len().min() > 10 and acts["reason_zh"].str.len().min() > 5
    with engine.connect() as conn:
        tags = pd.read_sql(
            sa.text(
                "SELECT customer_id, dimension, value FROM tags WHERE run_id = :r AND dimension = 'risk_preference'"
            ),
            conn,
            params={"r": report.run_id},
        ).set_index("customer_id")["value"]
        suit = pd.read_sql(
            sa.text("SELECT customer_id, value FROM tags WHERE run_id = :r AND dimension = 'suitability'"),
            conn,
            params={"r": report.run_id},
        ).set_index("customer_id")["value"]
        rms = dict(conn.execute(sa.text("SELECT customer_id, rm_id FROM individuals")).all())
    for r in acts[acts["product_risk"].notna()].itertuples():
        level = tags[r.customer_id] if tags[r.customer_id].startswith("C") else None
        professional = suit[r.customer_id] == "R5" and level != "C5"
        assert suitable(level, r.product_risk, professional), (r.customer_id, r.action_key)
    # each action goes to the customer's own RM, none where the customer has none (compared as
    # values: pandas reads a NULL column back as NaN on one backend and None on the other)
    assert [None if pd.isna(v) else v for v in acts["rm_id"]] == [rms.get(c) for c in acts["customer_id"]]
    assert acts.groupby("customer_id")["rank"].max().max() <= 3
    mine = acts[acts["customer_id"] == near]
    assert "upgrade_invitation" in set(mine["action"])
    assert "4% below" in mine.loc[mine["action"] == "upgrade_invitation", "reason_en"].iloc[0]

    # one customer on request: the same function, the same answer as the run (less the held out)
    with engine.connect() as conn:
        one = next_best_actions(conn, load_standard(), near, first=3, today=dt.date.today())
    delivered = mine[~mine["control"].astype(bool)].sort_values("rank")
    assert list(one["action_key"]) == list(delivered["action_key"])
