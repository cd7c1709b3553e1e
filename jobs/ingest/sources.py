"""Readers that turn a source folder into text chunks per bundle table.

Every cell arrives as a string so validation sees exactly what the bank sent; the row
number of each line travels with it into the quarantine. A CSV file is checked first: a fast
reader reads it only if every row fits the header and every byte decodes, the tolerant reader
otherwise, so a damaged row is quarantined instead of padded, shifted or fatal. The fast reader
is Arrow's for a UTF-8 file without quotes (what core systems' extracts are), pandas' for the
rest; both give the same frames.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from clientstrata.graph.errors import InvalidInput

from .bundle import TABLES, Table
from .validate import ROW, SHAPE

__all__ = ["Piece", "bundle_pieces", "count_rows", "text_frame", "CHUNK_ROWS", "SHAPE"]

CHUNK_ROWS = 100_000
_SCAN_BYTES = 1 << 24  # bytes per block of the shape check


@dataclass
class Piece:
    """One source file feeding one table. Adapters hand over `frames` they built; bundle
    files are read lazily from `path`. `derived` rows were made by an adapter, not read."""

    table: Table
    source_file: str
    path: Path | None = None
    frames: list[pd.DataFrame] | None = None
    rows: int = 0
    derived: bool = False

    def chunks(
        self, warnings: list[str], tolerant: bool = False, chunk_rows: int = CHUNK_ROWS
    ) -> Iterator[pd.DataFrame]:
        if self.frames is not None:
            return iter(self.frames)
        if self.path.suffix == ".parquet":
            return _read_parquet_chunks(self.path, chunk_rows)
        return read_csv_chunks(self.path, warnings, tolerant, chunk_rows)


def count_rows(path: Path) -> int:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    # Lines minus the header; a quoted field with a newline over-counts, which only
    # affects the progress bar's total.
    with path.open("rb") as f:
        n = sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 20), b""))
        f.seek(max(0, path.stat().st_size - 1))
        last = f.read(1)
    return max(0, n - 1 + (1 if last not in (b"\n", b"") else 0))


def _encoding(path: Path) -> str:
    """UTF-8, or GB18030 for extracts from Chinese core systems that were never converted. Read as
    UTF-8, GB18030 text is mostly bytes that do not decode (two or more for each character that
    does); a UTF-8 file with a few damaged bytes stays UTF-8 and only the rows holding them are
    quarantined: read as GB18030, every name in it would be garbled."""
    with path.open("rb") as f:
        head = f.read(1 << 22)
    text = head.decode("utf-8", errors="replace")
    damaged = text.count("\ufffd")
    decoded = len(text) - len(text.encode("ascii", errors="ignore")) - damaged  # characters beyond ASCII
    return "gb18030" if damaged * 4 > decoded else "utf-8-sig"


def _label(encoding: str) -> str:
    return "GB18030" if encoding == "gb18030" else "UTF-8"


def _shape(path: Path, encoding: str) -> str | None:
    """How the file may be read: None when it must go to the tolerant reader (a row that does not
    have the header's number of fields, a byte that does not decode); "plain" when it holds no
    quote, no NUL and no line of only spaces, which Arrow's reader splits exactly as pandas does;
    "quoted" otherwise, for pandas. pandas pads a short row with empty cells (which would then
    load as blanks), reads a long first row as an index (shifting every row) and stops the ingest
    at a byte that does not decode; the tolerant reader quarantines such rows instead. The check
    reads the file once more at a small cost per row: unquoted text is scanned as bytes."""
    decode = codecs.getincrementaldecoder(encoding)().decode
    width = None  # the header's
    plain = True

    def fit(lines: bytes) -> bool:
        nonlocal width, plain
        found = _widths(lines)
        if found is None:
            return False
        widths, spaced = found
        plain = plain and not spaced and b"\0" not in lines
        if width is None and len(widths):
            width = widths[0]
        return not (widths != width).any()

    rest = b""
    try:
        with path.open("rb") as f:
            while block := f.read(_SCAN_BYTES):
                decode(block)
                if b'"' in block:  # quoted fields may hold commas and line breaks: parse them
                    return "quoted" if _quoted_rows_fit(path, encoding) else None
                lines = rest + block
                end = lines.rfind(b"\n") + 1
                if not fit(lines[:end]):
                    return None
                rest = lines[end:]
            decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    if rest and not fit(rest + b"\n"):  # the last line, when it has no line end
        return None
    return "plain" if plain else "quoted"


def _widths(lines: bytes) -> tuple[np.ndarray, bool] | None:
    """Fields per non-blank line of `lines` (text without quotes, each line ending in a line
    feed), vectorised, and whether a blank line holds spaces; None if a carriage return ends a
    line on its own (pandas and the csv module read it as a line break)."""
    a = np.frombuffer(lines, dtype=np.uint8)
    ends = np.flatnonzero(a == 10)
    if b"\r" in lines and np.isin(np.flatnonzero(a == 13) + 1, ends, invert=True).any():
        return None
    widths = np.diff(np.searchsorted(np.flatnonzero(a == 44), ends), prepend=0) + 1
    # a line with no comma may be blank (pandas skips lines of whitespace): look at those only
    starts = np.concatenate(([0], ends[:-1] + 1))
    blank = [i for i in np.flatnonzero(widths == 1) if not lines[starts[i] : ends[i]].strip()]
    spaced = any(lines[starts[i] : ends[i]] not in (b"", b"\r") for i in blank)
    return np.delete(widths, blank), spaced


def _quoted_rows_fit(path: Path, encoding: str) -> bool:
    """The field counts of a file with quoted fields, from the csv module's parse (the tolerant
    reader's own), counted in C; and, only if some row runs over several lines, whether a quote
    left open swallowed whole rows into one of its fields."""
    with path.open(newline="", encoding=encoding) as f:
        reader = csv.reader(f)
        width = len(next(reader, []))
        counts = Counter(map(len, reader))
        if not set(counts) <= {width, 0}:  # 0: a blank line
            return False
        if reader.line_num == 1 + sum(counts.values()):  # one line per row
            return True
    with path.open(newline="", encoding=encoding) as f:
        return not any(_swallows(rec, width) for rec in csv.reader(f))


def _swallows(rec: list[str], width: int) -> bool:
    """Whether a row read over several lines holds a line that is a row of its own (as many
    fields as the header): a quote left open read the following rows into this one. A value
    with a line break of its own (an address) leaves fewer fields after its break, unless it is
    the first, an identifier."""
    return any(line.count(",") >= width - 1 for line in ",".join(rec).split("\n")[1:])


def _swallowed(start: int, end: int) -> str:
    return f"a quote opened in line {start} is not closed before line {end}: lines {start + 1}–{end} are read into this row"


def read_csv_chunks(
    path: Path, warnings: list[str], tolerant: bool = False, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """Fast pandas chunks for a regular file; the tolerant reader (the csv module) for a file with
    a row of the wrong number of fields or bytes that do not decode: it hands those rows over for
    quarantine, where pandas would pad, shift or stop."""
    encoding = _encoding(path)
    if encoding == "gb18030" and not tolerant:
        warnings.append(f"{path.name}: not UTF-8, read as GB18030")
    shape = None if tolerant else _shape(path, encoding)
    if not tolerant and shape is None:
        warnings.append(f"{path.name}: malformed rows, read with the tolerant reader")
        tolerant = True
    if tolerant:
        yield from _tolerant_chunks(path, encoding, chunk_rows)
    elif shape == "plain" and encoding == "utf-8-sig" and (header := _plain_header(path)):
        yield from _arrow_chunks(path, header, chunk_rows)
    else:
        yield from _pandas_chunks(path, encoding, chunk_rows)


def _pandas_chunks(path: Path, encoding: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    start = 1
    with pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding, chunksize=chunk_rows) as reader:
        for chunk in reader:
            chunk.columns = [c.strip() for c in chunk.columns]
            chunk = chunk.fillna("")  # a guard: with keep_default_na=False pandas gives "" for empty
            chunk[ROW] = range(start, start + len(chunk))
            start += len(chunk)
            yield chunk


def _plain_header(path: Path) -> list[str] | None:
    """A plain file's column names, or None when pandas would rename one (an empty or a repeated
    name: "Unnamed: 2", "name.1"), which Arrow's reader would not, or when nothing follows the
    header (Arrow's reader refuses a header with no line end)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        names = f.readline().removesuffix("\n").removesuffix("\r").split(",")
        rows = f.read(1) != ""
    return names if rows and all(names) and len(set(names)) == len(names) else None


def _arrow_chunks(path: Path, header: list[str], chunk_rows: int) -> Iterator[pd.DataFrame]:
    """A plain file (`_shape`) by Arrow's reader, in C++ on every core and straight into the
    Arrow strings pandas keeps text in: the frames pandas' parser gives (a property test holds
    them equal) at about a sixth of its CPU, which built Python strings first and then copied
    them into Arrow. Cut into chunks of `chunk_rows`, as pandas' are."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 22),
        parse_options=pacsv.ParseOptions(quote_char=False),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False
        ),
    )
    names = [c.strip() for c in header]
    start, held, count = 1, [], 0

    def frame(table: pa.Table) -> pd.DataFrame:
        nonlocal start
        chunk = table.rename_columns(names).to_pandas()
        chunk.index = pd.RangeIndex(start - 1, start - 1 + len(chunk))  # numbered on, as pandas' chunks
        chunk[ROW] = range(start, start + len(chunk))
        start += len(chunk)
        return chunk

    for batch in reader:
        held.append(batch)
        count += batch.num_rows
        while count >= chunk_rows:
            table = pa.Table.from_batches(held, schema=reader.schema)
            yield frame(table.slice(0, chunk_rows))
            rest = table.slice(chunk_rows)
            held, count = rest.to_batches(), rest.num_rows
    if count or start == 1:  # pandas gives a file of blank lines one empty frame
        yield frame(pa.Table.from_batches(held, schema=reader.schema))


def _tolerant_chunks(path: Path, encoding: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Rows numbered as pandas numbers them (blank lines skipped); a row with the wrong number of
    fields or with bytes that do not decode (read as U+FFFD) carries its reason in SHAPE."""
    damaged = f"bytes that are not {_label(encoding)}: a damaged or cut file"
    with path.open(newline="", encoding=encoding, errors="replace") as f:
        records = _records(csv.reader(f))
        header = [h.strip() for h in next(records, ([], 0, 0))[0]]
        rows, numbers, shape_errors = [], [], {}
        for i, (rec, start, end) in enumerate(records, start=1):
            errors = []
            if end > start and (len(rec) != len(header) or _swallows(rec, len(header))):
                errors.append(_swallowed(start, end))
            if len(rec) != len(header):
                extra = f" (extra: {rec[len(header) :]!r})" if len(rec) > len(header) else ""
                errors.append(f"row has {len(rec)} fields, the header has {len(header)}{extra}")
                rec = (rec + [""] * len(header))[: len(header)]
            if any("\ufffd" in v for v in rec):
                errors.append(damaged)
            if errors:
                shape_errors[i] = "; ".join(errors)
            rows.append(rec)
            numbers.append(i)
            if len(rows) == chunk_rows:
                yield _frame(header, rows, numbers, shape_errors)
                rows, numbers, shape_errors = [], [], {}
        if rows:
            yield _frame(header, rows, numbers, shape_errors)


def _records(reader) -> Iterator[tuple[list[str], int, int]]:
    """(fields, first line, last line) of each row; blank lines are not rows (pandas skips them
    too)."""
    end = 0
    for rec in reader:
        start, end = end + 1, reader.line_num
        if rec and (len(rec) > 1 or rec[0].strip()):
            yield rec, start, end


def _frame(header: list[str], rows: list[list[str]], numbers: list[int], errors: dict) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=header, dtype=str)
    df[ROW] = numbers
    df[SHAPE] = [errors.get(n, "") for n in numbers]
    return df


def _read_parquet_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    start = 1
    for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
        df = batch.to_pandas()
        for col in df.columns:
            s = df[col]
            if pd.api.types.is_datetime64_any_dtype(s):
                text = s.dt.strftime("%Y-%m-%dT%H:%M:%S").str.removesuffix("T00:00:00")
            else:
                text = s.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
            df[col] = text.where(s.notna(), "")
        df[ROW] = range(start, start + len(df))
        start += len(df)
        yield df


def _refusal(table: Table, path: Path) -> str | None:
    """Why a bundle file holds nothing to read, or None: the one line that refuses it while the
    rest of the bundle loads (a zero-byte file stopped the whole ingest in pandas)."""
    if path.stat().st_size == 0:
        return f"{path.name} is empty (0 bytes)"
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            pq.ParquetFile(path)
        except Exception:  # pyarrow says ArrowInvalid or OSError, by version and damage
            return f"{path.name} is not a readable Parquet file"
        return None
    with path.open(newline="", encoding=_encoding(path), errors="replace") as f:
        header = next(_records(csv.reader(f)), ([], 0, 0))[0]
    if not {h.strip() for h in header} & set(table.column_names):
        return f"{path.name} has no header row: its first line names none of the columns of {table.name}"
    return None


def bundle_pieces(folder: Path) -> tuple[list[Piece], list[str]]:
    """The pieces of a ClientStrata bundle folder, in load order (parents first); a file with
    nothing to read is refused in a warning of its own (`refused: …`)."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder; a bundle is a folder of <table>.csv files")
    pieces, warnings = [], []
    known = set()
    for table in TABLES:
        for ext in (".parquet", ".csv"):
            path = folder / f"{table.name}{ext}"
            if path.exists():
                known.add(path.name)
                if refusal := _refusal(table, path):
                    warnings.append(f"refused: {refusal}")
                else:
                    pieces.append(Piece(table, path.name, path=path, rows=count_rows(path)))
                break
    for path in sorted(folder.iterdir()):
        if path.name not in known and not path.name.startswith(("_", ".")):
            warnings.append(f"{path.name}: not a bundle file, ignored")
    if not pieces:
        refused = [w for w in warnings if w.startswith("refused: ")]
        if refused:
            raise InvalidInput(f"nothing to ingest in {folder}: " + "; ".join(refused))
        names = ", ".join(t.name + ".csv" for t in TABLES[:4])
        raise InvalidInput(f"no bundle files in {folder}: expected files such as {names}, …")
    return pieces, warnings


def text_frame(text: str) -> pd.DataFrame:
    """A CSV string as a text chunk (for adapters and tests)."""
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    df[ROW] = range(1, len(df) + 1)
    return df
