"""The fast roads from the record into the narrow Arrow extracts (`extract`): columns filled in C,
never a Python object per value. `extract.read_tables` picks one and keeps the driver's cursor on
the run's own connection as the road for everything else, so every road must give the very
tables the cursor gives (tests/jobs/classification/test_features_extract.py holds them to it
with hostile rows).

- A SQLite file: ADBC's SQLite driver, in a child process (`read_sqlite_file`). Never in the
  run's process: ADBC brings its own SQLite library, and two in one process keep their POSIX
  locks and the WAL's shared memory apart (a CI worker died of a bus error reading beside the
  API's connections; it can corrupt the file). In a child it is SQLite's ordinary case, two
  processes. In-memory SQLite has no file a child could open: the cursor reads it.
  The driver types a column from the values of its first batch (a column NULL throughout it
  becomes int64, and a later text fails the read; a blob makes it binary) and holds later
  batches to that type. SQLite keeps whatever it was given, so the projection's casts are not
  enough: a first row of the wire types (text, 0.0, 0) goes ahead of the table's rows (`UNION
  ALL`, whose left arm SQLite reads first), and every column has one type from there on. The
  child drops that row by its first column, text no row can hold: the byte 0xFF, which is not
  UTF-8 (text that is not, a blob's, is refused as the cursor refuses it), so the row is known
  for what it is without a marker column (one cost 7% of the transactions' read). The driver's SQLite is
  newer than Python's and writes a real's digits differently (17 where the old wrote 15) when
  asked for text: only a date column can ask that, and a number is no time either way (TRY_CAST
  gives NULL), so the narrowed tables are the same.
- PostgreSQL: ADBC's PostgreSQL driver (`read_postgres`), binary COPY into Arrow on a connection
  of its own (`graph.record.adbc_postgres`: the engine's settings, one read-only snapshot). The
  transactions' bound is written into the SQL as a timestamp literal: a bound parameter would take
  the driver off COPY. Where ADBC cannot serve the engine (not installed, another driver, or it
  cannot connect where the run's connection did: its libpq has no Kerberos), COPY in CSV on the
  run's connection, parsed by Arrow's CSV reader (`read_postgres_copy`).

Both ADBC drivers are Apache-2.0 wheels pinned in pyproject.toml, with the driver compiled in:
they download nothing at run time (DuckDB's scanners would, and are not used). Errors: ADBC's
and its stream's become `StoreUnavailable` (`db_errors.map_adbc_errors`); the SQLite child's, any
at all, send the read back to the cursor, whose own errors are translated."""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import urllib.parse

import pyarrow as pa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import StoreUnavailable
from clientstrata.graph.record.adbc_postgres import open_arrow
from clientstrata.graph.record.db_errors import map_adbc_errors

from .extract import _BATCH, EXTRACTS, _narrow, _wire_schema

__all__ = ["read_sqlite_file", "read_postgres", "read_postgres_copy"]

_log = logging.getLogger(__name__)
_FIRST = {pa.string(): "''", pa.float64(): "0.0", pa.int64(): "0"}  # a value of each wire type, in SQL
_MARK = b"\xff"  # the typing row's first column: not UTF-8, so no row the child keeps holds it


def _typed(table: str, sql: str) -> str:
    """`sql` behind a first row holding a value of each wire type, its first column (every
    extract's is text) `_MARK`: the driver types every column from it (see the docstring)."""
    wire = _wire_schema(table)
    assert wire[0].type == pa.string(), table
    first = ", ".join([f"CAST(X'{_MARK.hex()}' AS TEXT)"] + [_FIRST[f.type] for f in wire][1:])
    return f"SELECT {first} UNION ALL {sql}"


def _untyped(table: str, reader) -> pa.RecordBatch:
    """The child's batches without the typing row, in the wire schema; text checked UTF-8."""
    wire = _wire_schema(table)
    first = True
    for batch in reader:
        if first:
            if batch.num_rows == 0 or batch.column(0).slice(0, 1).cast(pa.binary())[0].as_py() != _MARK:
                raise RuntimeError(f"{table}: the typing row did not come first")
            batch, first = batch.slice(1), False
        batch = batch.rename_columns(wire.names).cast(wire)
        for f, column in zip(wire, batch.columns):
            if f.type == pa.string():
                column.validate(full=True)  # a blob's bytes pass the driver unchecked
        yield batch


def _read_in_child(path: str, since: str, folder: str, batch_rows: int) -> None:
    """In the child process: every extract by ADBC, a batch at a time, narrowed, to Arrow IPC
    files in `folder`."""
    import adbc_driver_sqlite
    import adbc_driver_sqlite.dbapi as adbc

    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro"  # a '#' or '?' in a folder's name is the path's
    with adbc.connect(uri, autocommit=True) as db, db.cursor() as cursor:
        # the driver's batches are 1,024 rows unless asked: narrowing costs per batch
        cursor.adbc_statement.set_options(**{adbc_driver_sqlite.StatementOptions.BATCH_ROWS.value: str(batch_rows)})
        for table, (sql, _) in EXTRACTS.items():
            cursor.execute(_typed(table, sql.replace(":since", "?")), (since,) if ":since" in sql else ())
            got = _narrow(table, _untyped(table, cursor.fetch_record_batch()))
            with (
                pa.OSFile(os.path.join(folder, f"{table}.arrow"), "wb") as sink,
                pa.ipc.new_file(sink, got.schema) as w,
            ):
                w.write_table(got)


def read_sqlite_file(path: str, since: dt.datetime, batch_rows: int = _BATCH) -> dict[str, pa.Table]:
    """Every extract of the SQLite file at `path`, read by ADBC in a child process (see the
    docstring) and handed back as Arrow IPC files; raises whatever the child raised."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with tempfile.TemporaryDirectory(prefix="clientstrata-extract-") as folder:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            pool.submit(_read_in_child, path, since.isoformat(" "), folder, batch_rows).result()
        out = {}
        for table in EXTRACTS:
            with pa.OSFile(os.path.join(folder, f"{table}.arrow"), "rb") as f:
                out[table] = pa.ipc.open_file(f).read_all()
        return out


def read_postgres(conn: Connection, since: dt.datetime) -> dict[str, pa.Table] | None:
    """Every extract of `conn`'s PostgreSQL database by ADBC, or None where ADBC cannot serve it
    (then `read_postgres_copy` on `conn`). A failure once connected is `StoreUnavailable`."""
    try:
        adbc = open_arrow(conn.engine)
    except StoreUnavailable as exc:  # the run's connection is open: the database is there
        _log.warning("features: ADBC could not connect (%s); the extracts are read by COPY instead", exc)
        return None
    if adbc is None:
        return None
    bound = f"CAST('{since.isoformat(' ')}' AS TIMESTAMP)"  # digits, '-', ':', '.' and a space
    with adbc, map_adbc_errors(conn.engine.url), adbc.cursor() as cursor:
        out = {}
        for table, (sql, _) in EXTRACTS.items():
            cursor.execute(sql.replace(":since", bound))
            wire = _wire_schema(table)
            batches = cursor.fetch_record_batch()
            out[table] = _narrow(table, (b.rename_columns(wire.names).cast(wire) for b in batches))
        return out


class _CopyStream:
    """`COPY … TO STDOUT` as a file Arrow's CSV reader pulls blocks from: the server writes CSV
    in C, Arrow parses it in C, and no row becomes a Python tuple on the way."""

    def __init__(self, copy):
        self._chunks = iter(copy)
        self._left = memoryview(next(self._chunks, b""))  # the first block: none means no rows
        self.closed = False

    def empty(self) -> bool:
        return not self._left

    def read(self, n: int = -1) -> bytes:
        out = bytearray()
        while n < 0 or len(out) < n:
            if not self._left:
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._left = memoryview(chunk)
            take = len(self._left) if n < 0 else min(n - len(out), len(self._left))
            out += self._left[:take]
            self._left = self._left[take:]
        return bytes(out)


def read_postgres_copy(conn: Connection, table: str, since: dt.datetime) -> pa.Table:
    """One extract by COPY in CSV on `conn` (psycopg's), parsed by Arrow a block at a time with the
    extract's wire types, each block narrowed as it comes. The caller translates the driver's errors.
    NULL is CSV's unquoted empty field; an empty string arrives quoted and stays a string."""
    from pyarrow import csv

    sql, schema = EXTRACTS[table][0], _wire_schema(table)
    params = {"since": since} if ":since" in sql else None  # psycopg binds COPY's parameters itself
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(f"COPY ({sql.replace(':since', '%(since)s')}) TO STDOUT (FORMAT csv)", params) as copy:
            stream = _CopyStream(copy)
            if stream.empty():  # Arrow refuses a CSV of no bytes
                return _narrow(table, [])
            reader = csv.open_csv(
                pa.PythonFile(stream, mode="r"),
                read_options=csv.ReadOptions(column_names=schema.names, block_size=8 << 20),
                parse_options=csv.ParseOptions(newlines_in_values=True),
                convert_options=csv.ConvertOptions(
                    column_types=schema,
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,
                    true_values=["t"],
                    false_values=["f"],
                ),
            )
            return _narrow(table, reader)
    finally:
        cursor.close()
