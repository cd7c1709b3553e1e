"""The narrow extracts (`features.extract`): times parsed once into timestamps by the very cast the
definitions applied to the text before (DuckDB's TRY_CAST), codes as sorted dictionaries, flags
int8. Whatever the record holds — NULL, malformed text, a time of day in a date column — a time
and a flag read as they read when the definitions parsed the text, on every road."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientstrata.graph.record.db import engine_for, migrate
from clientstrata.jobs.classification.features.engine import duckdb_features
from clientstrata.jobs.classification.features.extract import EXTRACTS, read_tables
from clientstrata.jobs.classification.standard import load_standard

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "baselines"))
import per_range_features  # noqa: E402  (the reference: not a module of the package)

SINCE = dt.datetime(1900, 1, 1)
# (table, column, key column) of every time the definitions read
TIMES = [
    ("individuals", "birth_date", "customer_id"),
    ("individuals", "onboarded_on", "customer_id"),
    ("accounts", "opened_on", "account_id"),
    ("risk_questionnaires", "assessed_on", "customer_id"),
    ("risk_questionnaires", "valid_until", "customer_id"),
    ("transactions", "booked_at", "account_id"),
]
FLAGS = [
    ("individuals", "is_pep"),
    ("transactions", "is_cash"),
    ("employment", "payroll"),
    ("risk_questionnaires", "is_professional"),
]
HOSTILE = [
    "garbage",
    "",
    " ",
    "2024-02-30",
    "2024-13-01",
    "2024-01-02 25:00:00",
    "1980-01-01 10:00:00",
    "2024-01-02T03:04:05",
    " 2024-01-02 ",
    "2024-1-2",
    "20240102",
    "2460000.5",
    "5",
    "infinity",
    "-infinity",
    "2024-01-02 10:00:00+05",
    "0001-01-01",
    "9999-12-31 23:59:59.999999",
]
times = st.one_of(
    st.none(),
    st.sampled_from(HOSTILE),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat(" ")),
    st.datetimes().map(dt.datetime.isoformat),
    st.text(max_size=24),
)
flags = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["yes", "", "t", "0.5", "1e3"]),
)


def _empty_record(path: Path) -> sa.Engine:
    engine = engine_for(f"sqlite:///{path}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO products (product_id, name, family) VALUES ('P1', 'p', 'deposit')"))
        conn.execute(sa.text("INSERT INTO enterprises (enterprise_id, name) VALUES ('E1', 'e')"))
    return engine


def _write(engine: sa.Engine, t: list, f: list) -> None:
    """One row in each table the times and flags of `TIMES` and `FLAGS` live in, holding them (a
    NULL where the column refuses one is the empty string)."""
    inspect = sa.inspect(engine)
    required = {
        (tb, c["name"])
        for tb in ("individuals", "accounts", "risk_questionnaires", "transactions", "employment")
        for c in inspect.get_columns(tb)
        if not c["nullable"]
    }
    t = ["" if v is None and (tb, c) in required else v for v, (tb, c, _) in zip(t, TIMES)]
    f = ["" if v is None and (tb, c) in required else v for v, (tb, c) in zip(f, FLAGS)]
    with engine.begin() as conn:
        for table in ("transactions", "risk_questionnaires", "employment", "accounts", "individuals"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
        conn.execute(
            sa.text(
                "INSERT INTO individuals (customer_id, name, birth_date, onboarded_on, is_pep) "
                "VALUES ('C1', 'n', :b, :o, :pep)"
            ),
            {"b": t[0], "o": t[1], "pep": f[0]},
        )
        conn.execute(
            sa.text(
                "INSERT INTO accounts (account_id, owner_type, owner_id, product_id, currency, opened_on, status) "
                "VALUES ('A1', 'individual', 'C1', 'P1', 'CNY', :o, 'active')"
            ),
            {"o": t[2]},
        )
        conn.execute(
            sa.text(
                "INSERT INTO risk_questionnaires (questionnaire_id, customer_id, assessed_on, risk_level, "
                "valid_until, is_professional) VALUES ('Q1', 'C1', :a, 'C3', :v, :p)"
            ),
            {"a": t[3], "v": t[4], "p": f[3]},
        )
        conn.execute(
            sa.text(
                "INSERT INTO transactions (txn_id, account_id, booked_at, direction, amount, currency, channel, "
                "is_cash, counterparty_country) VALUES ('T1', 'A1', :at, 'credit', 10, 'CNY', 'atm', :cash, 'CN')"
            ),
            {"at": t[5], "cash": f[1]},
        )
        conn.execute(
            sa.text(
                "INSERT INTO employment (customer_id, enterprise_id, payroll, monthly_salary) "
                "VALUES ('C1', 'E1', :p, 100)"
            ),
            {"p": f[2]},
        )


def _as_before(engine: sa.Engine) -> tuple[list, list]:
    """What the old road gave the definitions: each time's text as the database gives it, parsed
    by TRY_CAST in a DuckDB configured as the features engine; each flag's integer, read as
    `COALESCE(flag, 0) <> 0` reads it."""
    duck = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    with engine.connect() as conn:
        texts = [conn.execute(sa.text(f"SELECT CAST({c} AS TEXT) FROM {t}")).scalar() for t, c, _ in TIMES]
        ints = [conn.execute(sa.text(f"SELECT CAST({c} AS INTEGER) FROM {t}")).scalar() for t, c in FLAGS]
    duck.register("old", pa.table({"text": pa.array(texts, pa.string())}))
    parsed = duck.sql("SELECT TRY_CAST(text AS TIMESTAMP) AS t FROM old").to_arrow_table().column("t")
    duck.close()
    parsed = parsed.cast(pa.int64()).to_pylist()  # microseconds: 'infinity' is no Python datetime
    return parsed, [None if v is None else int(v != 0) for v in ints]


def _as_read(tables: dict[str, pa.Table]) -> tuple[list, list]:
    def one(table: str, column: str):
        values = tables[table].column(column)
        values = (values.cast(pa.int64()) if pa.types.is_timestamp(values.type) else values).to_pylist()
        return values[0] if values else None

    return [one(t, c) for t, c, _ in TIMES], [one(t, c) for t, c in FLAGS]


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    engine = _empty_record(tmp_path_factory.mktemp("extract") / "record.db")
    yield engine
    engine.dispose()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(t=st.lists(times, min_size=6, max_size=6), f=st.lists(flags, min_size=4, max_size=4))
def test_any_time_or_flag_in_the_record_reads_as_the_definitions_read_its_text(record, t, f):
    _write(record, t, f)
    with record.connect() as conn:
        tables = read_tables(conn, SINCE, child_min_bytes=None)
        in_year = conn.execute(sa.text("SELECT COUNT(*) FROM transactions WHERE booked_at >= :s"), {"s": str(SINCE)})
        txn = in_year.scalar() > 0
    expected_times, expected_flags = _as_before(record)
    if not txn:  # the transaction is not in the extract
        expected_times[-1] = expected_flags[1] = None
    got_times, got_flags = _as_read(tables)
    assert got_times == expected_times
    assert got_flags == expected_flags


def test_the_adbc_child_reads_hostile_times_as_the_cursor(tmp_path):
    """The large-file road (ADBC in a child process) narrows the same way, value for value."""
    engine = _empty_record(tmp_path / "record.db")
    _write(engine, HOSTILE[:6], [7, None, -1, "yes"])
    engine.dispose()
    code = (
        "import datetime as dt, sqlalchemy as sa\n"
        "from clientstrata.jobs.classification.features.extract import read_tables\n"
        "from clientstrata.jobs.classification.features.roads import read_sqlite_file\n"
        f"e = sa.create_engine({str(engine.url)!r})\n"
        "since = dt.datetime(1900, 1, 1)\n"
        "with e.connect() as c:\n"
        "    cursor = read_tables(c, since, child_min_bytes=None)\n"
        "child = read_sqlite_file(e.url.database, since)\n"
        "for t in child:\n"
        "    assert child[t].equals(cursor[t]), (t, child[t], cursor[t])\n"
        "print(child['individuals'].column('birth_date').to_pylist(), child['transactions'].num_rows)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("[None]")  # 'garbage' is no time, as TRY_CAST had it


def test_the_extracts_are_narrow(loaded_ro):
    """Times are timestamps, codes dictionaries with the narrowest index their values need (one
    sorted dictionary whatever batches the rows came in), flags int8."""
    engine, _ = loaded_ro
    with engine.connect() as conn:
        tables = read_tables(conn, SINCE)
    txn = tables["transactions"].schema
    assert txn.field("booked_at").type == pa.timestamp("us")
    assert txn.field("is_cash").type == pa.int8()
    assert txn.field("channel").type == pa.dictionary(pa.int8(), pa.string())
    assert tables["individuals"].schema.field("birth_date").type == pa.timestamp("us")
    for name, (_, cols) in EXTRACTS.items():
        assert tables[name].schema.names == [c for c, _ in cols]
    channel = tables["transactions"].column("channel")
    dictionary = channel.chunk(0).dictionary.to_pylist()
    assert dictionary == sorted(dictionary) and len(dictionary) == len(set(channel.to_pylist()) - {None})
    accounts = tables["transactions"].column("account_id")
    assert accounts.type.index_type.bit_width >= 16 and accounts.num_chunks >= 1


def test_null_and_malformed_dates_give_the_reference_features(loaded):
    """NULL dates (and on SQLite, which keeps any text, malformed ones) give the features the
    per-range reference gives: age, tenure and the questionnaire's dates missing, tenure from the
    first account without an onboarding date, as before the extracts were narrowed. (A time of
    day in a date column the reference's pandas reads as missing when the other rows are dates,
    where DuckDB's cast, then and now, reads the time: the property test above holds that.)"""
    engine, _ = loaded
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        ids = [r[0] for r in conn.execute(sa.text("SELECT customer_id FROM individuals ORDER BY customer_id"))]
        q = [r[0] for r in conn.execute(sa.text("SELECT customer_id FROM risk_questionnaires ORDER BY 1 LIMIT 2"))]
        conn.execute(
            sa.text("UPDATE individuals SET onboarded_on = NULL WHERE customer_id IN (:a, :b)"),
            {"a": ids[0], "b": ids[1]},
        )
        conn.execute(sa.text("UPDATE risk_questionnaires SET valid_until = NULL WHERE customer_id = :c"), {"c": q[0]})
        if sqlite:
            set_birth = sa.text("UPDATE individuals SET birth_date = :v WHERE customer_id = :c")
            conn.execute(set_birth, {"v": "garbage", "c": ids[2]})
            conn.execute(set_birth, {"v": "1980-02-30", "c": ids[3]})
            conn.execute(
                sa.text("UPDATE individuals SET onboarded_on = 'not a date' WHERE customer_id = :c"), {"c": ids[5]}
            )
            conn.execute(
                sa.text("UPDATE risk_questionnaires SET valid_until = '2030-02-31' WHERE customer_id = :c"), {"c": q[1]}
            )
            conn.execute(
                sa.text(
                    "UPDATE accounts SET opened_on = '1999-13-45' WHERE account_id IN "
                    "(SELECT account_id FROM accounts WHERE owner_id = :c)"
                ),
                {"c": ids[5]},
            )
    std = load_standard()
    with engine.connect() as conn:
        old = per_range_features.individual_features(conn, std, chunk=97, workers=1, progress=False)
        new = duckdb_features(conn, std)
    frame_ids = list(new["customer_id"])
    at = {c: frame_ids.index(c) for c in ids[:6]}
    assert new.loc[at[ids[0]], "tenure_years"] > 0  # no onboarding date: from the first account
    if sqlite:
        assert pd.isna(new.loc[at[ids[2]], "age"]) and pd.isna(new.loc[at[ids[3]], "age"])
        assert pd.isna(new.loc[at[ids[5]], "tenure_years"])
    pd.testing.assert_frame_equal(
        new.reset_index(drop=True), old.reset_index(drop=True), check_exact=False, rtol=1e-9, atol=1e-6
    )


# --- every road gives the same tables ------------------------------------------------------------
# SQLite keeps any value in any column; ADBC's SQLite driver types each column from the first
# batch's values (a column NULL throughout that batch becomes int64, and text after it fails).

cells = st.one_of(  # whatever a SQLite column may hold
    st.none(),
    st.sampled_from(HOSTILE),
    st.text(max_size=12),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=6).map(str.encode),  # a blob of UTF-8
    st.datetimes().map(lambda d: d.isoformat(" ")),
)


def _same(a: dict[str, pa.Table], b: dict[str, pa.Table]) -> None:
    """Equal tables, a NaN equal to a NaN (PostgreSQL's doubles hold them)."""
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].schema == b[name].schema, name
        for column in a[name].column_names:
            x, y = (_values(t.column(column)) for t in (a[name], b[name]))
            nan = [v != v if isinstance(v, float) else False for v in x]
            assert nan == [v != v if isinstance(v, float) else False for v in y], (name, column)
            assert [v for v, n in zip(x, nan) if not n] == [v for v, n in zip(y, nan) if not n], (name, column, x, y)


@pytest.fixture(scope="module")
def hostile_record(tmp_path_factory):
    engine = _empty_record(tmp_path_factory.mktemp("hostile") / "record.db")
    yield engine
    engine.dispose()


def _values(column: pa.ChunkedArray) -> list:
    if pa.types.is_timestamp(column.type):  # microseconds: DuckDB's 'infinity' is no Python datetime
        column = column.cast(pa.int64())
    return column.to_pylist()


def _raw_rows(path: Path, rows: dict[str, list[list]]) -> None:
    """`rows[table]`: one list of cells per row, in the table's column order, written as they are
    (the record's key columns numbered instead, a NULL where the column refuses one the empty
    string), through sqlite3 with its foreign keys off: what a record edited by hand may hold."""
    import sqlite3

    db = sqlite3.connect(path)
    try:
        for table in EXTRACTS:
            db.execute(f"DELETE FROM {table}")
        for table, cells_of in rows.items():
            info = db.execute(f"PRAGMA table_info({table})").fetchall()
            names = ", ".join(c[1] for c in info)
            marks = ", ".join("?" for _ in info)
            for i, cells_ in enumerate(cells_of):
                values = [
                    f"{table}-{i}" if c[5] else ("" if v is None and c[3] else v)
                    for c, v in zip(info, cells_ + [None] * len(info))
                ]
                db.execute(f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({marks})", values)  # a unique id_number
        db.commit()
    finally:
        db.close()


def test_a_column_null_through_the_first_batch_is_read_by_the_adbc_child(tmp_path):
    """A full first batch (250,000 rows) of NULL occupations, then one that has one: the child
    reads it, with the cursor's tables (before, its driver typed the column int64 from the NULLs
    and failed on the text, and the run read everything again through the cursor)."""
    from clientstrata.jobs.classification.features.roads import read_sqlite_file

    engine = _empty_record(tmp_path / "record.db")
    engine.dispose()
    rows = [[None, "n", "F", "1980-01-01", None, None, None, None, None, None, None] for _ in range(250_000)]
    rows.append([None, "n", "M", "1990-01-01", None, None, None, None, "teacher", 1000.5, 700, 1])
    _raw_rows(tmp_path / "record.db", {"individuals": rows})
    with engine.connect() as conn:
        cursor = read_tables(conn, SINCE, child_min_bytes=None)
    child = read_sqlite_file(str(tmp_path / "record.db"), SINCE)  # no fallback here: raises if the child fails
    _same(child, cursor)
    assert child["individuals"].column("occupation").to_pylist()[-2:] == [None, "teacher"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_sqlite_road_reads_hostile_rows_alike(hostile_record, data):
    """Any value in any column the extracts read, batches of two rows so that types change from
    one batch to the next: the ADBC child's tables are the cursor's."""
    from clientstrata.jobs.classification.features.roads import read_sqlite_file

    rows = {
        table: data.draw(st.lists(st.lists(cells, min_size=16, max_size=16), max_size=5), label=table)
        for table in EXTRACTS
    }
    path = hostile_record.url.database
    _raw_rows(Path(path), rows)
    with hostile_record.connect() as conn:
        cursor = read_tables(conn, SINCE, child_min_bytes=None)
    _same(read_sqlite_file(path, SINCE, batch_rows=2), cursor)


def test_a_sqlite_file_whose_path_reads_as_a_uri_is_read_by_the_adbc_child(tmp_path):
    """The child opens the file by a URI: a folder named with '#', '?' and '%' is still the file."""
    from clientstrata.jobs.classification.features.roads import read_sqlite_file

    folder = tmp_path / "bank #1? 100%"
    folder.mkdir()
    engine = _empty_record(folder / "record.db")
    _write(engine, HOSTILE[:6], [7, None, -1, "yes"])
    with engine.connect() as conn:
        cursor = read_tables(conn, SINCE, child_min_bytes=None)
    engine.dispose()
    _same(read_sqlite_file(engine.url.database, SINCE), cursor)


def test_a_refused_read_is_store_unavailable_on_every_road(engine):
    """A table gone under the run: the database's refusal is `StoreUnavailable` (its message names
    the database, not the statement nor the password), whichever road read it."""
    from clientstrata.graph.errors import StoreUnavailable

    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE branches RENAME TO branches_moved"))
    for faster in (None, 0):  # the cursor; ADBC (SQLite: the child, then the cursor; PostgreSQL)
        with pytest.raises(StoreUnavailable, match="refused a statement") as caught, engine.connect() as conn:
            read_tables(conn, SINCE, child_min_bytes=faster)
        assert "SELECT" not in str(caught.value)
        if engine.url.password:
            assert engine.url.password not in str(caught.value)


# PostgreSQL holds typed values: the awkward ones are text that reads like something else,
# NULL beside the empty string, the infinite dates and times, NaN, and the extremes.
pg_text = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "NULL", "\\N", "a,b", 'say "hi"', "two\nlines", "tab\there", "\\", "NA", "t", "3.5"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8),
)
pg_dates = st.one_of(st.none(), st.sampled_from(["infinity", "-infinity"]), st.dates().map(str))
pg_times = st.one_of(
    st.none(), st.sampled_from(["infinity", "-infinity"]), st.datetimes().map(lambda d: d.isoformat(" "))
)
pg_money = st.one_of(
    st.none(),
    st.just("NaN"),
    st.decimals(min_value=-(10**16) + 1, max_value=10**16 - 1, places=2, allow_nan=False).map(str),
)
pg_flags = st.one_of(st.none(), st.booleans())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_postgres_road_reads_hostile_rows_alike(engine, data):
    """ADBC (binary COPY into Arrow), COPY in CSV through Arrow's reader, and the driver's rows:
    the same tables, value for value."""
    if engine.dialect.name != "postgresql":
        return  # SQLite's roads have their own test above
    from clientstrata.jobs.classification.features.roads import read_postgres, read_postgres_copy

    people = data.draw(st.lists(st.tuples(pg_text, pg_dates, pg_text, pg_money, pg_flags, pg_dates), max_size=6))
    txns = data.draw(st.lists(st.tuples(pg_times, pg_text.map(lambda t: t and t[:6]), pg_money, pg_flags), max_size=6))
    with engine.begin() as conn:
        for table in ("transactions", "accounts", "individuals", "products"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
        conn.execute(sa.text("INSERT INTO products (product_id, name, family) VALUES ('P1', 'p', 'deposit')"))
        for i, (occupation, born, gender, income, pep, onboarded) in enumerate(people):
            conn.execute(
                sa.text(
                    "INSERT INTO individuals (customer_id, name, gender, birth_date, occupation, annual_income, "
                    "is_pep, onboarded_on) VALUES (:id, 'n', :g, CAST(:b AS DATE), :o, CAST(:inc AS NUMERIC), "
                    ":pep, CAST(:on AS DATE))"
                ),
                {
                    "id": f"C{i}",
                    "g": gender and gender[:1],
                    "b": born or "2000-01-01",
                    "o": occupation,
                    "inc": income,
                    "pep": pep,
                    "on": onboarded,
                },
            )
        conn.execute(
            sa.text(
                "INSERT INTO accounts (account_id, owner_type, owner_id, product_id, currency, opened_on, status) "
                "VALUES ('A1', 'individual', 'C0', 'P1', 'CNY', DATE '2020-01-01', 'active')"
            )
        )
        for i, (at, direction, amount, cash) in enumerate(txns):
            conn.execute(
                sa.text(
                    "INSERT INTO transactions (txn_id, account_id, booked_at, direction, amount, currency, channel, "
                    "is_cash, counterparty_country) "
                    "VALUES (:id, 'A1', CAST(:at AS TIMESTAMP), :d, CAST(:amt AS NUMERIC), 'CNY', 'atm', :cash, 'CN')"
                ),
                {
                    "id": f"T{i}",
                    "at": at or "2024-01-01",
                    "d": direction or "",
                    "amt": amount or "0",
                    "cash": bool(cash),
                },
            )
    with engine.connect() as conn:
        cursor = read_tables(conn, SINCE, child_min_bytes=None)
        copied = {t: read_postgres_copy(conn, t, SINCE) for t in EXTRACTS}
        adbc = read_postgres(conn, SINCE)
    assert adbc is not None
    _same(copied, cursor)
    _same(adbc, cursor)


def test_postgres_falls_back_to_copy_when_adbc_cannot_connect(engine, caplog):
    """The engine connects with a password ADBC is not given (here: in `connect_args`, the URL's
    wrong): ADBC cannot connect where the run's connection did, so COPY reads the same tables on
    that connection, and the log says why without the password."""
    if engine.dialect.name != "postgresql":
        return
    import logging

    url = engine.url
    wrong = sa.create_engine(
        url.set(password="not-the-password"),
        connect_args={"password": url.password, "options": "-c timezone=UTC"},
    )
    try:
        with wrong.connect() as conn, caplog.at_level(logging.WARNING):
            got = read_tables(conn, SINCE)
            cursor = read_tables(conn, SINCE, child_min_bytes=None)
    finally:
        wrong.dispose()
    _same(got, cursor)
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "ADBC" in said and "password authentication failed" in said
    assert "not-the-password" not in said and url.password not in said
