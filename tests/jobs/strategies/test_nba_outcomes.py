"""Outcomes recorded on the book's actions, the RM work list, the measured effect of a run and
the next run learning from it (jobs/strategies/outcomes.py, worklist.py, effect.py)."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.errors import InvalidState
from clientstrata.jobs.ingest.campaign import Planted, simulate_campaign
from clientstrata.jobs.runs.pipeline import classify
from clientstrata.jobs.strategies.effect import strategy_effect
from clientstrata.jobs.strategies.outcomes import record_outcome
from clientstrata.jobs.strategies.worklist import worklist


def _actions(conn) -> pd.DataFrame:
    run = conn.execute(sa.text("SELECT max(run_id) FROM next_best_actions")).scalar()
    return pd.read_sql(sa.text("SELECT * FROM next_best_actions WHERE run_id = :r"), conn, params={"r": run})


def test_outcomes_follow_the_book_and_the_control_group_and_close_work_list_items(loaded):
    engine, _ = loaded
    with engine.begin() as conn:
        acts = _actions(conn)
        treated = acts[~acts["control"].astype(bool) & acts["rm_id"].notna()].iloc[0]
        rm = treated["rm_id"]
        other = next(r for r in acts["rm_id"].dropna().unique() if r != rm)
        with pytest.raises(NotFound) as theirs:  # another book's action reads as none at all
            record_outcome(conn, "rm-x", int(treated["nba_id"]), "contacted", book=other)
        with pytest.raises(NotFound) as missing:
            record_outcome(conn, "admin", 10**9, "contacted")
        assert str(theirs.value).replace(str(int(treated["nba_id"])), "<id>") == str(missing.value).replace(
            str(10**9), "<id>"
        )
        with pytest.raises(InvalidInput, match="unknown outcome"):
            record_outcome(conn, "rm", int(treated["nba_id"]), "maybe", book=rm)
        with pytest.raises(InvalidInput, match="amount"):
            record_outcome(conn, "rm", int(treated["nba_id"]), "converted", product_id="P001", book=rm)
        with pytest.raises(InvalidInput, match="conversion only"):
            record_outcome(conn, "rm", int(treated["nba_id"]), "contacted", amount=5.0, book=rm)

        listed = worklist(conn, rm)
        with engine.connect() as c2:
            book = set(c2.execute(sa.text("SELECT customer_id FROM individuals WHERE rm_id = :r"), {"r": rm}).scalars())
        assert set(listed["customer_id"]) <= book  # the RM's own book only
        mine = acts[(acts["customer_id"].isin(book))]
        assert set(listed.loc[listed["kind"] == "action", "item_id"]) == set(
            mine.loc[~mine["control"].astype(bool), "nba_id"]
        )
        assert list(listed["due_on"]) == sorted(listed["due_on"]) and listed["why"].str.len().min() > 5

        record_outcome(conn, "rm", int(treated["nba_id"]), "contacted", book=rm)
        row = record_outcome(conn, "rm", int(treated["nba_id"]), "declined", note="not now", book=rm)
        assert row["outcome"] == "declined" and row["customer_id"] == treated["customer_id"]
        assert int(treated["nba_id"]) not in set(worklist(conn, rm)["item_id"])  # declined: done

        held = acts[acts["control"].astype(bool)]
        if len(held):
            h = held.iloc[0]
            with pytest.raises(InvalidState, match="control group"):
                record_outcome(conn, "admin", int(h["nba_id"]), "contacted")


def test_the_effect_of_a_simulated_campaign_and_the_next_run_learning_from_it(loaded):
    engine, graph = loaded
    with engine.connect() as conn:
        acts = _actions(conn)
    run = int(acts["run_id"].iloc[0])
    keys = acts["action_key"].value_counts()
    planted = {k: Planted(contact=1.0, respond=0.9, convert=0.9, baseline=0.0) for k in keys.index}
    assert simulate_campaign(engine, run, planted, seed=7) > 0
    with engine.connect() as conn:
        eff = strategy_effect(conn, load_standard(), run)
        assert strategy_effect(conn, load_standard(), run, book="no-such-rm").empty
    allseg = eff[eff["segment"] == "all"].set_index("action_key")
    top = keys.index[0]
    assert allseg.loc[top, "offered"] + allseg.loc[top, "control"] == keys[top]
    assert allseg.loc[top, "contacted"] == allseg.loc[top, "offered"]
    assert allseg.loc[top, "control_converted"] == 0 and allseg.loc[top, "uplift"] > 0.5

    prior = acts.groupby("action_key")["propensity"].mean()
    report = classify(engine, graph, progress=False)
    with engine.connect() as conn:
        nxt = (
            pd.read_sql(
                sa.text("SELECT action_key, propensity FROM next_best_actions WHERE run_id = :r"),
                conn,
                params={"r": report.run_id},
            )
            .groupby("action_key")["propensity"]
            .mean()
        )
    moved = [k for k in nxt.index.intersection(prior.index) if k in planted]
    assert moved
    for k in moved:  # toward the planted 0.9 response rate
        assert nxt[k] > prior[k]
