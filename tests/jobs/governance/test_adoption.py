"""Which standard is live changes only by adoption (jobs/governance/adoption.py): every run path
uses the live one and refuses another, before writing anything."""

import datetime as dt

import pytest
import sqlalchemy as sa

from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.errors import ActorRequired
from clientstrata.jobs.governance.adoption import StandardNotAdopted, adopt_standard, adoptions
from clientstrata.jobs.governance.overrides import approve_override, propose_override
from clientstrata.jobs.governance.standards import current_dimensions, live_sha256, live_standard
from clientstrata.jobs.runs.history import get_run
from clientstrata.jobs.runs.pipeline import classify, queue_run, run_queued
from clientstrata.jobs.runs.schedule import classify_if_due

EXPIRY, AFTER_EXPIRY = dt.date(2030, 1, 1), dt.datetime(2030, 1, 2)
COMMITTEE = {"label_en: Affluent, min: 50000,": "label_en: Affluent, min: 60000,"}
TABLES = (
    "classification_runs",
    "tags",
    "standards",
    "standard_adoptions",
    "audit_log",
    "notifications",
    "classification_changes",
)


def _counts(engine):
    with engine.connect() as conn:
        counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}
        counts["overrides"] = conn.execute(sa.text("SELECT status FROM overrides ORDER BY override_id")).scalars().all()
        return counts


def test_a_standard_that_is_not_live_is_refused_by_every_run_path(loaded, write_standard):
    engine, graph = loaded
    committee = write_standard(replace=COMMITTEE)
    with engine.begin() as conn:  # the daily tick would expire it: a refused tick must not
        ov = propose_override(conn, "mei", "C0000001", "wealth_tier", "private_banking", "review", expires_on=EXPIRY)
        approve_override(conn, "li", ov.override_id)
    before = _counts(engine)
    assert before["overrides"] == ["approved"]
    for attempt in (
        lambda: classify(engine, graph, committee, progress=False),
        lambda: classify_if_due(engine, graph, committee, now=AFTER_EXPIRY),
        lambda: queue_run(engine, committee),
    ):
        with pytest.raises(StandardNotAdopted, match="adopt it first"):
            attempt()
    assert _counts(engine) == before
    with pytest.raises(ActorRequired):  # adopting needs someone to answer for it
        classify(engine, graph, committee, progress=False, adopt=True)
    assert _counts(engine) == before


def test_the_daily_tick_refuses_a_standard_that_is_not_live_on_a_day_nothing_is_due(loaded, write_standard):
    # the file in the cron line is checked every day, not first on the day a run falls due
    engine, graph = loaded
    due, _, report = classify_if_due(engine, graph)
    assert due.due and report is not None
    with engine.connect() as conn:
        tomorrow = get_run(conn, report.run_id)["published_at"] + dt.timedelta(days=1)
    committee = write_standard(replace=COMMITTEE)
    before = _counts(engine)
    with pytest.raises(StandardNotAdopted, match="adopt it first"):
        classify_if_due(engine, graph, committee, now=tomorrow)
    assert _counts(engine) == before


def test_a_queued_run_whose_standard_was_replaced_fails_instead_of_swapping_back(loaded, write_standard):
    engine, graph = loaded
    queued = queue_run(engine, requested_by="ops")  # with the live (packaged) standard
    committee = load_standard(write_standard(replace=COMMITTEE))
    with engine.begin() as conn:
        adopt_standard(conn, committee, "chair")
    with pytest.raises(StandardNotAdopted):
        run_queued(engine, graph, queued)
    with engine.connect() as conn:
        run = get_run(conn, queued)
        published = conn.execute(sa.text("SELECT count(*) FROM classification_runs WHERE status = 'published'"))
        assert published.scalar() == 1
    assert run["status"] == "failed" and "not the live one" in run["error"]
    report = classify(engine, graph, progress=False)  # a plain run uses the adopted standard
    with engine.connect() as conn:
        assert get_run(conn, report.run_id)["standard_sha256"] == committee.sha256 and report.changes > 0


def test_live_is_the_latest_adoption_and_overrides_check_against_it(loaded, write_standard):
    engine, _ = loaded
    packaged = load_standard()
    extra = write_standard(replace={"label_en: Private banking": "label_en: Family office"})
    std = load_standard(extra)
    with engine.begin() as conn:
        assert live_sha256(conn) == packaged.sha256 and adoptions(conn).empty
        first = adopt_standard(conn, std, "chair", note="family offices")
        assert adopt_standard(conn, std, "chair")["adoption_id"] is None  # already live
        assert live_standard(conn).sha256 == std.sha256
        labels = [b["label_en"] for b in current_dimensions(conn)["wealth_tier"]["bands"]]
        back = adopt_standard(conn, packaged, "chair", note="undo")
        listed = adoptions(conn)
        assert live_sha256(conn) == packaged.sha256
    assert "Family office" in labels and "Private banking" not in labels
    assert first["previous_sha256"] == packaged.sha256 and back["previous_sha256"] == std.sha256
    assert listed[["sha256", "adopted_by", "note"]].values.tolist() == [
        [std.sha256, "chair", "family offices"],
        [packaged.sha256, "chair", "undo"],
    ]


def test_the_live_standard_is_parsed_once_and_every_caller_gets_its_own_copy(loaded, write_standard):
    """`live_standard` keeps what it parsed by sha256 (a bulk page read it per page): a caller
    that changes its copy changes nobody else's, and an adoption is seen at once."""
    engine, _ = loaded
    committee = load_standard(write_standard(replace=COMMITTEE))
    with engine.begin() as conn:
        adopt_standard(conn, committee, "chair")
    with engine.connect() as conn:
        first = live_standard(conn)
        first.dimensions["wealth_tier"]["bands"].clear()
        first.fx_to_cny["USD"] = 0.0
        second = live_standard(conn)
        assert second is not first and second.sha256 == committee.sha256
        assert second.dimensions == committee.dimensions and second.fx_to_cny == committee.fx_to_cny
        assert second.dimensions["wealth_tier"]["bands"] and second.fx_to_cny["USD"] > 0
    with engine.begin() as conn:
        adopt_standard(conn, load_standard(), "chair")
    with engine.connect() as conn:
        assert live_standard(conn).sha256 == load_standard().sha256 != committee.sha256
