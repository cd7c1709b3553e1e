"""Runs started on demand (the API's `startRun`) are done in the background, one at a time, so
a request never waits for a bank-size run: `RunWorker.start` records a queued run
(`jobs.runs.queue_run`) and returns its number at once; readers follow its status
(queued → running → published | failed) in the run history.

One worker thread per process: runs of one process never compete for the machine. Runs of
several processes are safe too — a queued run is claimed with a conditional update, and
publishers are serialised by the change-feed lock. A run still queued when its process stopped
is picked up by the next worker that starts (`resume`); one left running by a process that died
is failed once its lease lapses (`jobs.runs.lease`).

What-ifs the API queues (`start_whatif`, `jobs.whatif_requests`) share the same thread: a
what-if classifies the whole bank as a run does, so the two take turns rather than compete."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.engine import Engine

from clientstrata.graph.stores.base import GraphStore
from clientstrata.jobs.classification.standard import Standard

from .lease import reap_lapsed
from .pipeline import RunReport, queue_run, queued_runs, run_queued
from .whatif_requests import queue_whatif, queued_whatifs, run_queued_whatif

__all__ = ["RunWorker"]

log = logging.getLogger(__name__)


class RunWorker:
    def __init__(self, engine: Engine, graph: GraphStore | None = None) -> None:
        self.engine, self.graph = engine, graph
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clientstrata-run")

    def start(self, requested_by: str, standard: str | Path | Standard | None = None, kind: str = "on_demand") -> int:
        """Queue a run (the live standard unless one is given) and have it done in the background."""
        run_id = queue_run(self.engine, standard, kind=kind, requested_by=requested_by)
        self.submit(run_id)
        return run_id

    def submit(self, run_id: int) -> Future:
        return self._pool.submit(self._run, run_id)

    def start_whatif(self, requested_by: str, standard: str | Standard, sample: int = 20) -> int:
        """Check and queue a what-if of a draft standard (its YAML text) and have it done in the
        background; a bad draft is refused here, before anything is queued."""
        with self.engine.begin() as conn:
            whatif_id = queue_whatif(conn, requested_by, standard, sample)
        self.submit_whatif(whatif_id)
        return whatif_id

    def submit_whatif(self, whatif_id: int) -> Future:
        return self._pool.submit(self._whatif, whatif_id)

    def resume(self) -> list[int]:
        """Submit every run still queued in the record (e.g. from a process that stopped); runs
        and what-ifs a dead process left running are reaped once their lease has lapsed."""
        reap_lapsed(self.engine)
        with self.engine.connect() as conn:
            ids = queued_runs(conn)
        for run_id in ids:
            self.submit(run_id)
        return ids

    def resume_whatifs(self) -> list[int]:
        """Submit every what-if still queued in the record."""
        with self.engine.connect() as conn:
            ids = queued_whatifs(conn)
        for whatif_id in ids:
            self.submit_whatif(whatif_id)
        return ids

    def _run(self, run_id: int) -> RunReport | None:
        try:
            return run_queued(self.engine, self.graph, run_id, progress=False)
        except Exception:  # recorded on the run as failed; the details belong in the log
            log.exception("classification run %s failed", run_id)
            return None

    def _whatif(self, whatif_id: int) -> dict | None:
        try:
            return run_queued_whatif(self.engine, self.graph, whatif_id)
        except Exception:  # recorded on the what-if as failed; the details belong in the log
            log.exception("what-if %s failed", whatif_id)
            return None

    def close(self, wait: bool = True) -> None:
        """Stop taking work: the run or what-if in progress finishes (wait=True); the rest stay queued."""
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def __repr__(self) -> str:
        return f"RunWorker(engine={self.engine.url!r})"
