"""0013 (trust): tokens issued before persons and expiry get both, and keep working."""

import datetime as dt

import sqlalchemy as sa

from clientstrata.graph.record import access
from clientstrata.graph.record.db import migrate
from clientstrata.graph.record.models import Branch, RelationshipManager


def test_tokens_from_before_get_a_person_and_ninety_days(engine, downgrade):
    downgrade(engine, "0012")  # the fixture's database is at head; this migration goes and comes back
    with engine.begin() as conn:
        conn.execute(sa.insert(Branch), [{"branch_id": "B1", "name": "Head office"}])
        conn.execute(sa.insert(RelationshipManager), [{"rm_id": "RM1", "name": "Li", "branch_id": "B1"}])
        for name, role, rm in (("aml team", "risk_officer", None), ("li's phone", "relationship_manager", "RM1")):
            conn.execute(
                sa.text(
                    "INSERT INTO api_tokens (token_hash, name, role, rm_id, created_by, created_at) "
                    "VALUES (:h, :n, :r, :rm, 'cli', :at)"
                ),
                {"h": access._hash(name), "n": name, "r": role, "rm": rm, "at": dt.datetime(2026, 1, 1)},
            )
    migrate(engine)
    with engine.connect() as conn:
        risk, rm = access.authenticate(conn, "aml team"), access.authenticate(conn, "li's phone")
        expires = set(conn.execute(sa.text("SELECT expires_at FROM api_tokens")).scalars())
    assert (risk.person, rm.person) == ("aml team", "RM1")
    soon = dt.datetime.now() + dt.timedelta(days=90)
    assert all(
        abs((e if isinstance(e, dt.datetime) else dt.datetime.fromisoformat(e)) - soon) < dt.timedelta(minutes=5)
        for e in expires
    )
