"""Tags as validity spans (`jobs/runs/spans.py`): a run writes what changed, and every run
still reads as all of its tags (the `tags` view)."""

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import StoreUnavailable
from clientstrata.graph.record.models import ClassificationRun
from clientstrata.jobs.runs.history import tags_as_of
from clientstrata.jobs.runs.pipeline import classify
from clientstrata.jobs.runs.spans import STAGE_COLUMNS, SpanWriter


def _spans(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM tag_spans")).scalar()


def test_a_steady_state_rerun_writes_no_tag_rows_and_no_changes(loaded, run_tags):
    engine, graph = loaded
    before, first = _spans(engine), run_tags(1)
    report = classify(engine, graph, progress=False)
    assert report.run_id == 2 and report.tags == len(first) > 0  # every tag classified …
    assert report.spans_opened == report.spans_closed == report.changes == 0  # … none written
    assert _spans(engine) == before
    assert run_tags(2) == first  # the re-run still reads as all of its tags


def test_a_rerun_where_k_customers_changed_writes_spans_for_the_changed_tags_only(
    loaded, set_aum, customer_in, run_tags
):
    """Three customers move; tags scored against the population (percentiles) may move a few
    others: each changed tag writes one span and closes one, nothing else is written."""
    engine, graph = loaded
    moved = customer_in("wealth_tier", "mass")[:3]
    for cid in moved:
        set_aum(cid, 2_000_000)
    before, first = _spans(engine), run_tags(1)
    report = classify(engine, graph, progress=False)
    second = run_tags(2)
    changed = {k for k in first.keys() | second.keys() if first.get(k) != second.get(k)}
    assert {(c, "wealth_tier") for c in moved} <= changed
    # one new span per changed tag, one closed per old tag changed: O(changes), not O(tags)
    assert report.spans_opened == report.spans_closed == len(changed) == _spans(engine) - before
    assert len(changed) < report.tags / 10


def test_as_of_reads_of_an_old_run_keep_its_values_after_later_runs_changed_them(
    loaded, set_aum, customer_in, run_tags
):
    engine, graph = loaded
    cid = customer_in("wealth_tier", "mass")[0]
    with engine.connect() as conn:
        at_first = conn.execute(sa.select(ClassificationRun.published_at).where(ClassificationRun.run_id == 1)).scalar()
    set_aum(cid, 2_000_000)
    classify(engine, graph, progress=False)
    set_aum(cid, 50_000_000)
    classify(engine, graph, progress=False)
    tiers = {r: run_tags(r)[(cid, "wealth_tier")][0] for r in (1, 2, 3)}
    assert tiers[1] == "mass" and tiers[2] != "mass" and tiers[3] not in (tiers[1], tiers[2])
    with engine.connect() as conn:
        then = {
            t["dimension"]: t["value"] for t in tags_as_of(conn, [cid], at_first)[cid]
        }  # the moment run 1 published: run 2 may follow within a second
        now = {t["dimension"]: t["value"] for t in tags_as_of(conn, [cid], dt.datetime(2100, 1, 1))[cid]}
    assert then["wealth_tier"] == "mass" and now["wealth_tier"] == tiers[3]


def _tags(customers: list[str]) -> pd.DataFrame:
    rows = [(c, "wealth_tier", "mass", "大众", "Mass", 1.0, "aum < 50k", {"aum": 1.0}, "v1") for c in customers]
    return pd.DataFrame(rows, columns=list(STAGE_COLUMNS))


def test_a_first_publish_opens_every_staged_tag_and_refuses_a_subject_twice(engine):
    """No open span when the publish starts: every staged tag is opened without a look-up (the
    look-up of a first publish ran as a nested loop over the growing table at 1M on PostgreSQL),
    and the partitions' subjects being distinct is held by the primary key, not assumed."""
    with engine.connect() as conn:
        publish = conn.begin()
        spans = SpanWriter(conn, 1)
        assert spans.first
        spans.stage(_tags(["C1", "C2"]))
        assert spans.close("C0", "C2") == 0 and spans.open() == 2
        spans.clear()
        spans.stage(_tags(["C2"]))
        with pytest.raises(StoreUnavailable):
            spans.open()
        publish.rollback()  # as a publish that fails: nothing of it stays
    assert _spans(engine) == 0
    with engine.connect() as conn, conn.begin():
        spans = SpanWriter(conn, 1)
        assert spans.first
        spans.stage(_tags(["C1", "C2"]))
        spans.open()
        spans.done()
    with engine.connect() as conn, conn.begin():
        again = SpanWriter(conn, 2)  # a re-run: the open spans are looked for
        assert not again.first
        again.stage(_tags(["C1", "C3"]))
        assert again.open() == 1  # C3; C1 unchanged keeps its span
        again.done()
    assert _spans(engine) == 3
