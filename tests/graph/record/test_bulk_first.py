"""The first-load helpers: a dangling reference still fails the load when foreign keys are checked
once instead of row by row, and a failed load leaves the indexes it dropped."""

import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import StoreUnavailable
from clientstrata.graph.record.bulk_first import (
    check_foreign_keys,
    first_load,
    foreign_keys_off,
    insert_new,
    secondary_indexes,
)
from clientstrata.graph.record.models import Base

TXN = Base.metadata.tables["transactions"]
COLUMNS = [
    "txn_id",
    "account_id",
    "booked_at",
    "direction",
    "amount",
    "currency",
    "channel",
    "is_cash",
    "counterparty_country",
]
DANGLING = ("T1", "A-nowhere", "2026-01-01 10:00:00.000000", "debit", 10.0, "CNY", "online", False, "CN")


def test_a_dangling_reference_fails_the_load_checked_once(engine):
    with engine.connect() as conn, foreign_keys_off(conn), conn.begin():
        if engine.dialect.name == "sqlite":
            insert_new(conn, TXN, COLUMNS, [DANGLING], {"ingest_id": 1})  # no row-by-row check
            with pytest.raises(StoreUnavailable, match="transactions .* accounts"):
                check_foreign_keys(conn, ["transactions"])
        else:  # the constraint added back after the load validates every row
            with pytest.raises(StoreUnavailable), first_load(conn, "transactions"):
                insert_new(conn, TXN, COLUMNS, [DANGLING], {"ingest_id": 1})
        conn.rollback()
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(TXN)).scalar_one() == 0


def test_a_failed_first_load_keeps_the_indexes(engine):
    """Also as the first statement of its transaction: SQLite's driver opens a transaction at the
    first write, not at DDL, so a DROP INDEX before any write committed on its own (failed before)."""
    with engine.connect() as conn:
        before = secondary_indexes(conn, "transactions")
    assert before
    with pytest.raises(RuntimeError), engine.begin() as conn, first_load(conn, "transactions"):
        assert secondary_indexes(conn, "transactions") == []  # dropped for the load
        raise RuntimeError("the load fails")
    with engine.connect() as conn:
        assert secondary_indexes(conn, "transactions") == before


def test_foreign_keys_off_refuses_to_start_inside_a_transaction(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's pragma")
    with engine.connect() as conn, conn.begin():
        conn.execute(sa.text("CREATE TEMP TABLE t (x INTEGER)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        with pytest.raises(RuntimeError, match="before the transaction"), foreign_keys_off(conn):
            pass
