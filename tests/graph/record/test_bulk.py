"""The bulk upsert of each database: a NULL in a `keep` column leaves the stored value, every other
column takes the new row's, and rows that change nothing are not rewritten."""

import sqlalchemy as sa

from clientstrata.graph.record.bulk import bulk_upsert
from clientstrata.graph.record.models import Branch

BRANCHES = Branch.__table__
COLUMNS = ["branch_id", "name", "region", "city"]


def _load(engine, rows, keep=("region",)) -> int:
    """Upserts `rows`; returns how many rows SQLite wrote (-1 elsewhere)."""
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        before = raw.total_changes if engine.dialect.name == "sqlite" else 0
        bulk_upsert(conn, BRANCHES, COLUMNS, rows, ["branch_id"], keep)
        return raw.total_changes - before if engine.dialect.name == "sqlite" else -1


def _stored(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        return {
            r[0]: tuple(r[1:]) for r in conn.execute(sa.select(*(BRANCHES.c[c] for c in COLUMNS)).order_by("branch_id"))
        }


def test_a_null_never_overwrites_a_kept_column(engine):
    _load(engine, [("B1", "东城", "华北", "北京"), ("B2", "西城", None, "上海")])
    _load(engine, [("B1", "东城支行", None, None), ("B2", "西城", "华东", "上海")])
    assert _stored(engine) == {"B1": ("东城支行", "华北", None), "B2": ("西城", "华东", "上海")}


def test_without_keep_a_null_overwrites(engine):
    _load(engine, [("B1", "东城", "华北", "北京")])
    _load(engine, [("B1", "东城", None, "北京")], keep=())
    assert _stored(engine) == {"B1": ("东城", None, "北京")}


def test_rows_that_change_nothing_are_not_rewritten(engine):
    _load(engine, [("B1", "东城", "华北", "北京"), ("B2", "西城", "华东", "上海")])
    written = _load(engine, [("B1", "东城", None, "北京"), ("B2", "西城", "华东", "上海")])
    assert written in (0, -1)  # a NULL in a kept column is no change
    assert _stored(engine) == {"B1": ("东城", "华北", "北京"), "B2": ("西城", "华东", "上海")}
