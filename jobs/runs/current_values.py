"""The latest run's values one row per subject (`current_tag_values`), kept by each publish.

The bulk read (`customerTable`, the SDK's `customers()`) wants every dimension of ten thousand
customers a page: read as tags that is 220,000 rows to pivot, a cost paid again on every pull.
Each publish instead rewrites the wide rows of the subjects whose values it changed — those its
change feed names, plus those with an override in force (the feed shows the effective value, so
an override can hide a changed tag) — so a re-run that changes nothing rewrites nothing, and a
page is one range read of ten thousand JSON objects. Overrides are applied when read."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.models import ClassificationChange, CurrentTagValues
from clientstrata.graph.record.queries import overrides_in_force

__all__ = ["feed_position", "refresh_current_values"]

_changes, _current = ClassificationChange.__table__, CurrentTagValues.__table__
_IDS = "current_values_ids"


def feed_position(conn: Connection) -> int:
    """The change feed's last sequence number: a publish's rows are the ones after it (publishers
    hold the feed lock, so nobody else's rows come between)."""
    return conn.execute(sa.select(sa.func.coalesce(sa.func.max(_changes.c.seq), 0))).scalar_one()


def _aggregate(conn: Connection) -> str:
    if conn.dialect.name == "postgresql":
        return "json_object_agg(dimension, value)::text"
    return "json_group_object(dimension, value)"


def refresh_current_values(conn: Connection, run_id: int, feed_from: int | None, at: dt.datetime) -> int:
    """In the publish transaction, after its feed is written: the wide rows of the subjects the
    run changed (`feed_from`: the feed position before it; None rewrites every row, as a first run
    must) rebuilt from the run's tags. Returns the subjects rewritten."""
    select = f"SELECT customer_id, {_aggregate(conn)} FROM tags WHERE run_id = :run"
    if feed_from is None:
        conn.execute(sa.delete(_current))
        return conn.execute(
            sa.text(f"INSERT INTO {_current.name} (customer_id, tag_values) {select} GROUP BY customer_id"),
            {"run": run_id},
        ).rowcount
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_IDS}")
    tail = " ON COMMIT DROP" if conn.dialect.name == "postgresql" else ""
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {_IDS} (customer_id VARCHAR(40) PRIMARY KEY){tail}")
    conn.execute(
        sa.text(
            f"INSERT INTO {_IDS} (customer_id) SELECT DISTINCT customer_id FROM {_changes.name} "
            "WHERE seq > :from AND run_id = :run"
        ),
        {"from": feed_from, "run": run_id},
    )
    masked = sorted({cid for cid, _ in overrides_in_force(conn, None, at)})
    if masked:
        conn.execute(
            sa.text(
                f"INSERT INTO {_IDS} (customer_id) SELECT CAST(:c AS VARCHAR(40)) WHERE NOT EXISTS "
                f"(SELECT 1 FROM {_IDS} WHERE customer_id = CAST(:c AS VARCHAR(40)))"
            ),
            [{"c": c} for c in masked],
        )
    conn.exec_driver_sql(f"DELETE FROM {_current.name} WHERE customer_id IN (SELECT customer_id FROM {_IDS})")
    n = conn.execute(
        sa.text(
            f"INSERT INTO {_current.name} (customer_id, tag_values) {select} "
            f"AND customer_id IN (SELECT customer_id FROM {_IDS}) GROUP BY customer_id"
        ),
        {"run": run_id},
    ).rowcount
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_IDS}")
    return n
