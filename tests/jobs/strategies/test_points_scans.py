"""A run's points job reads only the ingests it has not read yet (`points_scans`), on every
backend: an event ingested after a run is posted by the next run exactly once, a run with no new
ingest reads no event row at all, an ingest still in flight is read once it has finished, and a
change of the earn rules reads every ingest again without posting anything twice."""

import datetime as dt
import itertools
from dataclasses import replace

import pandas as pd
import pytest
import sqlalchemy as sa

from clientstrata.graph.record.models import Individual, IngestRun, Product, Purchase
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.strategies.playbook import playbook_of
from clientstrata.jobs.strategies.points import balances, ledger_mismatches, post_earned, post_points, postings

PLAYBOOK = playbook_of(load_standard())
PER_100 = int(PLAYBOOK.points.rule("wealth_purchase").points_per_100)
NO_PACKAGES = pd.DataFrame(columns=["customer_id", "package"])
AT = dt.datetime(2026, 3, 1, 9, 0)
_ids = itertools.count()


@pytest.fixture
def db(engine):
    with engine.begin() as conn:
        conn.execute(sa.insert(Product.__table__).values(product_id="P010", name="理财", family="wealth_management"))
        conn.execute(
            sa.insert(Individual.__table__).values(customer_id="C1", name="测试", birth_date=dt.date(1980, 1, 1))
        )
    return engine


def _ingest(conn, hundreds: list[int], finished: bool = True) -> int:
    """An ingest that loaded one purchase per amount (CNY hundreds) for C1; its id."""
    runs = IngestRun.__table__
    ingest = conn.execute(
        sa.insert(runs).values(
            source="test",
            format="bundle",
            started_at=AT,
            finished_at=AT if finished else None,
            read=0,
            loaded=0,
            quarantined=0,
        )
    ).inserted_primary_key[0]
    for h in hundreds:
        conn.execute(
            sa.insert(Purchase.__table__).values(
                purchase_id=f"PU{next(_ids)}",
                customer_id="C1",
                product_id="P010",
                purchased_at=AT,
                amount=h * 100,
                ingest_id=ingest,
            )
        )
    return ingest


def _finish(conn, ingest: int) -> None:
    runs = IngestRun.__table__
    conn.execute(sa.update(runs).where(runs.c.ingest_id == ingest).values(finished_at=AT))


def _run(db, playbook=PLAYBOOK) -> tuple[dict, list[str]]:
    """The whole bank's earning, as a run does it; and the statements that read purchases."""
    seen: list[str] = []

    def log(conn, cursor, statement, *args):
        if "FROM purchases" in statement:
            seen.append(statement)

    sa.event.listen(db, "before_cursor_execute", log)
    try:
        with db.begin() as conn:
            earned = post_earned(conn, playbook, NO_PACKAGES, "run", AT)
    finally:
        sa.event.remove(db, "before_cursor_execute", log)
    return earned, seen


def _whole(db, points: int) -> None:
    with db.connect() as conn:
        assert ledger_mismatches(conn).empty
        assert balances(conn, ["C1"])["C1"] == points == int(postings(conn, "C1")["points"].sum())
        assert postings(conn, "C1")["source"].is_unique


def test_an_event_ingested_after_a_run_is_posted_by_the_next_run_once(db):
    with db.begin() as conn:
        _ingest(conn, [10])
    first, _ = _run(db)
    assert (first["postings"], first["events_read"]) == (1, 1)

    again, seen = _run(db)  # nothing new: no event row is read
    assert (again["postings"], again["events_read"]) == (0, 0)
    assert all("ingest_id IS NULL" in s for s in seen), seen  # only rows loaded by no ingest are looked at

    with db.begin() as conn:
        _ingest(conn, [20])
    second, _ = _run(db)
    assert (second["postings"], second["events_read"]) == (1, 1)  # the new ingest's row, not the first one's
    assert second["points"] == 20 * PER_100
    assert _run(db)[0]["events_read"] == 0
    _whole(db, 30 * PER_100)


def test_an_ingest_in_flight_is_read_once_it_has_finished(db):
    with db.begin() as conn:
        _ingest(conn, [10])
    _run(db)
    with db.begin() as conn:
        _ingest(conn, [20])
        # committed ingests always carry finished_at: this one stands for an ingest a run does not
        # see yet (on PostgreSQL ingests may commit out of id order)
        late = _ingest(conn, [5], finished=False)
    second, _ = _run(db)
    assert (second["postings"], second["points"]) == (1, 20 * PER_100)
    with db.begin() as conn:
        _finish(conn, late)
    third, _ = _run(db)
    assert (third["postings"], third["points"]) == (1, 5 * PER_100)
    _whole(db, 35 * PER_100)


def test_new_earn_rules_read_every_ingest_again_and_post_nothing_twice(db):
    with db.begin() as conn:
        _ingest(conn, [10])
    _run(db)
    rules = PLAYBOOK.points
    doubled = tuple(
        replace(r, points_per_100=r.points_per_100 * 2) if r.source == "purchases" else r for r in rules.earn
    )
    other = replace(PLAYBOOK, points=replace(rules, earn=doubled))
    again, _ = _run(db, other)
    assert (again["events_read"], again["postings"]) == (0, 0)  # the event is posted: NOT EXISTS still holds
    with db.begin() as conn:
        _ingest(conn, [20])
    third, _ = _run(db, other)
    assert (third["postings"], third["points"]) == (1, 40 * PER_100)
    _whole(db, 50 * PER_100)


def test_the_points_job_reports_the_rows_it_read(db):
    with db.begin() as conn:
        _ingest(conn, [10, 30])
    with db.begin() as conn:
        assert post_points(conn, PLAYBOOK, 0, "run", AT, NO_PACKAGES)["events_read"] == 2
    with db.begin() as conn:
        assert post_points(conn, PLAYBOOK, 0, "run", AT, NO_PACKAGES) == {
            "postings": 0,
            "points": 0,
            "expired": 0,
            "events_read": 0,
        }
