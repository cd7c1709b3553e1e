"""Runs queued for the background: claimed once, done with the standard they were queued with,
resumed by the next worker after a stop; a failure is recorded without driver text."""

import pytest
import sqlalchemy as sa

from clientstrata.graph.record.models import ClassificationRun
from clientstrata.jobs.classification.standard import InvalidStandard, parse_standard
from clientstrata.jobs.runs.history import get_run
from clientstrata.jobs.runs.pipeline import BEFORE_COMMIT, RunNotQueued, classify, queue_run, run_queued
from clientstrata.jobs.runs.worker import RunWorker


def test_a_queued_run_is_done_once_and_resumed_after_a_stop(loaded):
    engine, graph = loaded
    with pytest.raises(InvalidStandard):  # a bad standard is refused before anything is queued
        queue_run(engine, parse_standard("version: x\nfx_to_cny: {CNY: 1}\ndimensions: {}\nalerts: {nope: {}}\n"))
    first = queue_run(engine, requested_by="ops")
    with engine.connect() as conn:
        assert get_run(conn, first)["status"] == "queued"
    worker = RunWorker(engine, graph)
    worker.close()  # a server stops before its worker came to the run: it stays queued
    with engine.connect() as conn:
        assert get_run(conn, first)["status"] == "queued"
    worker = RunWorker(engine, graph)
    assert worker.resume() == [first]
    worker.close(wait=True)
    with engine.connect() as conn:
        run = get_run(conn, first)
        live_sha = conn.execute(
            sa.select(ClassificationRun.standard_sha256).where(ClassificationRun.run_id == 1)
        ).scalar()
    assert (run["status"], run["requested_by"], run["standard_sha256"]) == ("published", "ops", live_sha)
    assert run_queued(engine, graph, first) is None  # a second worker finds nothing to do
    with pytest.raises(RunNotQueued):
        classify(engine, graph, run_id=first, progress=False)


def test_a_failed_run_records_what_to_fix_or_only_the_type(loaded, crash_run):
    engine, graph = loaded
    with pytest.raises(RuntimeError):
        classify(engine, graph, progress=False, on_stage=crash_run(BEFORE_COMMIT))
    with engine.connect() as conn:
        error = conn.execute(sa.select(ClassificationRun.error).order_by(ClassificationRun.run_id.desc())).scalar()
    assert "RuntimeError" in error and "simulated" not in error
