"""The points job in the run: a new event posts once, with the package the run gave, in the
publish transaction — a run that dies posts nothing, a re-run posts nothing again and reads only
the ingests after the last run's; the run's record says which cross-sell rules it used."""

import datetime as dt

import pytest
import sqlalchemy as sa

from clientstrata.graph.record.audit import audit_trail
from clientstrata.graph.record.models import IngestRun, Purchase
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.runs.pipeline import BEFORE_COMMIT, classify
from clientstrata.jobs.strategies.playbook import playbook_of
from clientstrata.jobs.strategies.points import ledger_mismatches, postings
from clientstrata.jobs.strategies.strategy import bank_packages

RULES = playbook_of(load_standard()).points


def test_a_new_purchase_earns_once_times_the_runs_package(loaded, crash_run):
    engine, graph = loaded
    with engine.connect() as conn:
        cid, package = bank_packages(conn).query("package == 'wealth'").iloc[0][["customer_id", "package"]]
        before = len(postings(conn, cid))
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Purchase.__table__).values(
                purchase_id="PU-NEW",
                customer_id=cid,
                product_id="P021",  # a bond fund
                purchased_at=dt.datetime(2026, 11, 20, 10),
                amount=50_000,
            )
        )
    with pytest.raises(RuntimeError, match="simulated failure"):
        classify(engine, graph, progress=False, on_stage=crash_run(BEFORE_COMMIT))
    with engine.connect() as conn:
        assert len(postings(conn, cid)) == before  # the dead run posted nothing
    classify(engine, graph, progress=False)
    classify(engine, graph, progress=False)  # a re-run: the source is posted already
    with engine.connect() as conn:
        mine = postings(conn, cid)
        assert ledger_mismatches(conn).empty
    new = mine[mine["source"] == "purchase:PU-NEW"]
    assert len(mine) == before + 1 and len(new) == 1
    per_100 = RULES.rule("fund_purchase").points_per_100
    assert (
        int(new["points"].iloc[0]) == int(500 * per_100 * RULES.multipliers[package])
        and new["package"].iloc[0] == package
    )


def _published(engine, run_id: int) -> dict:
    with engine.connect() as conn:
        return audit_trail(conn, "classification_run", run_id, action="run.published")["details"].iloc[0]


def test_a_run_reads_only_the_ingests_after_the_last_one_and_reuses_unchanged_rules(loaded):
    engine, graph = loaded
    first = _published(engine, classify(engine, graph, progress=False).run_id)
    again = _published(engine, classify(engine, graph, progress=False).run_id)
    assert again["points"]["events_read"] == 0  # no new ingest: no event row read
    assert again["cross_sell_rules"]["mined"] is False and again["cross_sell_rules"]["rules"] > 0
    assert again["cross_sell_rules"]["key"] == first["cross_sell_rules"]["key"]
    with engine.connect() as conn:
        cid = bank_packages(conn)["customer_id"].iloc[0]
    with engine.begin() as conn:  # a later ingest's purchase
        runs = IngestRun.__table__
        at = dt.datetime(2026, 11, 21, 9)
        ingest = conn.execute(
            sa.insert(runs).values(
                source="t", format="bundle", started_at=at, finished_at=at, read=1, loaded=1, quarantined=0
            )
        ).inserted_primary_key[0]
        conn.execute(
            sa.insert(Purchase.__table__).values(
                purchase_id="PU-LATER",
                customer_id=cid,
                product_id="P021",
                purchased_at=at,
                amount=50_000,
                ingest_id=ingest,
            )
        )
    later = _published(engine, classify(engine, graph, progress=False).run_id)
    assert (later["points"]["events_read"], later["points"]["postings"]) == (1, 1)
    assert _published(engine, classify(engine, graph, progress=False).run_id)["points"]["events_read"] == 0
    with engine.connect() as conn:
        assert len(postings(conn, cid).query("source == 'purchase:PU-LATER'")) == 1
        assert ledger_mismatches(conn).empty
