"""Tokens expire: a default lifetime (CLIENTSTRATA_TOKEN_LIFETIME_DAYS, 90), or the issuer's date;
an expired token is refused like a revoked one. A token names the person who holds it."""

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record import access
from clientstrata.graph.record.models import ApiToken, Branch, RelationshipManager


@pytest.fixture
def conn(engine):
    with engine.begin() as c:
        c.execute(sa.insert(Branch), [{"branch_id": "B1", "name": "Head office"}])
        c.execute(sa.insert(RelationshipManager), [{"rm_id": "RM1", "name": "Li", "branch_id": "B1"}])
        yield c


def _expires(conn, token_id: int) -> dt.datetime:
    return conn.execute(sa.select(ApiToken.expires_at).where(ApiToken.token_id == token_id)).scalar_one()


def test_a_token_lives_the_default_lifetime_or_the_configured_one(conn, monkeypatch):
    monkeypatch.delenv("CLIENTSTRATA_TOKEN_LIFETIME_DAYS", raising=False)
    token_id, _ = access.issue_token(conn, "admin", "ops")
    assert abs(_expires(conn, token_id) - (dt.datetime.now() + dt.timedelta(days=90))) < dt.timedelta(minutes=1)
    monkeypatch.setenv("CLIENTSTRATA_TOKEN_LIFETIME_DAYS", "7")
    token_id, _ = access.issue_token(conn, "admin", "ops")
    assert abs(_expires(conn, token_id) - (dt.datetime.now() + dt.timedelta(days=7))) < dt.timedelta(minutes=1)
    for bad in ("0", "-3", "soon"):
        monkeypatch.setenv("CLIENTSTRATA_TOKEN_LIFETIME_DAYS", bad)
        with pytest.raises(InvalidInput, match="CLIENTSTRATA_TOKEN_LIFETIME_DAYS"):
            access.issue_token(conn, "admin", "ops")


def test_an_expired_token_is_refused(conn):
    token_id, secret = access.issue_token(conn, "risk_officer", "aml team", expires_at=access.expiry("1"))
    assert access.authenticate(conn, secret).role is access.Role.RISK_OFFICER
    conn.execute(
        sa.update(ApiToken).where(ApiToken.token_id == token_id).values(expires_at=dt.datetime.now())
    )  # its day has come
    with pytest.raises(access.Unauthenticated, match="expired"):
        access.authenticate(conn, secret)
    with pytest.raises(InvalidInput, match="has passed"):
        access.issue_token(conn, "admin", "ops", expires_at=dt.datetime.now() - dt.timedelta(seconds=1))


@given(days=st.integers(1, 36_500), date=st.dates(dt.date(2000, 1, 1), dt.date(2999, 12, 31)))
def test_expires_reads_days_and_dates(days, date):
    now = dt.datetime(2026, 12, 1, 9, 30)
    assert access.expiry(str(days), now) == now + dt.timedelta(days=days)
    assert access.expiry(date.isoformat(), now) == dt.datetime.combine(date + dt.timedelta(days=1), dt.time())
    assert access.expiry(None, now) is None


@given(st.text(min_size=1).filter(lambda t: t.strip() and not t.strip().isdigit()))
def test_expires_refuses_anything_else_in_words(text):
    try:
        dt.date.fromisoformat(text.strip())
    except ValueError:
        with pytest.raises(InvalidInput, match="--expires"):
            access.expiry(text)


def test_a_token_names_its_person(conn):
    _, secret = access.issue_token(conn, "risk_officer", "alice's laptop", person="alice")
    assert access.authenticate(conn, secret).person == "alice"
    _, secret = access.issue_token(conn, "relationship_manager", "li's phone", rm_id="RM1")
    assert access.authenticate(conn, secret).person == "RM1"  # an RM token's holder is the RM
    _, secret = access.issue_token(conn, "admin", "ops")
    assert access.authenticate(conn, secret).person == "ops"
