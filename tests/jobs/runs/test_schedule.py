import datetime as dt

import pandas as pd
import sqlalchemy as sa

from clientstrata.jobs.governance.overrides import approve_override, list_overrides, propose_override
from clientstrata.jobs.runs.history import list_runs
from clientstrata.jobs.runs.schedule import classify_if_due, is_due


def test_scheduled_runs_follow_the_standards_period(loaded, write_standard):
    engine, graph = loaded
    with engine.connect() as conn:
        first = is_due(conn, 3)
    assert first.due and "no scheduled run" in first.reason  # run 1 was on demand
    due, expired, report = classify_if_due(engine, graph)
    assert due.due and expired == [] and report.run_id == 2 and report.kind == "scheduled"
    with engine.connect() as conn:
        runs = list_runs(conn)
        published = runs.set_index("run_id").loc[2, "published_at"]
        assert runs.set_index("run_id").loc[2, ["kind", "requested_by"]].tolist() == ["scheduled", "scheduler"]
        tomorrow = is_due(conn, 3, published + dt.timedelta(days=1))
        assert not tomorrow.due and tomorrow.last_run_id == 2 and "next is due" in tomorrow.reason
        assert tomorrow.next_due == (pd.Timestamp(published) + pd.DateOffset(months=3)).to_pydatetime()
        assert is_due(conn, 3, tomorrow.next_due).due and is_due(conn, 1, published + dt.timedelta(days=32)).due
    # not due: nothing runs
    due, _, report = classify_if_due(engine, graph, now=published + dt.timedelta(days=1))
    assert not due.due and report is None
    with engine.connect() as conn:
        assert len(list_runs(conn)) == 2
    # a monthly standard makes it due a month later
    monthly = write_standard(extra="governance: {retag_every_months: 1}\n")
    due, _, report = classify_if_due(
        engine, graph, monthly, now=published + dt.timedelta(days=40), requested_by="airflow", adopt=True
    )
    assert due.due and due.every_months == 1 and report.run_id == 3
    with engine.connect() as conn:
        assert list_runs(conn).set_index("run_id").loc[3, "requested_by"] == "airflow"


def test_the_daily_tick_expires_overrides(loaded):
    engine, graph = loaded
    with engine.connect() as conn:
        computed = conn.execute(
            sa.text("SELECT value FROM tags WHERE customer_id = 'C0000001' AND dimension = 'wealth_tier'")
        ).scalar()
    target = "private_banking" if computed != "private_banking" else "mass"
    with engine.begin() as conn:
        ov = propose_override(conn, "mei", "C0000001", "wealth_tier", target, "review", expires_on=dt.date(2030, 1, 1))
        approve_override(conn, "li", ov.override_id)
    due, expired, report = classify_if_due(engine, graph, now=dt.datetime(2030, 1, 2))
    assert expired == [ov.override_id] and report is not None
    with engine.connect() as conn:
        assert list_overrides(conn)["status"].tolist() == ["expired"]
        feed = conn.execute(
            sa.text(
                "SELECT source, old_value, new_value FROM classification_changes WHERE override_id = :o ORDER BY seq"
            ),
            {"o": ov.override_id},
        ).all()
        actor = conn.execute(sa.text("SELECT actor FROM audit_log WHERE action = 'override.expired'")).scalar()
    assert [tuple(f) for f in feed] == [("override", computed, target), ("override", target, computed)]
    assert actor == "scheduler"
