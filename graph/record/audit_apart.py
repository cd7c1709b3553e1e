"""Audit entries written apart from the step they record: the unmasked PII a read served and
the attempts the caller's book refused. A read has no write transaction of its own to carry them,
and a refused step's transaction is rolled back, so each is its own short transaction.

A read must not wait behind a long write. On SQLite one writer holds the whole file (a run's
publish, for minutes), so an audit write there waits at most `BUSY_MS`; when the file is still
locked, the entries go to a spool file beside the database (appended and fsynced before the read
answers: nothing is served unaudited), and the next audit write that gets the lock moves them into
the log first. PostgreSQL takes row locks for an insert, so a publish never blocks one there: the
entries are written at once, and a failure is the caller's like any other (`StoreUnavailable`).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import StoreUnavailable

from .models import AuditEntry

__all__ = ["BUSY_MS", "record_apart", "drain", "spool_path"]

BUSY_MS = 500  # how long an audit write may wait for SQLite's write lock before it spools
_audit_log = AuditEntry.__table__
_spooling = threading.Lock()  # one process's threads; `flock` orders the processes (API workers)


def spool_path(engine: Engine) -> Path | None:
    """The spool beside a SQLite file; None for other databases (and in-memory SQLite)."""
    db = engine.url.database
    if engine.dialect.name != "sqlite" or not db or db == ":memory:":
        return None
    return Path(db + ".audit-spool.jsonl")


def _rows(actor: str, action: str, entity_type: str, entries: Iterable[tuple[object, dict | None]]) -> list[dict]:
    at = utcnow()
    return [
        {
            "at": at,
            "actor": actor,
            "action": action,
            "entity_type": entity_type,
            "entity_id": None if eid is None else str(eid),
            "details": details,
        }
        for eid, details in entries
    ]


def record_apart(
    engine: Engine, actor: str, action: str, entity_type: str, entries: Iterable[tuple[object, dict | None]]
) -> None:
    """One audit entry per (entity_id, details), in a transaction of its own that never waits
    long for a lock (see the module's note): written, or spooled to be written."""
    rows = _rows(actor, action, entity_type, entries)
    if not rows:
        return
    spool = spool_path(engine)
    if spool is None:
        with engine.begin() as conn:
            conn.execute(sa.insert(_audit_log), rows)
        return
    try:
        _write_sqlite(engine, spool, rows)
    except StoreUnavailable as exc:
        if not _locked(exc):
            raise
        _append(spool, rows)


def drain(engine: Engine) -> int:
    """Move spooled entries into the log now if the lock is free; how many moved (0 when busy)."""
    spool = spool_path(engine)
    if spool is None or not spool.exists():
        return 0
    try:
        return _write_sqlite(engine, spool, [])
    except StoreUnavailable as exc:
        if _locked(exc):
            return 0
        raise


def _write_sqlite(engine: Engine, spool: Path, rows: list[dict]) -> int:
    with engine.connect() as conn:
        usual = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_MS}")
        conn.commit()  # ends the transaction the PRAGMAs began; the write's own follows
        try:
            with conn.begin():
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock now, or fail fast
                spooled = _take(conn, spool)
                if spooled or rows:
                    conn.execute(sa.insert(_audit_log), spooled + rows)
            return len(spooled)
        finally:  # the connection goes back to the pool with the engine's own patience
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(usual)}")
            conn.commit()


def _take(conn: Connection, spool: Path) -> list[dict]:
    """The spooled entries, removed from the spool once this transaction commits (it holds the
    write lock, so no other process drains them at the same time)."""
    with _spooling:
        if not spool.exists():
            return []
        taken = spool.with_name(f"{spool.name}.{uuid.uuid4().hex}")
        with open(spool, "a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # an appender holding the old file finishes first
            os.replace(spool, taken)
    lines, rows = taken.read_text(encoding="utf-8").splitlines(), []
    for line in filter(str.strip, lines):
        try:
            row = json.loads(line)
            rows.append({**row, "at": dt.datetime.fromisoformat(row["at"])})
        except (ValueError, KeyError, TypeError):  # a line a crash cut short: kept aside, never a blocker
            with open(spool.with_name(spool.name + ".rejected"), "a", encoding="utf-8") as bad:
                bad.write(line + "\n")

    def settle(committed: bool) -> None:
        if not committed:  # put them back for the next writer
            _append_lines(spool, lines)
        taken.unlink(missing_ok=True)

    sa.event.listen(conn, "commit", lambda _c: settle(True), once=True)
    sa.event.listen(conn, "rollback", lambda _c: settle(False), once=True)
    return rows


def _append(spool: Path, rows: list[dict]) -> None:
    _append_lines(spool, [json.dumps({**r, "at": r["at"].isoformat()}, ensure_ascii=False) for r in rows])


def _append_lines(spool: Path, lines: list[str]) -> None:
    if not lines:
        return
    with _spooling:
        while True:  # lock the file at the spool's path, not one a drain has just moved away
            f = open(spool, "a", encoding="utf-8")  # noqa: SIM115 - closed below, with its lock
            fcntl.flock(f, fcntl.LOCK_EX)
            if spool.exists() and os.stat(spool).st_ino == os.fstat(f.fileno()).st_ino:
                break
            f.close()
        with f:
            f.write("".join(line + "\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())


def _locked(exc: StoreUnavailable) -> bool:
    cause = exc.__cause__ or exc.__context__
    original = getattr(cause, "orig", cause)
    return isinstance(original, sqlite3.OperationalError) and "locked" in str(original).lower()
