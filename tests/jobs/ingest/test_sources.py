"""The CSV readers: a regular file is read fast (Arrow's reader without quotes, pandas' with them,
the same frames); a file with a row of the wrong number of fields or bytes that do not decode goes
to the tolerant reader, which numbers rows the same way and hands the bad ones over with their
reason."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientstrata.jobs.ingest import sources
from clientstrata.jobs.ingest.sources import read_csv_chunks
from clientstrata.jobs.ingest.validate import ROW, SHAPE

HEADER = "branch_id,name,region,city"


def _read(path: Path, tolerant: bool = False, chunk_rows: int = 2) -> tuple[pd.DataFrame, list[str]]:
    warnings: list[str] = []
    frame = pd.concat(list(read_csv_chunks(path, warnings, tolerant, chunk_rows)), ignore_index=True)
    return frame, warnings


def _file(tmp_path: Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / "branches.csv"
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def _shapes(frame: pd.DataFrame) -> dict[int, str]:
    if SHAPE not in frame:
        return {}
    return {int(r): s for r, s in zip(frame[ROW], frame[SHAPE]) if s}


@pytest.mark.parametrize(
    "text",
    [
        f"{HEADER}\nB1,东城,华北,北京\nB2,西城,华东,上海\n",
        f"{HEADER}\r\nB1,东城,华北,北京\r\nB2,西城,华东,上海",  # CRLF, no line end at the end
        f"{HEADER}\nB1,东城,华北,北京\n\n  \nB2,西城,华东,上海\n\n",  # blank lines are no rows
        f'{HEADER}\nB1,"东城, 一部",华北,北京\nB2,"西城\n二部",华东,"上海"\n',  # quoted commas, line breaks
        f"{HEADER}\nB1,东城,,\nB2,,,\n",  # empty cells are not missing fields
    ],
)
def test_a_regular_file_is_read_by_the_fast_reader(tmp_path, text):
    frame, warnings = _read(_file(tmp_path, text))
    assert warnings == [] and SHAPE not in frame
    assert frame[ROW].tolist() == [1, 2] and frame["branch_id"].tolist() == ["B1", "B2"]


@pytest.mark.parametrize(
    "text, shapes",
    [
        (f"{HEADER}\nB1,东城,华北\nB2,西城,华东,上海\n", {1: "row has 3 fields, the header has 4"}),
        (
            f"{HEADER}\nB1,东城,华北,北京,x\nB2,西城,华东,上海\n",
            {1: "row has 5 fields, the header has 4 (extra: ['x'])"},
        ),
        (f'{HEADER}\nB1,"东城, 一部",华北\nB2,西城,华东,上海\n', {1: "row has 3 fields, the header has 4"}),
        (f"{HEADER}\nB1,东城,华北,北京\n\nB2,西城,华东,上海\nB3,南城", {3: "row has 2 fields, the header has 4"}),
    ],
)
def test_a_row_of_the_wrong_width_sends_the_file_to_the_tolerant_reader(tmp_path, text, shapes):
    frame, warnings = _read(_file(tmp_path, text))
    assert warnings == ["branches.csv: malformed rows, read with the tolerant reader"]
    assert _shapes(frame) == shapes


def test_both_readers_number_rows_alike(tmp_path):
    """Blank lines are skipped by both, so a row's number does not depend on which reader read it."""
    path = _file(tmp_path, f"{HEADER}\n\nB1,东城,华北,北京\n \nB2,西城,华东,上海\n\nB3,南城,华南,广州\n")
    fast, _ = _read(path)
    tolerant, _ = _read(path, tolerant=True)
    assert fast[ROW].tolist() == tolerant[ROW].tolist() == [1, 2, 3]
    assert fast["name"].tolist() == tolerant["name"].tolist()
    assert _shapes(tolerant) == {}


def test_a_lone_carriage_return_is_a_line_break_for_the_tolerant_reader(tmp_path):
    frame, warnings = _read(_file(tmp_path, f"{HEADER}\rB1,东城,华北,北京\rB2,西城,华东,上海\r"))
    assert frame["branch_id"].tolist() == ["B1", "B2"] and _shapes(frame) == {}


def test_gb18030_is_read_as_gb18030(tmp_path):
    frame, warnings = _read(_file(tmp_path, f"{HEADER}\nB1,东城支行,华北,北京\nB2,西城支行,华东,上海\n", "gb18030"))
    assert warnings == ["branches.csv: not UTF-8, read as GB18030"]
    assert frame["name"].tolist() == ["东城支行", "西城支行"]


def test_a_damaged_byte_in_utf8_quarantines_its_row_and_garbles_no_other(tmp_path):
    good = f"{HEADER}\nB1,东城支行,华北,北京\n".encode()
    damaged = "B2,西城支行,华东,上海\n".encode().replace("城".encode(), "城".encode()[:2])
    frame, warnings = _read(_file(tmp_path, good + damaged + "B3,南城支行,华南,广州\n".encode()))
    assert warnings == ["branches.csv: malformed rows, read with the tolerant reader"]
    assert _shapes(frame) == {2: "bytes that are not UTF-8: a damaged or cut file"}
    assert frame.loc[frame[ROW] != 2, "name"].tolist() == ["东城支行", "南城支行"]


def test_a_damaged_byte_in_gb18030_quarantines_its_row(tmp_path):
    text = f"{HEADER}\nB1,东城支行,华北,北京\nB2,西城支行,华东,上海\n".encode("gb18030")
    cut = text.replace("西".encode("gb18030"), "西".encode("gb18030")[:1] + b"\xff")
    frame, _ = _read(_file(tmp_path, cut))
    assert _shapes(frame) == {2: "bytes that are not GB18030: a damaged or cut file"}
    assert frame.loc[0, "name"] == "东城支行"


# --- files with nothing to read are refused, one line each ------------------------------------


def _pieces(tmp_path: Path, files: dict[str, bytes]):
    from clientstrata.jobs.ingest.sources import bundle_pieces

    folder = tmp_path / "bundle"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return bundle_pieces(folder)


BRANCHES = f"{HEADER}\nB1,东城,华北,北京\n".encode()


@pytest.mark.parametrize(
    "name, data, refusal",
    [
        ("individuals.csv", b"", "refused: individuals.csv is empty (0 bytes)"),
        ("individuals.parquet", b"", "refused: individuals.parquet is empty (0 bytes)"),
        (
            "individuals.csv",
            "C1,张三,M,1990-01-02\nC2,李四,F,1991-02-03\n".encode(),
            "refused: individuals.csv has no header row: its first line names none of the columns of individuals",
        ),
        ("individuals.parquet", b"PAR1 cut", "refused: individuals.parquet is not a readable Parquet file"),
    ],
)
def test_a_file_with_nothing_to_read_is_refused_and_the_others_load(tmp_path, name, data, refusal):
    pieces, warnings = _pieces(tmp_path, {"branches.csv": BRANCHES, name: data})
    assert [p.table.name for p in pieces] == ["branches"]
    assert warnings == [refusal]


def test_a_bundle_of_refused_files_only_says_so(tmp_path):
    from clientstrata.graph.errors import InvalidInput

    with pytest.raises(InvalidInput, match="refused: branches.csv is empty"):
        _pieces(tmp_path, {"branches.csv": b""})


def test_a_header_only_file_is_read_as_no_rows(tmp_path):
    pieces, warnings = _pieces(tmp_path, {"branches.csv": f"{HEADER}\n".encode()})
    assert [p.table.name for p in pieces] == ["branches"] and warnings == []


# --- an unclosed quote swallows lines: reported with the lines, not as fewer rows -------------


def test_an_unclosed_quote_that_swallows_the_rest_of_the_file_names_the_lines(tmp_path):
    text = f'{HEADER}\nB1,东城,华北,北京\nB2,"西城,华东,上海\nB3,南城,华南,广州\nB4,北城,华北,天津\n'
    frame, _ = _read(_file(tmp_path, text))
    assert frame[ROW].tolist() == [1, 2]
    assert (
        "a quote opened in line 3 is not closed before line 5: lines 4–5 are read into this row" in (_shapes(frame)[2])
    )


def test_a_quote_that_swallows_rows_and_still_fits_the_header_is_caught(tmp_path):
    """The stray quote closes three lines later in the same column: the record has the header's
    four fields, so neither the shape check nor pandas saw the two rows it swallowed."""
    text = (
        f'{HEADER}\nB1,东城,华北,北京\nB2,"西城,华东,上海\nB3,南城,华南,广州\nB4,北城",华北,天津\nB5,中城,华中,武汉\n'
    )
    frame, warnings = _read(_file(tmp_path, text))
    assert frame[ROW].tolist() == [1, 2, 3]
    assert _shapes(frame) == {
        2: "a quote opened in line 3 is not closed before line 5: lines 4–5 are read into this row"
    }
    assert frame["branch_id"].tolist()[2] == "B5"


def test_a_quoted_line_break_in_a_value_is_not_a_swallowed_row(tmp_path):
    text = f'{HEADER}\nB1,"东城\n一部",华北,北京\nB2,西城,华东,上海\n'
    frame, warnings = _read(_file(tmp_path, text))
    assert _shapes(frame) == {} and warnings == []


# --- a plain file (no quote) is read by Arrow's reader, into the frames pandas gives -----------

_cell = st.text(st.characters(blacklist_characters=',"\n\r\x00', blacklist_categories=("Cs",)), max_size=6)


@st.composite
def _plain_files(draw):
    width = draw(st.integers(1, 5))
    name = st.builds(str.__add__, st.sampled_from(["", " "]), st.text("abcxyz_数", min_size=1, max_size=4))
    names = draw(st.lists(name, min_size=width, max_size=width, unique=True))
    rows = draw(st.lists(st.lists(_cell, min_size=width, max_size=width), max_size=25))
    lines = [",".join(names)]
    for row in rows:
        line = ",".join(row)
        if line.strip() == "" and width == 1:  # a blank line is no row: not a row of one empty cell
            continue
        lines.append(line)
        lines += [draw(st.sampled_from(["", " ", "\t"]))] * draw(st.integers(0, 1))  # blank lines
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join(lines) + draw(st.sampled_from(["", end]))
    return draw(st.sampled_from(["", "\ufeff"])) + text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_plain_files(), chunk_rows=st.integers(1, 7))
def test_a_file_without_quotes_reads_as_pandas_reads_it(tmp_path, text, chunk_rows):
    path = _file(tmp_path, text)
    encoding = sources._encoding(path)
    expected = list(sources._pandas_chunks(path, encoding, chunk_rows))
    warnings: list[str] = []
    got = list(read_csv_chunks(path, warnings, chunk_rows=chunk_rows))
    assert warnings == [] and len(got) == len(expected)
    for g, e in zip(got, expected):
        pd.testing.assert_frame_equal(g, e)
    spaced = any(line.strip() == "" and line not in ("", "\r") for line in text.split("\n")[1:])
    assert sources._shape(path, encoding) == ("quoted" if spaced else "plain")
