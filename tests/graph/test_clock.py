"""Every stored moment is UTC, whatever the time zone of the server that writes it: the API sends
stored moments as UTC, so a writer on a Beijing server that took its local clock would put its
tokens, audit entries and runs eight hours in the future (issue 14)."""

import ast
import datetime as dt
import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from clientstrata.graph.clock import utcnow
from clientstrata.graph.record import access, audit
from clientstrata.graph.record.models import ApiToken, AuditEntry

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("api", "jobs", "graph", "cli")


@pytest.fixture
def in_beijing():
    """The process's local clock set to UTC+8, as on a server in China."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()
    assert dt.datetime.now() - dt.datetime.now(dt.UTC).replace(tzinfo=None) > dt.timedelta(hours=7)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def _close_to_utc(moment: dt.datetime) -> bool:
    return abs(moment - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(minutes=5)


def test_a_token_issued_in_beijing_is_stamped_in_utc(engine, in_beijing):
    with engine.begin() as conn:
        token_id, _ = access.issue_token(conn, "marketing_analyst", "clock test", expires_at=None)
        row = conn.execute(
            sa.select(ApiToken.created_at, ApiToken.expires_at).where(ApiToken.token_id == token_id)
        ).one()
    assert _close_to_utc(row.created_at), row.created_at
    assert row.expires_at - row.created_at == access.token_lifetime()


def test_an_audit_entry_written_in_beijing_is_stamped_in_utc(engine, in_beijing):
    with engine.begin() as conn:
        audit.record(conn, actor="clock test", action="clock.tested", entity_type="test", entity_id="1")
        at = conn.execute(sa.select(sa.func.max(AuditEntry.at))).scalar_one()
    assert _close_to_utc(at), at


def test_a_postgresql_session_reads_and_writes_in_utc(engine):
    """`now()` defaults and naive timestamps are read in the session's zone: the engine pins it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no session time zone; CURRENT_TIMESTAMP is UTC")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SHOW TimeZone")).scalar_one() == "UTC"
        assert _close_to_utc(conn.execute(sa.text("SELECT LOCALTIMESTAMP")).scalar_one())


def _local_clock_calls(tree: ast.AST) -> list[int]:
    """Lines calling `datetime.now()` without a zone, `datetime.utcnow()` or `datetime.today()`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner, name = node.func.value, node.func.attr
            is_datetime = (isinstance(owner, ast.Attribute) and owner.attr == "datetime") or (
                isinstance(owner, ast.Name) and owner.id == "datetime"
            )
            if is_datetime and (name in ("utcnow", "today") or (name == "now" and not node.args and not node.keywords)):
                found.append(node.lineno)
    return found


def test_no_writer_takes_the_local_clock():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for layer in LAYERS
        for path in sorted((ROOT / layer).rglob("*.py"))
        for line in _local_clock_calls(ast.parse(path.read_text(), str(path)))
    ]
    assert offenders == [], "use clientstrata.graph.clock.utcnow(): " + ", ".join(offenders)


def test_the_scan_finds_a_local_clock_call():
    assert _local_clock_calls(
        ast.parse("import datetime as dt\nx = dt.datetime.now()\ny = dt.datetime.now(dt.UTC)")
    ) == [2]


def test_utcnow_is_naive_utc():
    assert utcnow().tzinfo is None and _close_to_utc(utcnow())
