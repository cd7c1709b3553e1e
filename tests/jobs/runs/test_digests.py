"""Subject digests (`jobs/runs/digests.py`): a publish stages and compares only the subjects
whose tags changed, and still writes exactly what the full comparison wrote."""

import numpy as np
import pandas as pd
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from clientstrata.graph.record.db import migrate
from clientstrata.jobs.runs.digests import row_digests, subject_digests
from clientstrata.jobs.runs.pipeline import classify


def _open_spans(engine) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT customer_id, dimension, from_seq, value, score FROM tag_spans WHERE to_seq IS NULL")
        ).all()
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def _digests(engine) -> dict:
    with engine.connect() as conn:
        return {(s, c): d for s, c, d in conn.execute(sa.text("SELECT scope, customer_id, digest FROM tag_digests"))}


def test_a_steady_rerun_stages_nothing(loaded):
    engine, graph = loaded
    report = classify(engine, graph, progress=False)
    assert report.tags > 0 and report.staged == 0  # every tag classified, none compared in SQL
    assert report.spans_opened == report.spans_closed == report.changes == 0


def test_a_rerun_stages_only_the_subjects_that_changed(loaded, set_aum, customer_in, run_tags):
    """Three customers move (and, through the population's percentiles, some others' scores):
    exactly the subjects with a changed tag get a new digest, and only their tags are staged."""
    engine, graph = loaded
    moved = customer_in("wealth_tier", "mass")[:3]
    for cid in moved:
        set_aum(cid, 2_000_000)
    before, first = _digests(engine), run_tags(1)
    report = classify(engine, graph, progress=False)
    after, second = _digests(engine), run_tags(2)
    changed = {c for c, d in first.keys() | second.keys() if first.get((c, d)) != second.get((c, d))}
    redigested = {c for k, c in after if before.get((k, c)) != after[(k, c)]}
    assert set(moved) <= changed and redigested == changed
    assert report.staged == sum(1 for c, _ in second if c in changed) < report.tags


def test_unknown_digests_are_compared_exactly_and_learned(loaded):
    """After migration 0018 every subject's digest is 0 (no content makes it): the next run
    stages everything, writes no span (nothing changed) and stores the real digests."""
    engine, graph = loaded
    spans = _open_spans(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE tag_digests SET digest = 0"))
    report = classify(engine, graph, progress=False)
    assert report.staged == report.tags and report.spans_opened == report.spans_closed == 0
    assert _open_spans(engine) == spans
    assert 0 not in _digests(engine).values()
    assert classify(engine, graph, progress=False).staged == 0


def test_a_subject_with_open_spans_and_a_digest_is_found_gone(loaded):
    """A customer who left the record (here: spans and a digest no run of today's record makes)
    has every open span closed, and its digest dropped."""
    engine, graph = loaded
    with engine.begin() as conn:
        src = conn.execute(sa.text("SELECT MIN(customer_id) FROM individuals")).scalar()
        conn.execute(
            sa.text(
                "INSERT INTO tag_spans (from_seq, customer_id, dimension, value, label_zh, label_en, score, rule, "
                "inputs, standard_version) SELECT from_seq, 'C~gone', dimension, value, label_zh, label_en, score, "
                "rule, inputs, standard_version FROM tag_spans WHERE customer_id = :c AND to_seq IS NULL"
            ),
            {"c": src},
        )
        conn.execute(sa.text("INSERT INTO tag_digests (scope, customer_id, digest) VALUES (0, 'C~gone', 7)"))
    report = classify(engine, graph, progress=False)
    assert not [k for k in _open_spans(engine) if k[0] == "C~gone"]
    assert (0, "C~gone") not in _digests(engine)
    assert report.staged == 0 and report.spans_closed > 0  # only the gone subject was touched


def test_migration_0018_gives_every_subject_with_open_spans_a_digest(loaded, downgrade):
    engine, _ = loaded
    subjects = set(_open_spans(engine))
    downgrade(engine, "0017")
    migrate(engine)
    digests = _digests(engine)
    assert {c for _, c in digests} == {c for c, _ in subjects} and set(digests.values()) == {0}
    enterprises = {c for (s, c) in digests if s == 1}
    assert enterprises and all(d.startswith("enterprise_") for c, d in subjects if c in enterprises)


_TEXT = st.text(max_size=12)


def _tags(rows) -> pd.DataFrame:
    cols = ["customer_id", "dimension", "value", "label_zh", "label_en", "score", "rule", "inputs", "standard_version"]
    return pd.DataFrame(rows, columns=cols)


@given(
    st.lists(
        st.tuples(_TEXT, _TEXT, _TEXT, st.one_of(st.none(), st.floats(-1e12, 1e12)), _TEXT, _TEXT),
        min_size=1,
        max_size=8,
        unique_by=lambda r: r[0],
    ),
    st.data(),
)
def test_a_digest_moves_with_any_content_and_only_with_it(rows, data):
    tags = _tags([("C1", d, v, zh, "en", s, r, i, "v1") for d, v, zh, s, r, i in rows])
    same = subject_digests(tags.copy())
    assert same.equals(subject_digests(tags))
    i = data.draw(st.integers(0, len(tags) - 1))
    col = data.draw(st.sampled_from(["value", "label_zh", "rule", "inputs", "standard_version", "score"]))
    edited = tags.copy()
    old = edited.at[i, col]
    if col == "score":
        edited.at[i, col] = 1.0 if old is None or np.isnan(old) else old * 1.001 + 1.0
    else:
        edited.at[i, col] = old + "x"
    assert not subject_digests(edited).equals(same)


def test_a_score_that_moved_in_its_last_bits_keeps_the_digest():
    a = _tags([("C1", "d", "v", "zh", "en", 0.3, "r", "{}", "v1")])
    b = a.assign(score=0.1 + 0.2)  # 0.30000000000000004
    assert row_digests(a)[0] == row_digests(b)[0]
    assert row_digests(a)[0] != row_digests(a.assign(score=0.3001))[0]
