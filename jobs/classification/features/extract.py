"""The record's tables as Arrow, projected to the columns the feature definitions read, and
narrowed to the types the definitions compute on.

One projection per table, in SQL both SQLite and PostgreSQL run unchanged. The SQL still asks for
dates and times as text (the one form both databases give alike, and what SQLite holds), flags as
integers and amounts as doubles; each batch is then narrowed as it arrives (`_narrow`), before
the next is read, so a table is never held as text:

- dates and times become `timestamp[us]`, parsed by DuckDB's `TRY_CAST(… AS TIMESTAMP)` — the
  very cast the definitions applied to the text before, so a NULL, a malformed value (SQLite
  keeps whatever text it was given), a time of day in a date column or 'infinity' gives the same
  feature it gave then. Dates stay timestamps, not `date32`: a date column's text may carry a
  time of day, which the age, the tenure and the questionnaire order count; the columns are
  small (the year's transactions are the only large table, and it has no date);
- codes and ids repeated across rows (channel, currency, direction, country, status, family,
  region, role, product, the transactions' and balances' account) become dictionary-encoded
  strings, with one sorted dictionary per column (the same table whatever road read it) and the
  narrowest index that holds it;
- flags become int8 0/1 (NULL stays NULL), which is all `COALESCE(flag, 0) <> 0` reads.

At 1M customers the year's 43M transactions were 3.8 GB of Arrow as text, most of the 4.8 GB the
run held beside DuckDB's query; narrowed, the extracts are a third of that (docs/benchmarks.md,
"Narrow extracts"). The text still crosses from the database: the fetch costs what it did. The same narrow
tables are the Parquet extracts a cluster reads (`write_parquet`): Parquet keeps the timestamps,
the dictionaries and the small integers, so DuckDB here and Spark there see the same tables.

How the rows arrive (`read_tables`): through ADBC where the record allows it — PostgreSQL by
binary COPY, a SQLite file of 64 MB or more in a child process — and otherwise through the
driver's cursor on the run's own connection, the reference every road is held equal to; `roads`
says why each road is where it is and what keeps its tables the cursor's.

Why Arrow and not DuckDB's scanners: the sqlite and postgres scanners are extensions DuckDB
downloads at run time, which a bank's servers must not do; the ADBC drivers are pinned wheels
with the driver compiled in, and the cursor needs nothing at all. PII stays behind:
`individuals.id_number` leaves the database only as the flag `has_id_number`."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import Connection

from clientstrata.graph.record.db_errors import map_db_errors

__all__ = ["EXTRACTS", "CHILD_READ_MIN_BYTES", "KINDS", "read_tables", "write_parquet"]

# A column's kind: how it travels from the database (`_WIRE`) and what it is narrowed to.
# key: an id unique in its table (or nearly), kept a plain string; code: a value repeated across
# rows, dictionary-encoded; time: a date or time, text on the wire, a timestamp once parsed;
# flag: a boolean, an integer on the wire, int8 once narrowed; num: a double.
KEY, CODE, TIME, FLAG, NUM = "key", "code", "time", "flag", "num"
KINDS = (KEY, CODE, TIME, FLAG, NUM)
_WIRE = {KEY: pa.string(), CODE: pa.string(), TIME: pa.string(), FLAG: pa.int64(), NUM: pa.float64()}
_TIMESTAMP = pa.timestamp("us")  # DuckDB's TIMESTAMP as Arrow gives and takes it
_log = logging.getLogger(__name__)

# table -> (projection SQL, (column name, kind) in SELECT order). `:since` bounds the transactions
# to the year the features count (the definitions bound them again, so a full extract also works).
EXTRACTS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "individuals": (
        """SELECT customer_id, CAST(birth_date AS TEXT), gender, occupation,
                  CAST(annual_income AS DOUBLE PRECISION), CAST(credit_score AS DOUBLE PRECISION),
                  CAST(is_pep AS INTEGER), CASE WHEN id_number IS NOT NULL THEN 1 ELSE 0 END,
                  CAST(onboarded_on AS TEXT), branch_id FROM individuals""",
        (
            ("customer_id", KEY),
            ("birth_date", TIME),
            ("gender", CODE),
            ("occupation", CODE),
            ("annual_income", NUM),
            ("credit_score", NUM),
            ("is_pep", FLAG),
            ("has_id_number", FLAG),
            ("onboarded_on", TIME),
            ("branch_id", CODE),
        ),
    ),
    "branches": ("SELECT branch_id, region FROM branches", (("branch_id", KEY), ("region", CODE))),
    "households": ("SELECT household_id, status FROM households", (("household_id", KEY), ("status", CODE))),
    "household_members": (
        "SELECT household_id, customer_id, role FROM household_members",
        (("household_id", KEY), ("customer_id", KEY), ("role", CODE)),
    ),
    "products": (
        "SELECT product_id, family, risk_level FROM products",
        (("product_id", KEY), ("family", CODE), ("risk_level", CODE)),
    ),
    "accounts": (
        """SELECT account_id, owner_type, owner_id, product_id, currency, CAST(opened_on AS TEXT), status,
                  CAST(balance AS DOUBLE PRECISION) FROM accounts""",
        (
            ("account_id", KEY),
            ("owner_type", CODE),
            ("owner_id", KEY),
            ("product_id", CODE),
            ("currency", CODE),
            ("opened_on", TIME),
            ("status", CODE),
            ("balance", NUM),
        ),
    ),
    "balances_monthly": (
        "SELECT account_id, month, CAST(avg_daily_balance AS DOUBLE PRECISION) FROM balances_monthly",
        (("account_id", CODE), ("month", CODE), ("avg_daily_balance", NUM)),
    ),
    "loans": (
        """SELECT account_id, status, CAST(principal AS DOUBLE PRECISION), CAST(outstanding AS DOUBLE PRECISION),
                  CAST(monthly_payment AS DOUBLE PRECISION), CAST(term_months AS DOUBLE PRECISION),
                  CAST(days_past_due AS DOUBLE PRECISION) FROM loans""",
        (
            ("account_id", KEY),
            ("status", CODE),
            ("principal", NUM),
            ("outstanding", NUM),
            ("monthly_payment", NUM),
            ("term_months", NUM),
            ("days_past_due", NUM),
        ),
    ),
    "cards": ("SELECT holder_id FROM cards", (("holder_id", KEY),)),
    "account_holders": (
        "SELECT account_id, customer_id, role FROM account_holders",
        (("account_id", KEY), ("customer_id", KEY), ("role", CODE)),
    ),
    "risk_questionnaires": (
        """SELECT customer_id, CAST(assessed_on AS TEXT), CAST(score AS DOUBLE PRECISION), risk_level,
                  CAST(valid_until AS TEXT), CAST(is_professional AS INTEGER) FROM risk_questionnaires""",
        (
            ("customer_id", KEY),
            ("assessed_on", TIME),
            ("score", NUM),
            ("risk_level", CODE),
            ("valid_until", TIME),
            ("is_professional", FLAG),
        ),
    ),
    "employment": (
        "SELECT customer_id, enterprise_id, CAST(payroll AS INTEGER), CAST(monthly_salary AS DOUBLE PRECISION) "
        "FROM employment",
        (("customer_id", KEY), ("enterprise_id", KEY), ("payroll", FLAG), ("monthly_salary", NUM)),
    ),
    "enterprises": ("SELECT enterprise_id, industry FROM enterprises", (("enterprise_id", KEY), ("industry", CODE))),
    "enterprise_control": (
        "SELECT customer_id, enterprise_id FROM enterprise_control",
        (("customer_id", KEY), ("enterprise_id", KEY)),
    ),
    "supply_chain": ("SELECT supplier_id, buyer_id FROM supply_chain", (("supplier_id", KEY), ("buyer_id", KEY))),
    "transactions": (
        """SELECT account_id, CAST(booked_at AS TEXT), direction, CAST(amount AS DOUBLE PRECISION), currency,
                  channel, CAST(is_cash AS INTEGER), counterparty_country FROM transactions
           WHERE booked_at >= :since""",
        (
            ("account_id", CODE),
            ("booked_at", TIME),
            ("direction", CODE),
            ("amount", NUM),
            ("currency", CODE),
            ("channel", CODE),
            ("is_cash", FLAG),
            ("counterparty_country", CODE),
        ),
    ),
}

# the names the definitions read, in SELECT order (the projections compute some of them)
_NAMES = {t: tuple(n for n, _ in cols) for t, (_, cols) in EXTRACTS.items()}

_BATCH = 250_000  # rows per Arrow batch: memory follows the batch, not the table
# Rows are read through the driver's cursor on the run's connection (its transaction, its
# snapshot): SQLAlchemy's result rows cost several times the fetch itself.


def _wire_schema(table: str) -> pa.Schema:
    """The extract as the database sends it: text for times, int64 flags, plain strings."""
    return pa.schema([pa.field(n, _WIRE[k]) for n, k in EXTRACTS[table][1]])


@functools.cache
def _parser():
    """One in-memory DuckDB per process, configured as the features engine's (no extension is
    fetched or loaded, so `TRY_CAST` reads text exactly as it did in the definitions), on one
    thread. It holds nothing: each narrowing takes a cursor of its own (a connection of its own,
    safe beside other threads'); opening a database costs a few tenths of a second, a cursor none."""
    import duckdb

    return duckdb.connect(
        ":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False, "threads": 1}
    )


def _duckdb():
    return _parser().cursor()


def _width(n: int) -> pa.DataType:
    return pa.int8() if n <= 127 else pa.int16() if n <= 32_767 else pa.int32()


def _canonical(chunks: list[pa.DictionaryArray]) -> pa.ChunkedArray:
    """Per-batch dictionaries made one sorted dictionary, indexed by the narrowest integer that
    holds it: the same column whatever batches it arrived in (every road gives equal tables)."""
    every = pa.concat_arrays([c.dictionary for c in chunks]) if chunks else pa.array([], pa.string())
    values = pc.unique(every)
    values = values.take(pc.sort_indices(values))
    width = _width(len(values))
    where = pc.index_in(every, value_set=values)  # one hash of the values for every chunk's dictionary
    out, start = [], 0
    for c in chunks:
        moved = where.slice(start, len(c.dictionary))
        start += len(c.dictionary)
        out.append(pa.DictionaryArray.from_arrays(moved.take(c.indices).cast(width), values))
    return pa.chunked_array(out, pa.dictionary(width, pa.string()))


def _narrow(table: str, batches: Iterable[pa.RecordBatch]) -> pa.Table:
    """The wire batches of `table` as the narrow table the definitions read (see the docstring)."""
    cols = EXTRACTS[table][1]
    times = [n for n, k in cols if k == TIME]
    parse = "SELECT " + ", ".join(f'TRY_CAST("{n}" AS TIMESTAMP) AS "{n}"' for n in times) + " FROM wire"
    db = _duckdb() if times else None
    narrowed: dict[str, list[pa.Array]] = {n: [] for n, _ in cols}
    try:
        for batch in batches:
            parsed = None
            if times:
                db.register("wire", pa.Table.from_batches([batch.select(times)]))
                parsed = db.sql(parse).to_arrow_table()
                db.unregister("wire")
            for (name, kind), arr in zip(cols, batch.columns):
                if kind == CODE:
                    arr = pc.dictionary_encode(arr)
                elif kind == FLAG:
                    arr = pc.not_equal(arr, 0).cast(pa.int8())
                elif kind == TIME:
                    arr = parsed.column(name).combine_chunks().cast(_TIMESTAMP)
                narrowed[name].append(arr)
    finally:
        if db is not None:
            db.close()
    columns, fields = [], []
    for name, kind in cols:
        if kind == CODE:
            col = _canonical(narrowed[name])
        else:
            col = pa.chunked_array(narrowed[name], _narrow_type(kind))
        columns.append(col)
        fields.append(pa.field(name, col.type))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _narrow_type(kind: str) -> pa.DataType:
    return {KEY: pa.string(), TIME: _TIMESTAMP, FLAG: pa.int8(), NUM: pa.float64()}[kind]


def _read(conn: Connection, table: str, since: dt.datetime) -> pa.Table:
    sql, schema = EXTRACTS[table][0], _wire_schema(table)
    params: dict = {}
    if ":since" in sql:  # the driver's own parameter style: rows go through its cursor, not SQLAlchemy's
        if conn.dialect.name == "sqlite":
            params = {"since": since.isoformat(" ")}  # the text SQLite holds times as
        else:
            sql, params = sql.replace(":since", "%(since)s"), {"since": since}
    cursor = conn.connection.dbapi_connection.cursor()

    def batches():
        while rows := cursor.fetchmany(_BATCH):
            cols = list(zip(*rows))
            yield pa.record_batch([pa.array(c, type=f.type) for c, f in zip(cols, schema)], schema=schema)

    try:
        cursor.execute(sql, params)
        return _narrow(table, batches())
    finally:
        cursor.close()


# A SQLite file this large is read by ADBC in a child process (`roads.read_sqlite_file`, about 3x
# the cursor's rows); below the size, starting a process costs more than the cursor.
CHILD_READ_MIN_BYTES = 64 << 20


def _sqlite_file(conn: Connection) -> str | None:
    """The path of `conn`'s SQLite file; None for memory, a URI filename, or no SQLite at all."""
    path = conn.engine.url.database if conn.dialect.name == "sqlite" else None
    if path in (None, "", ":memory:") or path.startswith("file:") or not os.path.isfile(path):
        return None
    return path


def read_tables(
    conn: Connection, since: dt.datetime, child_min_bytes: int | None = CHILD_READ_MIN_BYTES
) -> dict[str, pa.Table]:
    """Every table the definitions read, as Arrow (transactions booked from `since` on), by the
    fastest road `conn`'s database allows (`roads`; `child_min_bytes` None: the cursor on `conn`,
    every road's reference). PostgreSQL: ADBC on a read-only connection of its own, or COPY on
    `conn` where ADBC cannot serve the engine. A SQLite file of at least `child_min_bytes`: ADBC
    in a child process on a read-only connection of its own (the features stage runs before the
    run writes anything, so it sees what `conn` sees); should the child fail for any reason, the
    cursor reads it all. Anything else (SQLite in memory, another driver): the cursor. The
    database's errors are `StoreUnavailable` on every road."""
    from . import roads

    if child_min_bytes is not None and conn.dialect.name == "postgresql":
        tables = roads.read_postgres(conn, since)
        if tables is not None:
            return tables
        if conn.dialect.driver == "psycopg":  # COPY is psycopg's API
            with map_db_errors(conn):
                return {t: roads.read_postgres_copy(conn, t, since) for t in EXTRACTS}
    path = _sqlite_file(conn) if child_min_bytes is not None else None
    if path is not None and os.path.getsize(path) >= child_min_bytes:
        try:
            return roads.read_sqlite_file(path, since)
        except Exception as exc:  # noqa: BLE001 - the cursor below reads the same tables, only slower
            _log.warning(
                "features: the ADBC child could not read %s (%s: %s); the cursor reads it",
                path,
                type(exc).__name__,
                exc,
            )
    with map_db_errors(conn):
        return {t: _read(conn, t, since) for t in EXTRACTS}


def write_parquet(tables: dict[str, pa.Table], folder: Path) -> dict[str, Path]:
    """The extracts as one Parquet file per table (what a cluster's features step reads)."""
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, table in tables.items():
        out[name] = folder / f"{name}.parquet"
        pq.write_table(table, out[name])
    return out
