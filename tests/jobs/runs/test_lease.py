"""Runs and what-ifs whose process is killed (SIGKILL in a real subprocess) are reaped once their
lease lapses: failed, "worker died", nothing of theirs left, and pollers see it (jobs/runs/lease.py)."""

import datetime as dt
import time

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from clientstrata.graph.errors import InvalidInput
from clientstrata.jobs.governance.standards import standard_text
from clientstrata.jobs.runs.history import get_run, list_runs
from clientstrata.jobs.runs.lease import LEASE_ENV, WORKER_DIED, lease_seconds, reap_lapsed
from clientstrata.jobs.runs.pipeline import TAGS_WRITTEN, classify
from clientstrata.jobs.runs.whatif_requests import get_whatif, queue_whatif

LEASE = 2.0  # seconds: the killed process's lease lapses this long after its last renewal

# the child claims the queued what-if and is killed while it classifies the bank with the draft
_DIE_MID_WHATIF = """
import os, signal, sys
from clientstrata.graph.record.db import engine_for
from clientstrata.jobs.runs import whatif, whatif_requests
real = whatif.build_tags
def build_tags(conn, std):
    real(conn, std)
    os.kill(os.getpid(), signal.SIGKILL)
whatif.build_tags = build_tags
whatif_requests.run_queued_whatif(engine_for(sys.argv[1]), None, int(sys.argv[2]))
"""


def _wait_until_lapsed() -> None:
    time.sleep(LEASE + 0.5)


def test_a_run_killed_mid_publish_is_reaped_failed_and_pollers_see_it(loaded, kill_midway, monkeypatch):
    engine, graph = loaded
    monkeypatch.setenv(LEASE_ENV, str(LEASE))
    kill_midway(lease=LEASE)
    _wait_until_lapsed()
    with engine.connect() as conn:
        run = get_run(conn, 2)  # the poll reaps it
        rows = {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t} WHERE run_id = 2")).scalar()
            for t in ("tags", "classification_changes", "notifications", "alerts")
        }
        entry = conn.execute(
            sa.text("SELECT actor FROM audit_log WHERE action = 'run.failed' AND entity_id = '2'")
        ).scalar()
        statuses = list_runs(conn)[["run_id", "status"]].values.tolist()
    assert (run["status"], run["error"]) == ("failed", WORKER_DIED)
    assert rows == dict.fromkeys(rows, 0) and entry == "system"
    assert statuses == [[1, "published"], [2, "failed"]]  # the previous run stayed live
    assert reap_lapsed(engine) == []  # once only
    report = classify(engine, graph, progress=False)  # the next run publishes whole
    assert report.run_id == 3 and report.customers == 300


def test_a_whatif_killed_while_it_classifies_is_reaped_failed(loaded, kill_midway, monkeypatch):
    engine, _ = loaded
    monkeypatch.setenv(LEASE_ENV, str(LEASE))
    with engine.begin() as conn:
        wid = queue_whatif(conn, "ana", standard_text(None))
    kill_midway(_DIE_MID_WHATIF, str(wid), lease=LEASE)
    _wait_until_lapsed()
    with engine.connect() as conn:
        w = get_whatif(conn, wid)
        entry = conn.execute(
            sa.text("SELECT actor FROM audit_log WHERE action = 'whatif.failed' AND entity_id = :w"), {"w": str(wid)}
        ).scalar()
    assert (w["status"], w["error"], w["report"]) == ("failed", WORKER_DIED, None)
    assert w["finished_at"] is not None and entry == "system"


def test_a_live_run_is_never_reaped_even_when_its_publish_outlasts_the_lease(loaded, monkeypatch):
    """On SQLite the publish holds the write lock, so the heartbeat cannot renew meanwhile: the
    reaper must find the lock taken and leave the run alone, not fail a run that is alive."""
    engine, graph = loaded
    monkeypatch.setenv(LEASE_ENV, "1")
    reaped = []

    def slow(stage, written):
        if stage == TAGS_WRITTEN and not reaped:
            time.sleep(1.5)
            reaped.append(reap_lapsed(engine))

    report = classify(engine, graph, progress=False, on_stage=slow)
    assert reaped == [[]]
    with engine.connect() as conn:
        run = get_run(conn, report.run_id)
    assert run["status"] == "published" and run["error"] is None


def test_only_a_lapsed_lease_is_reaped(loaded):
    engine, _ = loaded
    now = dt.datetime.now()
    with engine.begin() as conn:
        for run_id, until in ((7, now + dt.timedelta(minutes=5)), (8, now - dt.timedelta(seconds=1))):
            conn.execute(
                sa.text(
                    "INSERT INTO classification_runs (run_id, status, standard_version, standard_sha256, "
                    "started_at, kind, lease_until) VALUES (:r, 'running', 'v', 's', :n, 'on_demand', :u)"
                ),
                {"r": run_id, "n": now, "u": until},
            )
    assert reap_lapsed(engine, now) == [("run", 8)]
    with engine.connect() as conn:
        assert get_run(conn, 7)["status"] == "running"


@pytest.mark.parametrize("raw", ["0", "-3", "soon", "1e9"])
def test_a_bad_lease_setting_is_refused_by_name(raw):
    with pytest.raises(InvalidInput, match=LEASE_ENV):
        lease_seconds({LEASE_ENV: raw})
    assert lease_seconds({}) == 120 and lease_seconds({LEASE_ENV: "2.5"}) == 2.5


@given(st.one_of(st.text(), st.floats().map(str), st.integers().map(str)))
def test_any_lease_setting_is_a_sane_number_or_refused_by_name(raw):
    try:
        seconds = lease_seconds({LEASE_ENV: raw})
    except InvalidInput as exc:
        assert LEASE_ENV in str(exc) and raw.strip()
    else:
        assert 0 < seconds < 7 * 86_400


def test_a_lapsed_run_whose_row_its_publish_holds_is_left_alone(loaded):
    """A long publish holds its run's row (PostgreSQL) or the write lock (SQLite), so the heartbeat
    waits behind it and the lease lapses while the run is alive (seen at 1M on PostgreSQL): the
    reaper finds the lock taken, gives up within its wait and reaps nothing; once the holder is
    gone, a lapsed lease is reaped."""
    engine, _ = loaded
    now = dt.datetime.now()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO classification_runs (run_id, status, standard_version, standard_sha256, "
                "started_at, kind, lease_until) VALUES (9, 'running', 'v', 's', :n, 'on_demand', :u)"
            ),
            {"n": now, "u": now - dt.timedelta(minutes=20)},
        )
    with engine.connect() as publish:
        with publish.begin():
            publish.execute(sa.text("UPDATE classification_runs SET error = NULL WHERE run_id = 9"))
            started = time.perf_counter()
            assert reap_lapsed(engine, now) == []
            assert time.perf_counter() - started < 5  # a poller is not held behind the publish
    assert reap_lapsed(engine, now) == [("run", 9)]
