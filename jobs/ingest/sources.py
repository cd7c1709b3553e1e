"""Readers that turn a source folder into text chunks per bundle table.

Every cell arrives as a string so validation sees exactly what the bank sent; the row
number of each line travels with it into the quarantine.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from clientstrata.graph.errors import InvalidInput

from .bundle import TABLES, Table
from .validate import ROW, SHAPE

__all__ = ["Piece", "bundle_pieces", "count_rows", "text_frame", "CHUNK_ROWS", "SHAPE"]

CHUNK_ROWS = 100_000


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
    """UTF-8, or GB18030 for extracts from Chinese core systems that were never converted."""
    with path.open("rb") as f:
        head = f.read(1 << 22)
    try:
        head.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a character cut by our read window
            return "utf-8-sig"
        return "gb18030"


def read_csv_chunks(
    path: Path, warnings: list[str], tolerant: bool = False, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """Fast pandas chunks; `tolerant` re-reads with the csv module, which hands over rows
    with the wrong number of fields (pandas raises ParserError on them) for quarantine."""
    encoding = _encoding(path)
    if encoding == "gb18030" and not tolerant:
        warnings.append(f"{path.name}: not UTF-8, read as GB18030")
    if tolerant:
        yield from _tolerant_chunks(path, encoding, chunk_rows)
        return
    start = 1
    with pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding, chunksize=chunk_rows) as reader:
        for chunk in reader:
            chunk.columns = [c.strip() for c in chunk.columns]
            chunk = chunk.fillna("")  # short rows: pandas pads them with NaN
            chunk[ROW] = range(start, start + len(chunk))
            start += len(chunk)
            yield chunk


def _tolerant_chunks(path: Path, encoding: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    with path.open(newline="", encoding=encoding) as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        rows, numbers, shape_errors = [], [], {}
        for i, rec in enumerate(reader, start=1):
            if len(rec) != len(header):
                extra = f" (extra: {rec[len(header) :]!r})" if len(rec) > len(header) else ""
                shape_errors[i] = f"row has {len(rec)} fields, the header has {len(header)}{extra}"
                rec = (rec + [""] * len(header))[: len(header)]
            rows.append(rec)
            numbers.append(i)
            if len(rows) == chunk_rows:
                yield _frame(header, rows, numbers, shape_errors)
                rows, numbers, shape_errors = [], [], {}
        if rows:
            yield _frame(header, rows, numbers, shape_errors)


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


def bundle_pieces(folder: Path) -> tuple[list[Piece], list[str]]:
    """The pieces of a ClientStrata bundle folder, in load order (parents first)."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder; a bundle is a folder of <table>.csv files")
    pieces, warnings = [], []
    known = set()
    for table in TABLES:
        for ext in (".parquet", ".csv"):
            path = folder / f"{table.name}{ext}"
            if path.exists():
                known.add(path.name)
                pieces.append(Piece(table, path.name, path=path, rows=count_rows(path)))
                break
    for path in sorted(folder.iterdir()):
        if path.name not in known and not path.name.startswith(("_", ".")):
            warnings.append(f"{path.name}: not a bundle file, ignored")
    if not pieces:
        names = ", ".join(t.name + ".csv" for t in TABLES[:4])
        raise InvalidInput(f"no bundle files in {folder}: expected files such as {names}, …")
    return pieces, warnings


def text_frame(text: str) -> pd.DataFrame:
    """A CSV string as a text chunk (for adapters and tests)."""
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    df[ROW] = range(1, len(df) + 1)
    return df
