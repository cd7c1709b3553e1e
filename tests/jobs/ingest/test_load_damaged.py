"""Damaged bundle files never damage the record: a row with the wrong number of fields or with
bytes that do not decode is quarantined with its reason, whatever else the file holds, and an
empty cell in an update never erases a stored identifying field (jobs/ingest/bundle.md,
"Updates")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clientstrata.graph.record.models import Base
from clientstrata.jobs.ingest.bundle import TABLE_BY_NAME
from clientstrata.jobs.ingest.load import ingest

INDIVIDUALS = TABLE_BY_NAME["individuals"]
KEPT = ("id_number", "phone", "address", "branch_id", "rm_id")  # the identifying values an empty cell never erases


def _base(engine, bundle_dir: Path, tmp_path: Path, tables=("branches", "relationship_managers", "individuals")):
    """The bank's branches, RMs and customers loaded: the record a delta then updates."""
    base = tmp_path / "base"
    base.mkdir()
    for t in tables:
        shutil.copy(bundle_dir / f"{t}.csv", base / f"{t}.csv")
    assert ingest(base, engine=engine, progress=False).quarantined == 0


def _lines(bundle_dir: Path, table: str = "individuals") -> list[str]:
    """The header and data lines of a bundle file (the generator writes no quoted fields)."""
    return (bundle_dir / f"{table}.csv").read_text(encoding="utf-8").splitlines()


def _delta(tmp_path: Path, table: str, text: str | bytes) -> Path:
    folder = tmp_path / f"delta-{len(list(tmp_path.glob('delta-*')))}"
    folder.mkdir()
    path = folder / f"{table}.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return folder


def _rows(engine, table: str = "individuals") -> dict[str, dict]:
    t = Base.metadata.tables[table]
    key = TABLE_BY_NAME[table].key[0]
    with engine.connect() as conn:
        return {r[key]: dict(r) for r in conn.execute(sa.select(t)).mappings()}


def _quarantined(engine, ingest_id: int) -> dict[int, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT row_number, reason FROM quarantine WHERE ingest_id = :i"), {"i": ingest_id}
        ).all()
    return dict(rows)


def _table(report, name: str):
    return next(t for t in report.tables if t.table == name)


def _with(line: str, **cells: str) -> str:
    """A data line of individuals.csv with some cells replaced."""
    values = line.split(",")
    for name, value in cells.items():
        values[INDIVIDUALS.column_names.index(name)] = value
    return ",".join(values)


def test_a_file_cut_mid_row_quarantines_the_cut_row_and_loads_the_rest(engine, bundle_dir, tmp_path):
    """An interrupted transfer: the last row ends after its ninth field and the file has no line
    end. Other rows carry a content error and real updates."""
    _base(engine, bundle_dir, tmp_path)
    before = _rows(engine)
    header, *data = _lines(bundle_dir)
    cut = ",".join(data[2].split(",")[:9])  # customer 3 lost its last six fields
    text = "\n".join(
        [
            header,
            _with(data[0], occupation="律师"),  # an update
            _with(data[1], birth_date="1990-02-30"),  # a content error
            cut,
        ]
    )  # no line end: the transfer stopped here
    report = ingest(_delta(tmp_path, "individuals", text), engine=engine, progress=False)

    rep = _table(report, "individuals")
    assert (rep.read, rep.loaded, rep.quarantined) == (3, 1, 2)
    reasons = _quarantined(engine, report.ingest_id)
    assert "row has 9 fields, the header has 15" in reasons[3]
    assert "birth_date: not a date" in reasons[2]
    after = _rows(engine)
    assert after["C0000003"] == before["C0000003"]  # the cut row wrote nothing
    assert after["C0000001"]["occupation"] == "律师"
    assert {k: v for k, v in after.items() if k != "C0000001"} == {k: v for k, v in before.items() if k != "C0000001"}


def test_a_short_row_is_quarantined_when_it_is_the_only_malformed_row(engine, bundle_dir, tmp_path):
    """A row missing only its last field (rm_id), and no other row in the file is malformed:
    today's fast reader padded it, loaded it and took the customer out of the RM's book."""
    _base(engine, bundle_dir, tmp_path)
    before = _rows(engine)
    header, *data = _lines(bundle_dir)
    assigned = [line for line in data[:40] if line.split(",")[-1]]
    short = assigned[5].rsplit(",", 1)[0]  # 14 fields
    key = short.split(",")[0]
    text = "\n".join([header, *assigned[:5], short, *assigned[6:10]]) + "\n"
    report = ingest(_delta(tmp_path, "individuals", text), engine=engine, progress=False)

    rep = _table(report, "individuals")
    assert (rep.read, rep.loaded, rep.quarantined) == (10, 9, 1)
    assert _quarantined(engine, report.ingest_id) == {6: "row has 14 fields, the header has 15"}
    assert _rows(engine) == before  # the other nine rows are identical to what is stored
    assert before[key]["rm_id"] is not None


def test_a_short_row_in_a_large_file_is_caught_whatever_chunk_it_falls_in(engine, bundle_dir, tmp_path):
    """The shape check covers the whole file, not the first chunk."""
    _base(engine, bundle_dir, tmp_path)
    before = _rows(engine)
    header, *data = _lines(bundle_dir)
    data[250] = ",".join(data[250].split(",")[:-2])
    folder = _delta(tmp_path, "individuals", "\n".join([header, *data]) + "\n")
    report = ingest(folder, engine=engine, progress=False, chunk_rows=100)
    assert _quarantined(engine, report.ingest_id) == {251: "row has 13 fields, the header has 15"}
    assert _rows(engine) == before


def test_a_long_first_data_row_is_quarantined_not_read_as_an_index(engine, bundle_dir, tmp_path):
    """pandas reads a first data row with one field too many as an index column and shifts every
    row of the file one column to the left."""
    _base(engine, bundle_dir, tmp_path)
    before = _rows(engine)
    header, *data = _lines(bundle_dir)
    text = "\n".join([header, data[0] + ",多余", *data[1:8]]) + "\n"
    report = ingest(_delta(tmp_path, "individuals", text), engine=engine, progress=False)

    assert (report.read, report.loaded, report.quarantined) == (8, 7, 1)
    assert _quarantined(engine, report.ingest_id) == {1: "row has 16 fields, the header has 15 (extra: ['多余'])"}
    assert _rows(engine) == before


def test_long_rows_later_in_the_file_are_quarantined(engine, bundle_dir, tmp_path):
    _base(engine, bundle_dir, tmp_path)
    before = _rows(engine)
    header, *data = _lines(bundle_dir)
    text = "\n".join([header, *data[:5], data[5] + ",x,y", *data[6:8]]) + "\n"
    report = ingest(_delta(tmp_path, "individuals", text), engine=engine, progress=False)

    assert _quarantined(engine, report.ingest_id) == {6: "row has 17 fields, the header has 15 (extra: ['x', 'y'])"}
    assert _rows(engine) == before


def test_an_empty_cell_never_erases_a_stored_identifying_field(engine, bundle_dir, tmp_path):
    """A full-width row with its ID number, phone, address, branch and RM empty: those stay as
    stored; the other columns follow the file (an empty e-mail is erased); a new value replaces."""
    assert set(INDIVIDUALS.kept) == {*KEPT, "is_pep"}  # is_pep: a default, never fallen back to
    _base(engine, bundle_dir, tmp_path)
    before = _rows(engine)
    header, *data = _lines(bundle_dir)
    assigned = [line for line in data if line.split(",")[-1]]
    blanked = _with(assigned[0], **dict.fromkeys(KEPT, ""), email="", occupation="律师")
    moved = _with(assigned[1], rm_id="RM0002", branch_id="B002", phone="13800138000")
    report = ingest(_delta(tmp_path, "individuals", f"{header}\n{blanked}\n{moved}\n"), engine=engine, progress=False)
    assert report.quarantined == 0

    after = _rows(engine)
    one, two = assigned[0].split(",")[0], assigned[1].split(",")[0]
    assert {c: after[one][c] for c in KEPT} == {c: before[one][c] for c in KEPT}
    assert all(before[one][c] is not None for c in KEPT)
    assert after[one]["email"] is None and after[one]["occupation"] == "律师"
    assert (after[two]["rm_id"], after[two]["branch_id"], after[two]["phone"]) == ("RM0002", "B002", "13800138000")


def test_a_file_without_the_identifying_columns_keeps_them(engine, bundle_dir, tmp_path):
    """A delta whose header lacks rm_id and id_number (an extract that dropped them) moves no
    customer out of a book and erases no ID number."""
    _base(engine, bundle_dir, tmp_path)
    before = _rows(engine)
    frame = pd.read_csv(bundle_dir / "individuals.csv", dtype=str, keep_default_na=False).head(20)
    folder = tmp_path / "narrow"
    folder.mkdir()
    frame.drop(columns=["rm_id", "id_number"]).to_csv(folder / "individuals.csv", index=False)
    assert ingest(folder, engine=engine, progress=False).quarantined == 0
    assert _rows(engine) == before


def test_other_tables_keep_their_references_and_identifying_columns(engine, bundle_dir, tmp_path):
    """The rule is the contract's, not the individuals file's: an enterprise keeps its credit code
    and RM, an account its number, a loan its product."""
    _base(engine, bundle_dir, tmp_path, tables=[t.name for t in TABLE_BY_NAME.values() if t.name != "transactions"])
    empties = {
        "enterprises": ("credit_code", "rm_id", "branch_id"),
        "accounts": ("account_number",),
        "loans": ("product_id",),
    }
    before = {t: _rows(engine, t) for t in empties}
    folder = tmp_path / "blanks"
    folder.mkdir()
    for table, cols in empties.items():
        frame = pd.read_csv(bundle_dir / f"{table}.csv", dtype=str, keep_default_na=False).head(30)
        frame[list(cols)] = ""
        frame.to_csv(folder / f"{table}.csv", index=False)
    assert ingest(folder, engine=engine, progress=False).quarantined == 0
    assert {t: _rows(engine, t) for t in empties} == before


def test_bytes_that_do_not_decode_quarantine_their_row_only(engine, bundle_dir, tmp_path):
    """A row whose name was cut inside a character (UTF-8 bytes damaged mid-file) is quarantined;
    the file is still read as UTF-8, so no other name is garbled, and the ingest does not fail."""
    _base(engine, bundle_dir, tmp_path)
    before = _rows(engine)
    header, *data = (bundle_dir / "individuals.csv").read_bytes().splitlines()
    fields = data[3].split(b",")
    fields[1] = fields[1][:-1]  # the last byte of the name's last character is gone
    text = b"\n".join([header, *data[:3], b",".join(fields), *data[4:12]]) + b"\n"
    report = ingest(_delta(tmp_path, "individuals", text), engine=engine, progress=False)

    assert _quarantined(engine, report.ingest_id) == {4: "bytes that are not UTF-8: a damaged or cut file"}
    assert not [w for w in report.warnings if "GB18030" in w]
    assert _rows(engine) == before


def test_a_file_cut_inside_a_character_quarantines_its_last_row(engine, bundle_dir, tmp_path):
    _base(engine, bundle_dir, tmp_path)
    before = _rows(engine)
    header, *data = (bundle_dir / "individuals.csv").read_bytes().splitlines()
    cut = data[4][: data[4].index(b",") + 2]  # customer id, a comma and the first byte of the name
    report = ingest(
        _delta(tmp_path, "individuals", b"\n".join([header, *data[:4], cut])), engine=engine, progress=False
    )
    reasons = _quarantined(engine, report.ingest_id)
    assert list(reasons) == [5] and "bytes that are not UTF-8" in reasons[5]
    assert "row has 2 fields, the header has 15" in reasons[5]
    assert _rows(engine) == before


# --- property: whatever the damage, nothing stored is lost or blanked --------------------------

POOL = 24  # source rows the damaged deltas draw from


@st.composite
def _damaged(draw, lines: list[str]) -> tuple[bytes, list[list[str] | None]]:
    """A delta individuals.csv made of source rows, each kept, blanked, mixed with another row's
    cells, short of fields, with a field too many, or cut at a byte; the file itself may end in
    the middle of its last row. Returns the file and, per data row, its bytes and its cells, or
    None for a row that must be quarantined (wrong field count or bytes that do not decode)."""
    header, *data = lines
    width = len(header.split(","))
    raws: list[bytes] = []
    for _ in range(draw(st.integers(1, 8))):
        cells = data[draw(st.integers(0, POOL - 1))].split(",")
        op = draw(st.sampled_from(["keep", "blank", "mix", "drop", "add", "cut"]))
        if op == "blank":
            for i in draw(st.sets(st.integers(0, width - 1), max_size=width)):
                cells[i] = ""
        elif op == "mix":
            i = draw(st.integers(1, width - 1))
            cells[i] = data[draw(st.integers(0, POOL - 1))].split(",")[i]
        elif op == "drop":
            del cells[draw(st.integers(0, width - 1))]
        elif op == "add":
            cells.insert(draw(st.integers(0, width)), draw(st.sampled_from(["", "x", "B001", "多"])))
        raw = ",".join(cells).encode()
        if op == "cut":
            raw = raw[: draw(st.integers(1, len(raw) - 1))]
        raws.append(raw)
    text = b"\n".join([header.encode(), *raws])
    if draw(st.booleans()):
        text += b"\n"
    else:  # an interrupted transfer: the last row ends at any byte
        raws[-1] = raws[-1][: draw(st.integers(1, len(raws[-1])))]
        text = b"\n".join([header.encode(), *raws])
    expected = []
    for raw in raws:
        try:
            cells = raw.decode("utf-8").split(",")
        except UnicodeDecodeError:
            cells = None
        expected.append((raw, cells if cells is not None and len(cells) == width else None))
    return text, expected


def _restore(engine, rows: dict[str, dict]) -> None:
    """Puts the customers back as they were, so each example starts from the same record."""
    t = Base.metadata.tables["individuals"]
    with engine.begin() as conn:
        conn.execute(
            sa.update(t).where(t.c.customer_id == sa.bindparam("key")),
            [{**{c: v for c, v in row.items() if c != "customer_id"}, "key": k} for k, row in rows.items()],
        )
        conn.execute(sa.delete(Base.metadata.tables["quarantine"]))  # the quarantine keeps a row once


def test_damaged_deltas_never_lose_or_blank_what_is_stored(engine, bundle_dir, tmp_path):
    _base(engine, bundle_dir, tmp_path)
    lines = _lines(bundle_dir)
    columns = INDIVIDUALS.column_names
    # each cell text of the source rows -> the value the clean load stored for it
    stored = _rows(engine)
    value = {
        (c, cell): stored[line.split(",")[0]][c]
        for line in lines[1 : POOL + 1]
        for c, cell in zip(columns, line.split(","))
    }

    empty = b"," * (len(columns) - 1)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(_damaged(lines))
    # an empty row of the right width, then a short one: padded, the two read alike, and the short
    # one was taken for a repeat of the first and never quarantined (found by this test)
    @example((b"\n".join([",".join(columns).encode(), empty, b","]), [(empty, [""] * len(columns)), (b",", None)]))
    def check(case):
        text, expected = case
        _restore(engine, stored)
        before = stored
        report = ingest(_delta(tmp_path, "individuals", text), engine=engine, progress=False)
        rep = _table(report, "individuals")
        assert rep.read == len(expected) and rep.read == rep.loaded + rep.quarantined
        quarantined = _quarantined(engine, report.ingest_id)
        after = _rows(engine)
        assert after.keys() == before.keys()  # nothing lost (every key drawn is stored)
        loaded = {}
        for number, (raw, cells) in enumerate(expected, start=1):
            # the quarantine holds a row once: an identical earlier row stands for this one
            held = number in quarantined or any(r == raw and n in quarantined for n, (r, _) in enumerate(expected, 1))
            if cells is None:
                assert held, f"row {number} has the wrong shape but was loaded"
            elif not held:
                loaded[cells[0]] = cells
        for key, row in after.items():
            if key not in loaded:
                assert row == before[key], f"{key} changed, but no row of it was loaded"
                continue
            for col, cell in zip(INDIVIDUALS.columns, loaded[key]):
                if cell.strip():  # a loaded cell is a source row's cell, never a cut one
                    assert (col.name, cell) in value, f"{key}: loaded {col.name}={cell!r}, which no source row has"
                    want = value[(col.name, cell)]
                elif col.name in INDIVIDUALS.kept:  # identifying, or with a default
                    want = before[key][col.name]
                else:
                    want = None
                assert row[col.name] == want, (key, col.name, cell)

    check()
