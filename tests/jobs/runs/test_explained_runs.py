"""A run stores rule keys; readers get words made from the standard of the run they read. When a
standard changes a threshold but not a customer's tier, the tag is not rewritten, yet each run's
history still explains it by that run's own rules."""

from __future__ import annotations

import sqlalchemy as sa

from clientstrata.jobs.runs.explain import explained_tags, words
from clientstrata.jobs.runs.history import tag_histories
from clientstrata.jobs.runs.pipeline import classify


def _wealth_customer(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT customer_id FROM tags WHERE dimension = 'wealth_tier' AND value = 'wealth' "
                "AND run_id = (SELECT MAX(run_id) FROM tags) ORDER BY customer_id LIMIT 1"
            )
        ).scalar_one()


def test_each_run_is_explained_by_its_own_standard(loaded, write_standard):
    engine, graph = loaded
    cid = _wealth_customer(engine)
    with engine.connect() as conn:
        (before,) = [t for t in explained_tags(conn, [cid])[cid] if t["dimension"] == "wealth_tier"]
    assert "< 6,000,000" in words(before, "en") and "< 6,000,000" in words(before, "zh")
    stricter = write_standard(replace={'version: "2026.2"': 'version: "2026.2-pb7m"', "min: 6000000,": "min: 7000000,"})
    classify(engine, graph, standard=stricter, progress=False, adopt=True, requested_by="li")
    with engine.connect() as conn:
        (after,) = [t for t in explained_tags(conn, [cid])[cid] if t["dimension"] == "wealth_tier"]
        history = tag_histories(conn, [(cid, "wealth_tier")])[(cid, "wealth_tier")]
    assert after["value"] == before["value"] == "wealth" and after["run_id"] == before["run_id"] + 1
    assert "< 7,000,000" in words(after, "en") and "< 7,000,000" in words(after, "zh")
    assert [h["run_id"] for h in history] == [before["run_id"], after["run_id"]]
    assert "< 6,000,000" in history[0]["explanation"] and "< 7,000,000" in history[1]["explanation"]
    assert "月日均资产" in history[0]["explanation_zh"] and "< 6,000,000" in history[0]["explanation_zh"]


def test_a_run_stores_keys_not_sentences(loaded):
    engine, _ = loaded
    with engine.connect() as conn:
        longest, keys = conn.execute(
            sa.text(
                "SELECT MAX(LENGTH(rule)), COUNT(DISTINCT rule) FROM tags WHERE run_id = (SELECT MAX(run_id) FROM tags)"
            )
        ).one()
        cid = _wealth_customer(engine)
        tags = explained_tags(conn, [cid])[cid]
    assert longest <= 24 and keys < 200  # a few keys shared by everyone, not one sentence per tag
    assert len(tags) >= 18 and all(words(t, "en") and words(t, "zh") for t in tags)
