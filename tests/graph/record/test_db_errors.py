"""Database failures leave `graph/` as `StoreUnavailable`, never as a SQLAlchemy or driver error:
a database that cannot be reached, one that goes away, a statement it refuses, and work on the
driver's own cursor. Real failures on every backend, no mocks."""

import shutil

import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import StoreUnavailable
from clientstrata.graph.record.bulk import bulk_upsert
from clientstrata.graph.record.db import engine_for, migrate, ping
from clientstrata.graph.record.models import Branch
from clientstrata.jobs.runs.changes import changes_after
from clientstrata.jobs.runs.whatif_requests import run_queued_whatif

UNREACHABLE = {  # backend: (URL, where the message says the database is)
    "sqlite": ("sqlite:///{tmp}/no-such-folder/record.db", "no-such-folder/record.db"),  # cannot be opened
    "postgres": ("postgresql+psycopg://clientstrata:secret-pw@127.0.0.1:9/clientstrata", "127.0.0.1:9"),  # no listener
}


def _no_sql(exc: StoreUnavailable) -> None:
    assert not any(word in str(exc) for word in ("SELECT", "INSERT", "secret-pw")), str(exc)


@pytest.mark.parametrize("backend", sorted(UNREACHABLE))
def test_a_database_that_cannot_be_reached_is_store_unavailable(backend, tmp_path):
    url, where = UNREACHABLE[backend]
    engine = engine_for(url.format(tmp=tmp_path))
    for call in (lambda: ping(engine), lambda: migrate(engine), lambda: run_queued_whatif(engine, None, 1)):
        with pytest.raises(StoreUnavailable, match="^cannot reach the database at ") as caught:
            call()
        assert where in str(caught.value)  # for the operator; the API masks it
        _no_sql(caught.value)


def test_a_database_that_goes_away_is_store_unavailable(tmp_path):
    folder = tmp_path / "record"
    folder.mkdir()
    engine = engine_for(f"sqlite:///{folder / 'record.db'}")
    migrate(engine)
    engine.dispose()
    shutil.rmtree(folder)  # the volume is gone: the next connection cannot open the file
    with pytest.raises(StoreUnavailable, match="^cannot reach the database at "):
        run_queued_whatif(engine, None, 1)


def test_a_refused_statement_is_store_unavailable_with_the_sql_in_a_note_only(engine):
    with engine.begin() as conn:  # the table disappears under a running job
        conn.execute(sa.text("ALTER TABLE classification_changes RENAME TO changes_moved"))
    with pytest.raises(StoreUnavailable, match="refused a statement") as caught, engine.connect() as conn:
        changes_after(conn)
    _no_sql(caught.value)
    assert any("SELECT" in note for note in caught.value.__notes__)  # for the log's traceback


def test_the_drivers_own_cursor_is_translated_too(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE branches RENAME TO branches_moved"))
    with pytest.raises(StoreUnavailable, match="refused a statement") as caught, engine.begin() as conn:
        bulk_upsert(conn, Branch.__table__, ["branch_id", "name"], [("B1", "Head office")], ["branch_id"])
    _no_sql(caught.value)


def test_an_adbc_connection_that_cannot_be_opened_is_store_unavailable(tmp_path):
    """The features' ADBC connection (its own libpq, not psycopg's) fails as the engine's would:
    `StoreUnavailable` naming the database, the password hidden; SQLite has no such connection."""
    from clientstrata.graph.record.adbc_postgres import open_arrow

    url, where = UNREACHABLE["postgres"]
    with pytest.raises(StoreUnavailable, match="^cannot reach the database at ") as caught:
        open_arrow(engine_for(url))
    assert where in str(caught.value) and "Failed to connect" in str(caught.value)
    _no_sql(caught.value)
    assert open_arrow(engine_for(f"sqlite:///{tmp_path / 'record.db'}")) is None
