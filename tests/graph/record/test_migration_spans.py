"""Migration 0016 turns a record's run-indexed tag rows into spans, merging consecutive equal
publications, and the `tags` view gives every run back exactly its rows."""

import datetime as dt
import json

import sqlalchemy as sa

from clientstrata.graph.record.db import migrate

_ROW = "(:r, :c, :d, :v, 'zh', 'en', :s, 'rule', :i, 'v1')"


def test_existing_tags_become_merged_spans(engine, downgrade):
    downgrade(engine, "0015")
    t0 = dt.datetime(2026, 1, 1)
    # runs 1, 2, 4 published; 3 failed. Run 4 was reserved before 2 but published after it.
    runs = [(1, "published", t0), (3, "failed", None), (4, "published", t0 + dt.timedelta(days=3))]
    runs.append((2, "published", t0 + dt.timedelta(days=1)))
    rows = {
        # (run, customer, dimension): (value, score, inputs)
        (1, "C1", "tier"): ("a", 1.0, '{"x":1}'),
        (2, "C1", "tier"): ("a", 1.0, '{"x":1}'),  # same as run 1: one span
        (4, "C1", "tier"): ("b", 2.0, '{"x":2}'),
        (1, "C2", "tier"): ("a", None, "{}"),  # gone after run 1
        (1, "C3", "tier"): ("a", 1.0, "{}"),
        (4, "C3", "tier"): ("a", 1.0, "{}"),  # back after a publication without it: two spans
        (2, "C4", "tier"): ("a", 1.0, '{"x":1}'),
        (4, "C4", "tier"): ("a", 1.0, '{"x":2}'),  # only the inputs changed: a new span
    }
    with engine.begin() as conn:
        for run_id, status, at in runs:
            conn.execute(
                sa.text(
                    "INSERT INTO classification_runs (run_id, status, standard_version, standard_sha256, "
                    "started_at, published_at, kind) VALUES (:r, :s, 'v1', :h, :t, :p, 'on_demand')"
                ),
                {"r": run_id, "s": status, "h": "0" * 64, "t": t0, "p": at},
            )
        for (r, c, d), (v, s, i) in rows.items():
            conn.execute(
                sa.text(
                    "INSERT INTO tags (run_id, customer_id, dimension, value, label_zh, label_en, score, rule, "
                    f"inputs, standard_version) VALUES {_ROW}"
                ),
                {"r": r, "c": c, "d": d, "v": v, "s": s, "i": i},
            )
    migrate(engine)
    with engine.connect() as conn:
        seqs = dict(conn.execute(sa.text("SELECT run_id, publish_seq FROM classification_runs")).all())
        spans = conn.execute(
            sa.text("SELECT customer_id, from_seq, to_seq FROM tag_spans ORDER BY customer_id, from_seq")
        ).all()
        back = conn.execute(sa.text("SELECT run_id, customer_id, dimension, value, score, inputs FROM tags")).all()
    assert seqs == {1: 1, 2: 2, 3: None, 4: 3}  # publication order, the failed run none
    assert [tuple(s) for s in spans] == [
        ("C1", 1, 3),
        ("C1", 3, None),
        ("C2", 1, 2),
        ("C3", 1, 2),
        ("C3", 3, None),
        ("C4", 2, 3),
        ("C4", 3, None),
    ]
    parse = lambda i: i if isinstance(i, dict) else json.loads(i)
    got = {(r, c, d): (v, s, parse(i)) for r, c, d, v, s, i in back}
    assert got == {k: (v, s, parse(i)) for k, (v, s, i) in rows.items()}
    with engine.connect() as conn:  # 0017 fills the bulk read's wide rows from the latest run (4)
        wide = dict(conn.execute(sa.text("SELECT customer_id, tag_values FROM current_tag_values")).all())
    assert {c: json.loads(v) for c, v in wide.items()} == {
        "C1": {"tier": "b"},
        "C3": {"tier": "a"},
        "C4": {"tier": "a"},
    }
