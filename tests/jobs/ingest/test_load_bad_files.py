"""One bad cell or one bad file never stops an ingest: a date out of range, bytes that do not
decode far into a file, an event after the as-of date become quarantined rows; an empty or
headerless file is refused in one line; the rest of the bundle loads."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import sqlalchemy as sa

from clientstrata.jobs.ingest.load import ingest


def _bundle(tmp_path: Path, bundle_dir: Path, tables: tuple[str, ...]) -> Path:
    folder = tmp_path / "bundle"
    folder.mkdir()
    for t in tables:
        shutil.copy(bundle_dir / f"{t}.csv", folder / f"{t}.csv")
    return folder


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def _reasons(engine, ingest_id: int) -> dict[tuple[str, int], str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT table_name, row_number, reason FROM quarantine WHERE ingest_id = :i"), {"i": ingest_id}
        ).all()
    return {(t, n): r for t, n, r in rows}


def _set(path: Path, row: int, column: str, value: str) -> None:
    header, *data = path.read_text(encoding="utf-8").splitlines()
    i = header.split(",").index(column)
    cells = data[row - 1].split(",")
    cells[i] = value
    data[row - 1] = ",".join(cells)
    path.write_text("\n".join([header, *data]) + "\n", encoding="utf-8")


def test_dates_out_of_range_and_after_the_as_of_date_quarantine_their_rows(engine, bundle_dir, tmp_path):
    folder = _bundle(tmp_path, bundle_dir, ("branches", "relationship_managers", "individuals", "products", "accounts"))
    _set(folder / "individuals.csv", 1, "birth_date", "0001-01-01")
    _set(folder / "individuals.csv", 2, "onboarded_on", "9999-12-31")
    _set(folder / "individuals.csv", 3, "birth_date", "2026-11-02")
    _set(folder / "accounts.csv", 4, "opened_on", "2026-11-01")
    report = ingest(folder, engine=engine, progress=False, as_of=dt.date(2026, 10, 31))

    reasons = _reasons(engine, report.ingest_id)
    assert reasons[("individuals", 1)] == "birth_date: implausible year '0001-01-01'"
    assert reasons[("individuals", 2)] == "onboarded_on: implausible year '9999-12-31'"
    assert reasons[("individuals", 3)] == "birth_date: after the as-of date 2026-10-31 '2026-11-02'"
    assert reasons[("accounts", 4)] == "opened_on: after the as-of date 2026-10-31 '2026-11-01'"
    people = next(t for t in report.tables if t.table == "individuals")
    assert people.loaded == people.read - 3 == _count(engine, "individuals")


def test_the_default_as_of_date_is_today_anywhere(engine, bundle_dir, tmp_path):
    """Without --as-of, a booking tomorrow (at UTC+14) is refused and one today is not."""
    folder = _bundle(tmp_path, bundle_dir, ("branches", "relationship_managers", "individuals"))
    latest = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=14)).date()
    _set(folder / "individuals.csv", 1, "onboarded_on", latest.isoformat())
    _set(folder / "individuals.csv", 2, "onboarded_on", (latest + dt.timedelta(days=1)).isoformat())
    report = ingest(folder, engine=engine, progress=False)
    reasons = _reasons(engine, report.ingest_id)
    assert list(reasons) == [("individuals", 2)] and "after the as-of date" in reasons[("individuals", 2)]


def test_an_empty_or_headerless_file_is_refused_and_the_rest_loads(engine, bundle_dir, tmp_path):
    folder = _bundle(tmp_path, bundle_dir, ("branches", "relationship_managers", "individuals"))
    (folder / "products.csv").write_bytes(b"")
    lines = (bundle_dir / "households.csv").read_text(encoding="utf-8").splitlines()
    (folder / "households.csv").write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    report = ingest(folder, engine=engine, progress=False)

    assert "refused: products.csv is empty (0 bytes)" in report.warnings
    assert any(w.startswith("refused: households.csv has no header row") for w in report.warnings)
    assert report.quarantined == 0 and report.loaded == report.read > 0
    assert _count(engine, "individuals") == len((bundle_dir / "individuals.csv").read_text().splitlines()) - 1


def test_bytes_that_do_not_decode_after_the_first_megabytes_quarantine_their_row(engine, tmp_path):
    """A branches file of about 6 MB, UTF-8, with two bytes damaged near its end: encoding detection reads
    the first 4 MB, the shape check the first 16 MB block; the one row is quarantined."""
    folder = tmp_path / "big"
    folder.mkdir()
    rows = [f"B{i:06d},第{i}支行,华北,北京" for i in range(160_000)]
    data = ("branch_id,name,region,city\n" + "\n".join(rows) + "\n").encode()
    assert len(data) > 5_000_000
    cut = data.rindex("第159990支行".encode())
    data = data[:cut] + b"\xff\xfe" + data[cut + 3 :]
    (folder / "branches.csv").write_bytes(data)
    report = ingest(folder, engine=engine, progress=False)

    assert report.quarantined == 1 and report.loaded == 159_999
    assert _reasons(engine, report.ingest_id) == {
        ("branches", 159_991): "bytes that are not UTF-8: a damaged or cut file"
    }
