"""Audit entries written apart: on a locked SQLite file they wait in the spool, all of them, and a
line a crash cut short never blocks the ones after it."""

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from clientstrata.graph.record.audit_apart import drain, record_apart, spool_path
from clientstrata.graph.record.models import AuditEntry


@pytest.fixture
def sqlite_engine(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("the spool is SQLite's: PostgreSQL never makes an insert wait behind a publish")
    return engine


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one()


def test_entries_written_while_locked_all_arrive_once(sqlite_engine):
    engine = sqlite_engine
    before = _count(engine)
    other = sqlite3.connect(engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a publish holds the write lock
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: record_apart(engine, "rm", "pii.read", "customer", [(f"C{i:07}", None)]), range(40)))
    assert _count(engine) == before  # nothing got in: all spooled
    other.execute("ROLLBACK")
    other.close()
    assert drain(engine) == 40
    assert drain(engine) == 0 and _count(engine) == before + 40
    with engine.connect() as conn:
        ids = conn.execute(sa.select(AuditEntry.entity_id).where(AuditEntry.actor == "rm")).scalars().all()
    assert sorted(ids) == [f"C{i:07}" for i in range(40)]


def test_a_line_cut_short_is_set_aside(sqlite_engine):
    engine = sqlite_engine
    spool = spool_path(engine)
    spool.write_text(
        '{"at": "2026-12-01T09:00:00", "actor": "rm", "action": "pii.read", "entity_type": "customer", '
        '"entity_id": "C0000001", "details": null}\n{"at": "2026-12-01T09:00:01", "actor": "rm", "act\n',
        encoding="utf-8",
    )
    assert drain(engine) == 1 and not spool.exists()
    assert (
        spool.with_name(spool.name + ".rejected").read_text(encoding="utf-8").startswith('{"at": "2026-12-01T09:00:01"')
    )
