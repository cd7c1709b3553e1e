"""The first-load path (plain inserts, indexes built after the file, foreign keys checked once)
loads the same record as the upsert path, and leaves the record's indexes and checks as it found them."""

import pandas as pd
import pytest
import sqlalchemy as sa

from clientstrata.graph.record.bulk_first import secondary_indexes
from clientstrata.graph.record.db import engine_for, migrate
from clientstrata.graph.record.models import Base
from clientstrata.jobs.ingest import load as load_module
from clientstrata.jobs.ingest.bundle import TABLES
from clientstrata.jobs.ingest.load import ingest

STAMPS = ("ingest_id", "started_at", "finished_at", "summary", "updated_at")


def _record(engine) -> dict[str, list]:
    """Every table's rows without the ingest's own stamps (its id and times)."""
    with engine.connect() as conn:
        out = {}
        for t in Base.metadata.sorted_tables:
            if t.name in ("ingest_runs", "rollup_clock"):
                continue
            cols = [c for c in t.c if c.name not in STAMPS]
            out[t.name] = sorted(map(tuple, conn.execute(sa.select(*cols)).all()), key=repr)
        return out


def _emptied(engine, tmp_path) -> sa.Engine:
    """A second empty record: a new SQLite file, or the PostgreSQL test database emptied again."""
    if engine.dialect.name == "sqlite":
        other = engine_for(f"sqlite:///{tmp_path / 'slow.db'}")
    else:
        other = engine_for(engine.url.render_as_string(hide_password=False))
        with other.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    migrate(other)
    return other


def _indexes(engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {t.name: secondary_indexes(conn, t.name) for t in TABLES}


def _with_a_bad_row(bundle) -> None:
    path = bundle / "transactions.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    bad = {c: df.iloc[0][c] for c in df.columns} | {"txn_id": "T-dangling", "account_id": "A-nowhere"}
    pd.concat([df, pd.DataFrame([bad])], ignore_index=True).to_csv(path, index=False)


def test_first_load_equals_the_upsert_path(engine, bundle_copy, tmp_path, monkeypatch):
    """The same bundle through both paths gives the same tables, row counts and quarantine."""
    _with_a_bad_row(bundle_copy)
    fast = ingest(bundle_copy, engine=engine, progress=False)
    assert fast.quarantined == 1 and fast.loaded > 1000
    record, indexes = _record(engine), _indexes(engine)

    # an empty record again (on PostgreSQL the same test database, emptied), and every table
    # reading as non-empty: the upsert path with its staged comparison loads the same bundle
    engine.dispose()
    slow_engine = _emptied(engine, tmp_path)
    try:
        monkeypatch.setattr(load_module, "db_count", lambda conn, table: 1)
        slow = ingest(bundle_copy, engine=slow_engine, progress=False)
        assert _record(slow_engine) == record
        assert _indexes(slow_engine) == indexes
    finally:
        slow_engine.dispose()
    assert slow.to_dict()["tables"] == fast.to_dict()["tables"]
    assert (slow.read, slow.loaded, slow.quarantined) == (fast.read, fast.loaded, fast.quarantined)


def test_reingest_after_a_first_load_changes_nothing(engine, bundle_dir):
    first = ingest(bundle_dir, engine=engine, progress=False)
    before = _record(engine)
    again = ingest(bundle_dir, engine=engine, progress=False)
    assert first.to_dict()["inserted"] == first.loaded
    assert (again.to_dict()["inserted"], again.to_dict()["updated"]) == (0, 0)
    assert again.to_dict()["unchanged"] == first.loaded
    assert _record(engine) == before


def test_first_load_rebuilds_every_index_it_dropped(engine, bundle_dir):
    empty = _indexes(engine)
    assert empty["transactions"], "the covering index the first load defers"
    ingest(bundle_dir, engine=engine, progress=False)
    assert _indexes(engine) == empty


def test_sqlite_foreign_keys_are_on_again_after_an_ingest(engine, bundle_dir):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's pragma")
    ingest(bundle_dir, engine=engine, progress=False)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
