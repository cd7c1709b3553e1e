"""Leases: a running run or what-if shows that its process is alive, or is declared dead.

The process that takes a run (`pipeline._reserve`) or a what-if (`whatif_requests`) stamps
`lease_until` (now + the lease) and `worker` (host:pid), and a `Heartbeat` thread pushes
`lease_until` on while the work goes on. A process that dies (SIGKILL, a lost machine) stops
renewing; once its lease has lapsed `reap_lapsed` marks the row `failed` with `WORKER_DIED`,
deletes anything committed under the run's number and audits it. The readers pollers use (run
history, what-ifs) reap first, so a poller sees the failure instead of waiting for ever.

Why the reaper writes rather than comparing clocks on read: on SQLite a publish holds the one
write lock for its whole transaction, so its heartbeat cannot renew until it commits. The
reaper's conditional update needs that lock too, so it succeeds only once nobody holds it: the
publisher has committed (the run is no longer `running`) or died. It waits only briefly (a poller
must not hang behind a publish) and leaves the judgement to the next poll. A run reaped while
its process was alive after all cannot publish: the status flip checks it is still `running`."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import InvalidInput, StoreUnavailable
from clientstrata.graph.record import audit
from clientstrata.graph.record.models import (
    Alert,
    ClassificationChange,
    ClassificationRun,
    Notification,
    WhatIfRequest,
)
from clientstrata.jobs.errors import InvalidState

__all__ = [
    "LEASE_ENV",
    "DEFAULT_LEASE_SECONDS",
    "WORKER_DIED",
    "LeaseLost",
    "lease_seconds",
    "lease_values",
    "Heartbeat",
    "reap_lapsed",
]

LEASE_ENV = "CLIENTSTRATA_RUN_LEASE_SECONDS"
DEFAULT_LEASE_SECONDS = 120.0  # a dead worker is noticed within this; a heartbeat every third of it
WORKER_DIED = "worker died: the process doing it stopped renewing its lease; start it again"
_REAP_WAIT_MS = 500  # how long a reaper waits for a write lock before leaving it to the next poll

_runs, _whatifs = ClassificationRun.__table__, WhatIfRequest.__table__
# what a run writes under its number: all in its publish transaction, so a dead run's are rolled
# back by the database; the reaper deletes any that were committed all the same. Its tag spans
# are keyed by its `publish_seq`, which only a committed publish keeps: none to delete.
_RUN_ROWS = (ClassificationChange.__table__, Notification.__table__, Alert.__table__)

log = logging.getLogger(__name__)


class LeaseLost(InvalidState):
    """A run was declared dead (its lease lapsed) while its process was still at it: it must not publish."""


def lease_seconds(env: dict[str, str] | None = None) -> float:
    """The lease from `CLIENTSTRATA_RUN_LEASE_SECONDS` (default 120)."""
    raw = (os.environ if env is None else env).get(LEASE_ENV) or ""
    if not raw.strip():
        return DEFAULT_LEASE_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 86_400 * 7:
        raise InvalidInput(f"{LEASE_ENV} must be a number of seconds above 0 and under a week, not {raw!r}")
    return seconds


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def lease_values(seconds: float | None = None, now: dt.datetime | None = None) -> dict:
    """The columns that take (or renew) a lease: `lease_until` and `worker`."""
    now = now or utcnow()
    return {"lease_until": now + dt.timedelta(seconds=seconds or lease_seconds()), "worker": _worker()}


class Heartbeat:
    """`with Heartbeat(engine, table, key_column, key):` renews the row's lease every third of the
    lease in a thread of its own, while the row is `running`. A renewal that fails (the database
    is away, or a publish holds SQLite's write lock) is retried at the next beat."""

    def __init__(self, engine: Engine, table: sa.Table, key: str, value: int, seconds: float | None = None) -> None:
        self.engine, self.table, self.key, self.value = engine, table, key, value
        self.seconds = seconds or lease_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"clientstrata-lease-{value}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        # a renewal waiting for another process's lock is not waited for: it only touches a
        # row that is still `running`, and the thread dies with the process
        self._thread.join(timeout=5)

    def renew(self) -> bool:
        t = self.table
        with self.engine.begin() as conn:
            return (
                conn.execute(
                    sa.update(t)
                    .where(t.c[self.key] == self.value, t.c.status == "running")
                    .values(**lease_values(self.seconds))
                ).rowcount
                == 1
            )

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                self.renew()
            except Exception:  # noqa: BLE001 - the next beat retries; a lapse is the reaper's to judge
                log.info("could not renew the lease of %s %s", self.table.name, self.value, exc_info=True)

    def __repr__(self) -> str:
        return f"Heartbeat({self.table.name} {self.value}, every {self.seconds / 3:g} s)"


def _lapsed(conn: Connection, table: sa.Table, key: str, now: dt.datetime) -> list[int]:
    return list(
        conn.execute(
            sa.select(table.c[key]).where(table.c.status == "running", table.c.lease_until < now).order_by(table.c[key])
        ).scalars()
    )


@contextmanager
def _briefly(engine: Engine) -> Iterator[Connection]:
    """A write transaction that waits at most `_REAP_WAIT_MS` for a lock another writer holds."""
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        if conn.dialect.name == "sqlite":
            before = raw.execute("PRAGMA busy_timeout").fetchone()[0]
            raw.execute(f"PRAGMA busy_timeout = {_REAP_WAIT_MS}")
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{_REAP_WAIT_MS}ms'")
                yield conn
        finally:
            if conn.dialect.name == "sqlite":
                raw.execute(f"PRAGMA busy_timeout = {int(before)}")


def reap_lapsed(engine: Engine, now: dt.datetime | None = None) -> list[tuple[str, int]]:
    """Mark every run and what-if whose lease lapsed before `now` failed (`WORKER_DIED`), delete a
    dead run's rows and audit each; returns [("run" | "whatif", id)]. Nothing is written when no
    lease has lapsed; when another writer holds the lock, nothing is reaped this time."""
    now = now or utcnow()
    with engine.connect() as conn:
        runs, whatifs = _lapsed(conn, _runs, "run_id", now), _lapsed(conn, _whatifs, "whatif_id", now)
    if not runs and not whatifs:
        return []
    reaped: list[tuple[str, int]] = []
    try:
        with _briefly(engine) as conn:
            for run_id in runs:
                if _mark_dead(conn, _runs, "run_id", run_id, now, {}):
                    for table in _RUN_ROWS:
                        if conn.execute(sa.select(sa.exists().where(table.c.run_id == run_id))).scalar():
                            conn.execute(sa.delete(table).where(table.c.run_id == run_id))
                    audit.record(conn, "system", "run.failed", "classification_run", run_id, {"error": WORKER_DIED})
                    reaped.append(("run", run_id))
            for whatif_id in whatifs:
                if _mark_dead(conn, _whatifs, "whatif_id", whatif_id, now, {"finished_at": now}):
                    audit.record(conn, "system", "whatif.failed", "whatif", whatif_id, {"error": WORKER_DIED})
                    reaped.append(("whatif", whatif_id))
    except StoreUnavailable:  # a writer holds the lock (a publish that is alive): judge at the next poll
        log.info("leases lapsed (runs %s, what-ifs %s) but the record is busy; not reaped yet", runs, whatifs)
        return []
    if reaped:
        log.warning("reaped work whose worker died: %s", reaped)
    return reaped


def _mark_dead(conn: Connection, table: sa.Table, key: str, value: int, now: dt.datetime, extra: dict) -> bool:
    """The conditional flip: still running and still lapsed (a renewal since the read wins)."""
    return (
        conn.execute(
            sa.update(table)
            .where(table.c[key] == value, table.c.status == "running", table.c.lease_until < now)
            .values(status="failed", error=WORKER_DIED, **extra)
        ).rowcount
        == 1
    )
