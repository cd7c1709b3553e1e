"""The record's tables as Arrow, projected to the columns the feature definitions read.

One projection per table, in SQL both SQLite and PostgreSQL run unchanged: dates and times as
text (the definitions parse them with TRY_CAST, as the old pandas path did with `to_datetime`),
flags as 0/1 integers, amounts as doubles. The same projections are the Parquet extracts a
cluster reads (`write_parquet`), so DuckDB here and Spark there see the same tables.

Why Arrow and not DuckDB's scanners: the sqlite and postgres scanners are extensions DuckDB
downloads at run time, which a bank's servers must not do; fetching the rows through the
connection the run already holds needs nothing beyond the pinned wheels. PII stays behind:
`individuals.id_number` leaves the database only as the flag `has_id_number`."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import pyarrow as pa
from sqlalchemy.engine import Connection

__all__ = ["EXTRACTS", "CHILD_READ_MIN_BYTES", "read_tables", "write_parquet"]

_S, _F, _I = pa.string(), pa.float64(), pa.int64()

# table -> (projection SQL, column types in SELECT order). `:since` bounds the transactions to
# the year the features count (the definitions bound them again, so a full extract also works).
EXTRACTS: dict[str, tuple[str, tuple[pa.DataType, ...]]] = {
    "individuals": (
        """SELECT customer_id, CAST(birth_date AS TEXT), gender, occupation,
                  CAST(annual_income AS DOUBLE PRECISION), CAST(credit_score AS DOUBLE PRECISION),
                  CAST(is_pep AS INTEGER), CASE WHEN id_number IS NOT NULL THEN 1 ELSE 0 END,
                  CAST(onboarded_on AS TEXT), branch_id FROM individuals""",
        (_S, _S, _S, _S, _F, _F, _I, _I, _S, _S),
    ),
    "branches": ("SELECT branch_id, region FROM branches", (_S, _S)),
    "households": ("SELECT household_id, status FROM households", (_S, _S)),
    "household_members": ("SELECT household_id, customer_id, role FROM household_members", (_S, _S, _S)),
    "products": ("SELECT product_id, family, risk_level FROM products", (_S, _S, _S)),
    "accounts": (
        """SELECT account_id, owner_type, owner_id, product_id, currency, CAST(opened_on AS TEXT), status,
                  CAST(balance AS DOUBLE PRECISION) FROM accounts""",
        (_S, _S, _S, _S, _S, _S, _S, _F),
    ),
    "balances_monthly": (
        "SELECT account_id, month, CAST(avg_daily_balance AS DOUBLE PRECISION) FROM balances_monthly",
        (_S, _S, _F),
    ),
    "loans": (
        """SELECT account_id, status, CAST(principal AS DOUBLE PRECISION), CAST(outstanding AS DOUBLE PRECISION),
                  CAST(monthly_payment AS DOUBLE PRECISION), CAST(term_months AS DOUBLE PRECISION),
                  CAST(days_past_due AS DOUBLE PRECISION) FROM loans""",
        (_S, _S, _F, _F, _F, _F, _F),
    ),
    "cards": ("SELECT holder_id FROM cards", (_S,)),
    "account_holders": ("SELECT account_id, customer_id, role FROM account_holders", (_S, _S, _S)),
    "risk_questionnaires": (
        """SELECT customer_id, CAST(assessed_on AS TEXT), CAST(score AS DOUBLE PRECISION), risk_level,
                  CAST(valid_until AS TEXT), CAST(is_professional AS INTEGER) FROM risk_questionnaires""",
        (_S, _S, _F, _S, _S, _I),
    ),
    "employment": (
        "SELECT customer_id, enterprise_id, CAST(payroll AS INTEGER), CAST(monthly_salary AS DOUBLE PRECISION) "
        "FROM employment",
        (_S, _S, _I, _F),
    ),
    "enterprises": ("SELECT enterprise_id, industry FROM enterprises", (_S, _S)),
    "enterprise_control": ("SELECT customer_id, enterprise_id FROM enterprise_control", (_S, _S)),
    "supply_chain": ("SELECT supplier_id, buyer_id FROM supply_chain", (_S, _S)),
    "transactions": (
        """SELECT account_id, CAST(booked_at AS TEXT), direction, CAST(amount AS DOUBLE PRECISION), currency,
                  channel, CAST(is_cash AS INTEGER), counterparty_country FROM transactions
           WHERE booked_at >= :since""",
        (_S, _S, _S, _F, _S, _S, _I, _S),
    ),
}

# the names the definitions read, in SELECT order (the projections compute some of them)
_NAMES = {
    "individuals": (
        "customer_id",
        "birth_date",
        "gender",
        "occupation",
        "annual_income",
        "credit_score",
        "is_pep",
        "has_id_number",
        "onboarded_on",
        "branch_id",
    ),
    "branches": ("branch_id", "region"),
    "households": ("household_id", "status"),
    "household_members": ("household_id", "customer_id", "role"),
    "products": ("product_id", "family", "risk_level"),
    "accounts": ("account_id", "owner_type", "owner_id", "product_id", "currency", "opened_on", "status", "balance"),
    "balances_monthly": ("account_id", "month", "avg_daily_balance"),
    "loans": ("account_id", "status", "principal", "outstanding", "monthly_payment", "term_months", "days_past_due"),
    "cards": ("holder_id",),
    "account_holders": ("account_id", "customer_id", "role"),
    "risk_questionnaires": ("customer_id", "assessed_on", "score", "risk_level", "valid_until", "is_professional"),
    "employment": ("customer_id", "enterprise_id", "payroll", "monthly_salary"),
    "enterprises": ("enterprise_id", "industry"),
    "enterprise_control": ("customer_id", "enterprise_id"),
    "supply_chain": ("supplier_id", "buyer_id"),
    "transactions": (
        "account_id",
        "booked_at",
        "direction",
        "amount",
        "currency",
        "channel",
        "is_cash",
        "counterparty_country",
    ),
}

_BATCH = 250_000  # rows per Arrow batch: memory follows the batch, not the table
# Rows are read through the driver's cursor on the run's connection (its transaction, its
# snapshot): SQLAlchemy's result rows cost several times the fetch itself.


def _read(conn: Connection, table: str, since: dt.datetime) -> pa.Table:
    sql, types = EXTRACTS[table]
    schema = pa.schema([pa.field(n, t) for n, t in zip(_NAMES[table], types)])
    params: dict = {}
    if ":since" in sql:  # the driver's own parameter style: rows go through its cursor, not SQLAlchemy's
        if conn.dialect.name == "sqlite":
            params = {"since": since.isoformat(" ")}  # the text SQLite holds times as
        else:
            sql, params = sql.replace(":since", "%(since)s"), {"since": since}
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql, params)
        batches = []
        while rows := cursor.fetchmany(_BATCH):
            cols = list(zip(*rows))
            batches.append(pa.record_batch([pa.array(c, type=t) for c, t in zip(cols, types)], schema=schema))
    finally:
        cursor.close()
    return pa.Table.from_batches(batches, schema=schema)


# A SQLite file this large is read by the ADBC driver, which fills Arrow columns in C (about 3x
# the cursor's rows), in a process of its own: ADBC brings its own SQLite library, and two in one
# process keep their POSIX locks and the WAL's shared memory apart (a CI worker died of a bus error
# reading beside the API's connections; it can corrupt the file). Separate processes are SQLite's
# ordinary case. Below the size, starting a process costs more than the cursor.
CHILD_READ_MIN_BYTES = 64 << 20


def _schema(table: str) -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, t in zip(_NAMES[table], EXTRACTS[table][1])])


def _read_in_child(path: str, since: str, folder: str) -> None:
    """In the child process: every extract by ADBC, to Arrow IPC files in `folder`."""
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(f"file:{path}?mode=ro", autocommit=True) as db, db.cursor() as cursor:
        for table, (sql, _) in EXTRACTS.items():
            cursor.execute(sql.replace(":since", "?"), (since,) if ":since" in sql else ())
            schema = _schema(table)
            got = cursor.fetch_arrow_table().rename_columns(schema.names).cast(schema)
            with pa.OSFile(os.path.join(folder, f"{table}.arrow"), "wb") as sink, pa.ipc.new_file(sink, schema) as w:
                w.write_table(got)


def _read_sqlite_file(path: str, since: dt.datetime) -> dict[str, pa.Table]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with tempfile.TemporaryDirectory(prefix="clientstrata-extract-") as folder:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            pool.submit(_read_in_child, path, since.isoformat(" "), folder).result()
        out = {}
        for table in EXTRACTS:
            with pa.OSFile(os.path.join(folder, f"{table}.arrow"), "rb") as f:
                out[table] = pa.ipc.open_file(f).read_all()
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


def _read_postgres(conn: Connection, table: str, since: dt.datetime) -> pa.Table:
    """One extract by COPY in CSV, parsed by Arrow a block at a time with the extract's own types.
    NULL is CSV's unquoted empty field; an empty string arrives quoted and stays a string."""
    from pyarrow import csv

    sql, schema = EXTRACTS[table][0], _schema(table)
    params = {"since": since} if ":since" in sql else None  # psycopg binds COPY's parameters itself
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(f"COPY ({sql.replace(':since', '%(since)s')}) TO STDOUT (FORMAT csv)", params) as copy:
            stream = _CopyStream(copy)
            if stream.empty():  # Arrow refuses a CSV of no bytes
                return schema.empty_table()
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
            return pa.Table.from_batches(list(reader), schema=schema)
    finally:
        cursor.close()


def read_tables(
    conn: Connection, since: dt.datetime, child_min_bytes: int | None = CHILD_READ_MIN_BYTES
) -> dict[str, pa.Table]:
    """Every table the definitions read, as Arrow (transactions booked from `since` on): through
    `conn`'s own cursor, with two faster roads (`child_min_bytes` None: neither). PostgreSQL: COPY
    into Arrow's CSV reader, on `conn`. A SQLite file of at least `child_min_bytes`: ADBC in a
    child process on a read-only connection of its own (the features stage runs before the run
    writes anything, so it sees what `conn` sees); should the child fail (the driver missing, a
    column it typed from its first rows), the cursor reads it all."""
    path = conn.engine.url.database if conn.dialect.name == "sqlite" else None
    if path not in (None, "", ":memory:") and child_min_bytes is not None and os.path.getsize(path) >= child_min_bytes:
        try:
            return _read_sqlite_file(path, since)
        except Exception:  # noqa: BLE001 - the cursor below reads the same tables, only slower
            pass
    if conn.dialect.name == "postgresql" and child_min_bytes is not None:
        return {t: _read_postgres(conn, t, since) for t in EXTRACTS}
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
