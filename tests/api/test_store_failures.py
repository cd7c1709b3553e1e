"""Each way the database can fail, forced for real under the running API: a write lock held by
another writer (a run's publish), every pooled connection busy, a database that cannot be reached,
a statement the database refuses. No response carries SQL, parameters or driver text; a read that
audits PII does not wait behind the lock. (An unreachable server: `test_errors.py`.)"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from clientstrata.api.app import create_app
from clientstrata.graph.record.audit_apart import drain
from clientstrata.graph.record.db import engine_for
from clientstrata.graph.record.models import AuditEntry

# SQL, its parameters (the probe's marker text), driver and exception names, paths
LEAKS = re.compile(
    r"Traceback|File \"|SELECT|INSERT|UPDATE|FROM|VALUES|\[SQL|parameters|marker-7Q|sqlite|psycopg|"
    r"OperationalError|IntegrityError|TimeoutError|QueuePool|Exception|test\.db|locked|UNIQUE",
    re.IGNORECASE,
)
PHONE = "query($id: ID!) { customer(id: $id) { id phone idNumber } }"
FEEDBACK = """mutation($id: ID!) { recordFeedback(input: {customerId: $id, kind: "complaint", text: "marker-7Q"}) {
  __typename ... on Feedback { id } ... on Error { code message } } }"""


def _post(client, token, query, **variables):
    r = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}", "accept": "application/graphql-response+json"},
    )
    assert not LEAKS.search(r.text), r.text
    return r


@contextmanager
def publishing(engine) -> Iterator[None]:
    """Another process's long write transaction: SQLite's write lock held, as a publish holds it."""
    other = sqlite3.connect(engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE individuals SET name = name")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def _sqlite(engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("one writer locks the whole database only on SQLite; PostgreSQL locks rows")


def test_a_pii_read_does_not_wait_behind_a_publish_and_is_still_audited(loaded, rm_book, make_token):
    engine, graph = loaded
    _sqlite(engine)
    rm, mine, _ = rm_book
    token = make_token("relationship_manager", rm)
    with TestClient(create_app(engine, graph)) as client, publishing(engine):
        began = time.monotonic()
        r = _post(client, token, PHONE, id=mine[0])
        waited = time.monotonic() - began
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    assert r.json()["data"]["customer"]["phone"] and "*" not in r.json()["data"]["customer"]["phone"]
    assert waited < 5, f"the read waited {waited:.1f} s behind the publish"
    assert drain(engine) >= 2  # spooled while locked, in the log once the lock is free
    with engine.connect() as conn:
        audited = conn.execute(
            sa.select(AuditEntry.details).where(AuditEntry.action == "pii.read", AuditEntry.entity_id == mine[0])
        ).scalars()
        assert {d["field"] for d in audited} >= {"phone", "id_number"}


def _short_busy_timeout(engine, ms: int) -> None:
    engine.dispose()
    sa.event.listen(engine, "connect", lambda dbapi, _: dbapi.execute(f"PRAGMA busy_timeout = {ms}"))


def test_a_write_refused_by_a_held_lock_tells_nothing(loaded, rm_book, make_token):
    engine, graph = loaded
    _sqlite(engine)
    rm, mine, _ = rm_book
    token = make_token("relationship_manager", rm)
    _short_busy_timeout(engine, 200)  # the engine's 30 s, shortened so the test need not wait them
    with TestClient(create_app(engine, graph)) as client, publishing(engine):
        r = _post(client, token, FEEDBACK, id=mine[0])
    assert r.status_code == 200 and r.json()["errors"][0]["message"] == "Unexpected error.", r.text
    assert r.json()["data"] is None


def test_a_statement_the_database_refuses_tells_nothing(loaded, rm_book, make_token):
    engine, graph = loaded
    rm, mine, _ = rm_book
    token = make_token("relationship_manager", rm)
    with engine.begin() as conn:  # one complaint per customer, so the second breaks a constraint
        conn.execute(sa.text("CREATE UNIQUE INDEX ux_one_feedback ON feedback (customer_id)"))
    with TestClient(create_app(engine, graph)) as client:
        assert _post(client, token, FEEDBACK, id=mine[0]).json()["data"]["recordFeedback"]["__typename"] == "Feedback"
        r = _post(client, token, FEEDBACK, id=mine[0])
    assert r.status_code == 200 and r.json()["errors"][0]["message"] == "Unexpected error.", r.text


def test_every_pooled_connection_busy_is_a_503_that_tells_nothing(loaded, make_token):
    engine, graph = loaded
    token = make_token("marketing_analyst")
    small = engine_for(engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0, pool_timeout=0.2)
    held = small.connect()  # the pool's only connection, busy
    try:
        with TestClient(create_app(small, graph)) as client:
            r = _post(client, token, "{ customers(first: 1) { totalCount } }")
    finally:
        held.close()
        small.dispose()
    assert r.status_code == 503 and r.json() == {
        "errors": [{"message": "The service is unavailable; try again later.", "extensions": {"code": "UNAVAILABLE"}}]
    }


def test_a_database_that_cannot_be_opened_is_a_503_that_tells_nothing(loaded, make_token, tmp_path):
    engine, graph = loaded
    token = make_token("marketing_analyst")
    url = engine.url
    gone = (
        url.set(database=str(tmp_path / "no-such-dir" / "test.db"))
        if url.get_backend_name() == "sqlite"
        else url.set(host="127.0.0.1", port=9)
    )
    broken = engine_for(gone.render_as_string(hide_password=False))
    with TestClient(create_app(broken, graph)) as client:
        r = _post(client, token, "{ customers(first: 1) { totalCount } }")
    assert r.status_code == 503 and r.json()["errors"][0]["extensions"] == {"code": "UNAVAILABLE"}


def test_a_publish_that_ends_lets_spooled_entries_in_before_new_ones(loaded, rm_book, make_token):
    """The spool keeps the log's order: what waited goes in ahead of what comes after."""
    engine, graph = loaded
    _sqlite(engine)
    rm, mine, _ = rm_book
    token = make_token("relationship_manager", rm)
    with TestClient(create_app(engine, graph)) as client:
        with publishing(engine):
            _post(client, token, PHONE, id=mine[0])
        _post(client, token, PHONE, id=mine[1])  # the lock is free: this write takes the spool in first
    with engine.connect() as conn:
        ids = (
            conn.execute(
                sa.select(AuditEntry.entity_id).where(AuditEntry.action == "pii.read").order_by(AuditEntry.audit_id)
            )
            .scalars()
            .all()
        )
    assert ids.index(mine[0]) < ids.index(mine[1])


def test_pii_whose_reading_cannot_be_audited_is_withheld_and_tells_nothing(loaded, rm_book, make_token):
    engine, graph = loaded
    rm, mine, _ = rm_book
    token = make_token("relationship_manager", rm)
    with TestClient(create_app(engine, graph)) as client:
        with engine.begin() as conn:  # the audit log is gone from under the running API
            conn.execute(sa.text("ALTER TABLE audit_log RENAME TO audit_moved"))
        r = _post(client, token, PHONE, id=mine[0])
    assert r.json().get("data") is None and r.json()["errors"] == [{"message": "Unexpected error."}], r.text
