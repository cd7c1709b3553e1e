"""Tokens are shown once and kept as hashes; roles carry least privilege; RM tokens are tied to a book."""

import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record import access
from clientstrata.graph.record.access import ROLE_PERMISSIONS, Permission, Role
from clientstrata.graph.record.models import ApiToken, Branch, RelationshipManager


@pytest.fixture
def conn(engine):
    with engine.begin() as c:
        c.execute(sa.insert(Branch), [{"branch_id": "B1", "name": "Head office"}])
        c.execute(sa.insert(RelationshipManager), [{"rm_id": "RM1", "name": "Li", "branch_id": "B1"}])
        yield c


def test_token_round_trip_and_only_the_hash_is_stored(conn):
    token_id, secret = access.issue_token(conn, "risk_officer", "aml team")
    stored = conn.execute(sa.select(ApiToken.token_hash)).scalar_one()
    assert secret.startswith("cst_") and len(secret) > 40 and secret not in stored
    who = access.authenticate(conn, secret)
    assert who.role is Role.RISK_OFFICER and who.actor == "aml team" and who.token_id == token_id
    access.revoke_token(conn, token_id)
    with pytest.raises(access.Unauthenticated, match="revoked"):
        access.authenticate(conn, secret)
    with pytest.raises(NotFound):
        access.revoke_token(conn, token_id)


def test_missing_and_forged_tokens_are_refused(conn):
    with pytest.raises(access.Unauthenticated, match="Bearer"):
        access.authenticate(conn, None)
    with pytest.raises(access.Unauthenticated):
        access.authenticate(conn, "cst_" + "x" * 43)


def test_relationship_manager_tokens_are_bound_to_an_existing_rm(conn):
    with pytest.raises(InvalidInput, match="--rm-id"):
        access.issue_token(conn, "relationship_manager", "li")
    with pytest.raises(NotFound):
        access.issue_token(conn, "relationship_manager", "li", rm_id="RM404")
    with pytest.raises(InvalidInput, match="only to relationship_manager"):
        access.issue_token(conn, "admin", "ops", rm_id="RM1")
    with pytest.raises(InvalidInput, match="unknown role"):
        access.issue_token(conn, "superuser", "ops")
    _, secret = access.issue_token(conn, "relationship_manager", "li", rm_id="RM1")
    assert access.authenticate(conn, secret).book == "RM1"


@pytest.mark.parametrize(
    "role, pii, book",
    [
        (Role.ADMIN, False, None),
        (Role.RISK_OFFICER, True, None),
        (Role.MARKETING_ANALYST, False, None),
        (Role.RELATIONSHIP_MANAGER, True, "RM1"),
        (Role.SERVICE_AGENT, False, None),
    ],
)
def test_role_matrix(role, pii, book):
    who = access.Principal(role, "someone", rm_id="RM1" if role is Role.RELATIONSHIP_MANAGER else None)
    assert who.can(Permission.READ_PII) is pii
    assert who.book == book
    if not who.can(Permission.DECIDE_OVERRIDE):
        with pytest.raises(access.NotAllowed, match="may not decide override"):
            who.require(Permission.DECIDE_OVERRIDE)


def test_docs_role_table_is_the_code():
    """docs/access.md's role × permission table says exactly what ROLE_PERMISSIONS grants."""
    from pathlib import Path

    text = (Path(__file__).parents[3] / "docs" / "access.md").read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if line.startswith("| role |"))
    names = [c.strip() for c in header.strip("|").split("|")][1:]
    assert names == [p.value for p in Permission]
    for role in Role:
        row = next(line for line in text.splitlines() if line.startswith(f"| {role.value} |"))
        cells = [c.strip() for c in row.strip("|").split("|")][1:]
        granted = {Permission(n) for n, c in zip(names, cells) if c == "✓"}
        assert granted == ROLE_PERMISSIONS[role], role
