import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record.models import Base
from clientstrata.jobs.ingest.bundle import TABLE_BY_NAME
from clientstrata.jobs.ingest.load import ingest

BERKA = Path(__file__).resolve().parents[4] / "shared" / "data" / "berka"


def _snapshot(engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr)
            for t in Base.metadata.sorted_tables
            if t.name not in ("ingest_runs",)
        }


def _break(bundle: Path, table: str, rows: list[dict]) -> None:
    path = bundle / f"{table}.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    pd.concat([df, pd.DataFrame(rows)], ignore_index=True).fillna("").to_csv(path, index=False)


def test_clean_bundle_loads_every_row(engine, bundle_dir):
    report = ingest(bundle_dir, engine=engine, progress=False)
    assert report.quarantined == 0
    assert report.read == report.loaded > 1000
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM individuals")).scalar() == 300


def test_bad_rows_are_quarantined_with_reasons_and_good_rows_load(engine, bundle_copy):
    _break(
        bundle_copy,
        "individuals",
        [
            {"customer_id": "X1", "name": "坏日期", "birth_date": "1990-02-30"},
            {"customer_id": "X2", "name": "", "birth_date": "1990-01-01"},
            {"customer_id": "C0000001", "name": "重复", "birth_date": "1990-01-01"},
            {"customer_id": "X3", "name": "长" * 201, "birth_date": "1990-01-01"},  # VARCHAR(200)
        ],
    )
    _break(
        bundle_copy,
        "transactions",
        [
            {
                "txn_id": "BAD1",
                "account_id": "A-nowhere",
                "booked_at": "2026-01-01T10:00:00",
                "direction": "credit",
                "amount": "10",
                "channel": "mobile",
            },
            {
                "txn_id": "BAD2",
                "account_id": "A000000001",
                "booked_at": "2026-01-01T10:00:00",
                "direction": "credit",
                "amount": "-5",
                "channel": "fax",
            },
        ],
    )
    report = ingest(bundle_copy, engine=engine, progress=False)
    assert report.quarantined == 6
    assert report.loaded + report.quarantined == report.read
    with engine.connect() as conn:
        q = pd.read_sql(
            "SELECT table_name, row_number, reason, raw FROM quarantine ORDER BY table_name, row_number", conn
        )
        assert conn.execute(sa.text("SELECT count(*) FROM individuals")).scalar() == 300
    reasons = " | ".join(q["reason"])
    for expected in (
        "birth_date: not a date",
        "name is required",
        "duplicate of row 1 (same customer_id)",
        "account_id 'A-nowhere' not found in accounts",
        "amount: below the minimum",
        "channel: 'fax' is not one of",
        "name: longer than 200 characters",
    ):
        assert expected in reasons
    raw = q["raw"].map(lambda r: r if isinstance(r, dict) else json.loads(r))
    assert {"X1", "X2", "X3"} <= set(raw.map(lambda r: r.get("customer_id")))


def test_reingesting_the_same_bundle_changes_nothing(engine, bundle_copy):
    _break(bundle_copy, "individuals", [{"customer_id": "X1", "name": "坏", "birth_date": "never"}])
    first = ingest(bundle_copy, engine=engine, progress=False)
    before = _snapshot(engine)
    second = ingest(bundle_copy, engine=engine, progress=False)
    assert _snapshot(engine) == before
    assert (second.read, second.loaded, second.quarantined) == (first.read, first.loaded, first.quarantined)
    assert all(t.new == 0 for t in second.tables)


def test_ragged_csv_rows_are_quarantined_not_fatal(engine, bundle_copy):
    with (bundle_copy / "branches.csv").open("a") as f:
        f.write("B999,多余,华北,北京,extra-field\n")
    report = ingest(bundle_copy, engine=engine, progress=False)
    branches = next(t for t in report.tables if t.table == "branches")
    assert branches.quarantined == 1 and branches.loaded == branches.read - 1
    assert report.loaded + report.quarantined == report.read


def test_parquet_bundle_loads_the_same_rows(engine, tmp_path):
    from clientstrata.jobs.ingest.generate import generate

    generate(tmp_path / "pq", customers=50, seed=3, fmt="parquet", progress=False)
    generate(tmp_path / "csv", customers=50, seed=3, fmt="csv", progress=False)
    pq = ingest(tmp_path / "pq", engine=engine, progress=False)
    assert pq.quarantined == 0
    assert pq.read == sum(len(pd.read_csv(p)) for p in (tmp_path / "csv").glob("*.csv"))


def test_not_a_bundle_is_a_clear_error(engine, tmp_path):
    with pytest.raises(InvalidInput, match="no bundle files"):
        ingest(tmp_path, engine=engine, progress=False)


@pytest.mark.skipif(not BERKA.exists(), reason="shared/data/berka is not beside the checkout")
def test_berka_maps_every_source_row(engine):
    report = ingest(BERKA, format="berka", engine=engine, progress=False)
    d = report.to_dict()
    assert report.read == 23_360 and report.loaded + report.quarantined == report.read
    assert d["tables"]["loans"]["loaded"] == 682
    assert d["derived"]["households"]["loaded"] == 869
    with engine.connect() as conn:
        statuses = dict(conn.execute(sa.text("SELECT status, count(*) FROM loans GROUP BY status")).all())
        roles = dict(conn.execute(sa.text("SELECT role, count(*) FROM account_holders GROUP BY role")).all())
    assert set(statuses) == {"A", "B", "C", "D"}
    assert roles == {"owner": 4500, "co_holder": 869}


def _quarantine(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(
            "SELECT table_name, row_number, reason FROM quarantine ORDER BY table_name, row_number", conn
        )


def test_small_chunks_load_and_quarantine_exactly_as_one_chunk(engine, bundle_copy, tmp_path):
    """Duplicates and bad rows that fall in different chunks are caught with the same reasons
    (the first row wins across chunks), and the loaded record is the same."""
    _break(
        bundle_copy,
        "transactions",
        [
            {
                "txn_id": "T0000000001",
                "account_id": "A000000001",
                "booked_at": "2026-01-01T10:00:00",
                "direction": "credit",
                "amount": "10",
                "channel": "mobile",
            },  # repeats row 1, chunks away
            {
                "txn_id": "BAD3",
                "account_id": "A000000001",
                "booked_at": "2026-13-01T10:00:00",
                "direction": "credit",
                "amount": "10",
                "channel": "mobile",
            },
        ],
    )
    _break(
        bundle_copy, "balances_monthly", [{"account_id": "A000000001", "month": "2026-10", "avg_daily_balance": "1"}]
    )  # composite key again
    small = ingest(bundle_copy, engine=engine, progress=False, chunk_rows=97)
    reasons = _quarantine(engine)
    assert small.quarantined == 3 and small.loaded + small.quarantined == small.read
    assert "duplicate of row 1 (same txn_id)" in set(reasons["reason"])
    assert any(r.startswith("duplicate of row") and "(same account_id, month)" in r for r in reasons["reason"])
    assert any("booked_at: not an ISO 8601 date-time" in r for r in reasons["reason"])

    if engine.dialect.name == "sqlite":  # the same bundle in one chunk per file, on a fresh database
        from clientstrata.graph.record.db import engine_for, migrate

        other = engine_for(f"sqlite:///{tmp_path / 'whole.db'}")
        migrate(other)
        whole = ingest(bundle_copy, engine=other, progress=False)
        assert (whole.read, whole.loaded, whole.quarantined) == (small.read, small.loaded, small.quarantined)
        loaded = lambda e: {t: rows for t, rows in _snapshot(e).items() if t in TABLE_BY_NAME}  # noqa: E731
        assert loaded(other) == loaded(engine) and _quarantine(other).equals(reasons)  # rollups carry times
        other.dispose()


_DIE_AFTER_FIRST_TRANSACTIONS_BATCH = """
import os, signal, sys
from clientstrata.graph.record.db import engine_for
from clientstrata.jobs.ingest import load as job
real = job.bulk_upsert
def bulk_upsert(conn, table, *args, **kw):
    real(conn, table, *args, **kw)
    if table.name == "transactions":  # rows of most tables are written: the process dies now
        os.kill(os.getpid(), signal.SIGKILL)
job.bulk_upsert = bulk_upsert
job.ingest(sys.argv[1], engine=engine_for(sys.argv[2]), progress=False, chunk_rows=500)
"""


def test_a_job_killed_midway_leaves_the_record_as_it_was(engine, bundle_dir, bundle_copy):
    """SIGKILL after thousands of rows went in (a machine that dies, not an exception): the
    record, the quarantine and the ingest log are exactly as before the job began."""
    import signal
    import subprocess
    import sys

    first = ingest(bundle_dir, engine=engine, progress=False)
    before = {**_snapshot(engine), "ingest_runs": _runs(engine)}
    _break(
        bundle_copy,
        "individuals",
        [
            {"customer_id": "X9", "name": "新客户", "birth_date": "1990-01-01"},
            {"customer_id": "X8", "name": "", "birth_date": "1990-01-01"},
        ],
    )
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()  # the child must be able to take SQLite's write lock
    done = subprocess.run(
        [sys.executable, "-c", _DIE_AFTER_FIRST_TRANSACTIONS_BATCH, str(bundle_copy), url],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert {**_snapshot(engine), "ingest_runs": _runs(engine)} == before
    again = ingest(bundle_copy, engine=engine, progress=False)  # and the next run is whole
    assert again.read == first.read + 2 and again.quarantined == 1
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM individuals WHERE customer_id = 'X9'")).scalar() == 1


def _runs(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT ingest_id, read, loaded, quarantined FROM ingest_runs ORDER BY 1")).all()
