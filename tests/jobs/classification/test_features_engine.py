"""The DuckDB features frame equals the per-range SQL + pandas build it replaced (kept as the
reference in tests/benchmarks/baselines/per_range_features.py), on the generated bank, on every
backend."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from clientstrata.jobs.classification.features.engine import duckdb_features
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.errors import FeaturesOutOfMemory

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "baselines"))
import per_range_features  # noqa: E402  (the reference: not a module of the package)

STD = load_standard()


def assert_same_features(new: pd.DataFrame, old: pd.DataFrame) -> None:
    """Exact columns, order and dtypes; floats within a relative 1e-9 (sums in another order)."""
    pd.testing.assert_frame_equal(
        new.reset_index(drop=True), old.reset_index(drop=True), check_exact=False, rtol=1e-9, atol=1e-6
    )


def test_duckdb_features_equal_the_per_range_build(loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        old = per_range_features.individual_features(conn, STD, chunk=97, workers=1, progress=False)  # several ranges
        new = duckdb_features(conn, STD)
    assert len(new) > 100
    assert new["txn_count"].sum() > 0 and new["families"].str.len().sum() > 0  # the bank is not empty
    assert_same_features(new, old)


def test_a_changed_value_is_caught(loaded_ro):
    """The comparison can fail: one customer's AUM nudged is a difference."""
    engine, _ = loaded_ro
    with engine.connect() as conn:
        new = duckdb_features(conn, STD)
    bad = new.copy()
    bad.loc[0, "aum"] += 1.0
    try:
        assert_same_features(bad, new)
    except AssertionError:
        return
    raise AssertionError("a changed AUM passed the comparison")


def test_a_sqlite_file_is_read_through_the_runs_own_connection(loaded_ro):
    """One SQLite library per process: a second copy (a driver bundling its own, such as ADBC's)
    keeps POSIX locks and the WAL's shared memory apart from the first, so a read beside the API's
    and the run's connections crashed a worker with a bus error and can corrupt the file."""
    engine, _ = loaded_ro
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL: a server, nothing to share in-process
    code = (
        "import sys, sqlalchemy as sa\n"
        "from clientstrata.jobs.classification.features.engine import duckdb_features\n"
        "from clientstrata.jobs.classification.standard import load_standard\n"
        f"e = sa.create_engine({str(engine.url)!r})\n"
        "with e.connect() as c:\n"
        "    n = len(duckdb_features(c, load_standard()))\n"
        "print(n, sorted(m for m in sys.modules if m.startswith('adbc')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows, modules = done.stdout.split(" ", 1)
    assert int(rows) > 100 and modules.strip() == "[]"


def test_a_large_sqlite_file_is_read_by_adbc_in_a_child_process_with_the_same_tables(loaded_ro):
    """The fast read of a large file: ADBC's own SQLite runs in a child process, never in this one,
    and gives exactly the tables the cursor gives."""
    engine, _ = loaded_ro
    if engine.dialect.name != "sqlite":
        return
    code = (
        "import sys, datetime as dt, sqlalchemy as sa\n"
        "from clientstrata.jobs.classification.features.extract import read_tables\n"
        "from clientstrata.jobs.classification.features.roads import read_sqlite_file\n"
        f"e = sa.create_engine({str(engine.url)!r})\n"
        "since = dt.datetime(2000, 1, 1)\n"
        "with e.connect() as c:\n"
        "    cursor = read_tables(c, since, child_min_bytes=None)\n"
        "child = read_sqlite_file(e.url.database, since)  # raises if the child fails: no fallback here\n"
        "assert child.keys() == cursor.keys()\n"
        "for t in child:\n"
        "    assert child[t].equals(cursor[t]), t\n"
        "print(child['transactions'].num_rows, sorted(m for m in sys.modules if m.startswith('adbc')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows, modules = done.stdout.split(" ", 1)
    assert int(rows) > 1000 and modules.strip() == "[]"


def test_postgres_extracts_by_copy_equal_the_cursors_with_awkward_text(engine):
    """PostgreSQL's road: COPY … TO STDOUT in CSV, parsed by Arrow. NULL and the empty string stay
    apart, and commas, quotes, newlines and text that reads like NULL or a number stay text."""
    if engine.dialect.name != "postgresql":
        return  # SQLite's roads have their own tests above
    import datetime as dt

    import sqlalchemy as sa

    from clientstrata.graph.record.db import migrate
    from clientstrata.jobs.classification.features.extract import EXTRACTS, read_tables
    from clientstrata.jobs.classification.features.roads import read_postgres_copy

    migrate(engine)
    awkward = ["", "NULL", "a,b", 'say "hi"', "two\nlines", "NA", "3.5", "t", None]
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO branches (branch_id, name, region) VALUES ('B1', 'one', 'east')"))
        for i, text in enumerate(awkward):
            conn.execute(
                sa.text(
                    "INSERT INTO individuals (customer_id, name, gender, birth_date, occupation, annual_income, "
                    "is_pep, branch_id, onboarded_on) VALUES (:id, 'n', 'F', :born, :occ, :income, :pep, 'B1', :on)"
                ),
                {
                    "id": f"C{i:03d}",
                    "born": dt.date(1980, 1, 1 + i),
                    "occ": text,
                    "income": None if i % 3 else 1000.25 * i,
                    "pep": i % 2 == 0,
                    "on": dt.date(2020, 2, 1 + i),
                },
            )
    with engine.connect() as conn:
        since = dt.datetime(2000, 1, 1)
        copied = {t: read_postgres_copy(conn, t, since) for t in EXTRACTS}
        cursor = read_tables(conn, since, child_min_bytes=None)
    assert copied.keys() == cursor.keys()
    for table in copied:
        assert copied[table].equals(cursor[table]), table
    assert copied["individuals"].column("occupation").to_pylist() == awkward


def test_features_held_to_a_small_memory_bound_are_the_same(loaded_ro):
    """DuckDB's buffers are bounded (CLIENTSTRATA_FEATURES_MEMORY_MB) and spill past the bound:
    at the smallest bound the setting allows, the frame is the unbounded one's; below what the
    query cannot spill, the run is refused in words that name the setting."""
    engine, _ = loaded_ro
    with engine.connect() as conn:
        small = duckdb_features(conn, STD, memory_mb=256)
        large = duckdb_features(conn, STD, memory_mb=16_384)
        with pytest.raises(FeaturesOutOfMemory, match=r"CLIENTSTRATA_FEATURES_MEMORY_MB=16 MB") as refused:
            duckdb_features(conn, STD, memory_mb=16)
    assert len(small) > 100
    assert_same_features(small, large)
    assert "duckdb" not in str(refused.value).lower() and "pin block" not in str(refused.value)
