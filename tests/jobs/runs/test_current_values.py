"""The bulk read's wide rows (`current_tag_values`, jobs/runs/current_values.py) always equal the
latest run's tags, and a publish rewrites only the rows of what it changed: a re-run that changes
nothing rewrites none, a changed customer's row is rewritten, and an override that hides a change
from the feed does not leave a stale row behind."""

import json

import sqlalchemy as sa

from clientstrata.jobs.governance.overrides import approve_override, propose_override, revoke_override
from clientstrata.jobs.runs.pipeline import classify


def _wide(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {
            c: json.loads(v) for c, v in conn.execute(sa.text("SELECT customer_id, tag_values FROM current_tag_values"))
        }


def _latest_tags(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        run = conn.execute(sa.text("SELECT max(run_id) FROM classification_runs WHERE status = 'published'")).scalar()
        rows = conn.execute(sa.text("SELECT customer_id, dimension, value FROM tags WHERE run_id = :r"), {"r": run})
        out: dict[str, dict] = {}
        for c, d, v in rows:
            out.setdefault(c, {})[d] = v
    return out


def _rewrites(engine):
    """Count the statements' effect: rows of current_tag_values deleted or inserted, by trigger."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE wide_writes (n INTEGER)")
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER wide_ins AFTER INSERT ON current_tag_values BEGIN INSERT INTO wide_writes VALUES (1); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION wide_count() RETURNS trigger AS $$ BEGIN INSERT INTO wide_writes VALUES (1); "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER wide_ins AFTER INSERT ON current_tag_values FOR EACH ROW EXECUTE FUNCTION wide_count()"
            )

    def count() -> int:
        with engine.begin() as conn:
            n = conn.exec_driver_sql("SELECT count(*) FROM wide_writes").scalar()
            conn.exec_driver_sql("DELETE FROM wide_writes")
        return n

    return count


def test_the_wide_rows_follow_the_runs_and_a_rerun_rewrites_only_what_changed(loaded, set_aum, customer_in):
    engine, graph = loaded
    assert _wide(engine) == _latest_tags(engine) and len(_wide(engine)) > 100
    rewrites = _rewrites(engine)

    classify(engine, graph, progress=False)  # nothing changed in the record
    assert rewrites() == 0 and _wide(engine) == _latest_tags(engine)

    riser = customer_in("wealth_tier", "mass")[0]
    set_aum(riser, 1_000_000)
    classify(engine, graph, progress=False)
    assert _wide(engine)[riser]["wealth_tier"] == "wealth"
    with engine.connect() as conn:  # the riser, and those whose relative dimensions moved with it
        in_feed = conn.execute(
            sa.text("SELECT count(DISTINCT customer_id) FROM classification_changes WHERE run_id = 3")
        ).scalar()
    assert rewrites() == in_feed and 1 <= in_feed < len(_wide(engine)) // 20
    assert _wide(engine) == _latest_tags(engine)


def test_a_change_hidden_by_an_override_is_still_written(loaded, set_aum, customer_in):
    """The feed shows effective values: with an override in force on every dimension a change
    moves, the computed tags change without a feed row. When the overrides go, the table must show
    the new computed values."""
    engine, graph = loaded
    riser = customer_in("wealth_tier", "mass")[0]
    with engine.connect() as conn:
        was = conn.execute(sa.text("SELECT aum FROM customer_rollups WHERE customer_id = :c"), {"c": riser}).scalar()
    set_aum(riser, 1_000_000)
    moved = classify(engine, graph, progress=False).run_id
    set_aum(riser, float(was))
    classify(engine, graph, progress=False)  # back as it was
    with engine.begin() as conn:
        dims = (
            conn.execute(
                sa.text("SELECT DISTINCT dimension FROM classification_changes WHERE run_id = :r AND customer_id = :c"),
                {"r": moved, "c": riser},
            )
            .scalars()
            .all()
        )
        overrides = []
        for dim in dims:  # each held at what it is now: the next run's change is hidden from the feed
            ov = propose_override(conn, "mei", riser, dim, _wide(engine)[riser][dim], "held for review")
            overrides.append(approve_override(conn, "li", ov.override_id).override_id)
    assert "wealth_tier" in dims
    set_aum(riser, 1_000_000)
    hidden = classify(engine, graph, progress=False).run_id
    with engine.begin() as conn:
        in_feed = conn.execute(
            sa.text("SELECT count(*) FROM classification_changes WHERE run_id = :r AND customer_id = :c"),
            {"r": hidden, "c": riser},
        ).scalar()
        for override_id in overrides:
            revoke_override(conn, "li", override_id, "review done")
    assert in_feed == 0  # the feed saw nothing of the riser's change
    assert _wide(engine)[riser]["wealth_tier"] == "wealth"
    assert _wide(engine) == _latest_tags(engine)
