import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import NotFound
from clientstrata.graph.record.models import ClassificationRun
from clientstrata.jobs.errors import InvalidState, UnknownDimension
from clientstrata.jobs.governance.overrides import approve_override, propose_override
from clientstrata.jobs.governance.standards import standard_text
from clientstrata.jobs.runs.history import NONE, list_runs, migration_matrix, run_as_of, tags_as_of
from clientstrata.jobs.runs.pipeline import classify


def _value(tags, customer_id, dimension="wealth_tier"):
    return next(t["value"] for t in tags[customer_id] if t["dimension"] == dimension)


def _published_at(engine, run_id):
    runs = ClassificationRun.__table__
    with engine.connect() as conn:
        return conn.execute(sa.select(runs.c.published_at).where(runs.c.run_id == run_id)).scalar()


@pytest.fixture
def two_runs(loaded, set_aum, customer_in):
    """Run 1 as loaded; then one mass customer's AUM jumps to 1M (→ wealth), one new customer
    arrives, and run 2 is published."""
    engine, graph = loaded
    riser = customer_in("wealth_tier", "mass")[0]
    set_aum(riser, 1_000_000)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO individuals (customer_id, name, birth_date) VALUES ('C9000001', 'New', '1990-01-01')")
        )
    report = classify(engine, graph, progress=False, requested_by="ops")
    assert report.run_id == 2
    return engine, riser


def test_as_of_reads_follow_publication(two_runs):
    engine, riser = two_runs
    t1, t2 = _published_at(engine, 1), _published_at(engine, 2)
    with engine.connect() as conn:
        assert run_as_of(conn, t1 - dt.timedelta(microseconds=1)) is None
        assert tags_as_of(conn, [riser], t1 - dt.timedelta(microseconds=1)) == {}
        assert run_as_of(conn, t1) == 1 and run_as_of(conn, t2 - dt.timedelta(microseconds=1)) == 1
        assert run_as_of(conn, t2) == 2 and run_as_of(conn, t2.date()) == 2
        before, after = tags_as_of(conn, [riser, "C9000001"], t1), tags_as_of(conn, [riser, "C9000001"], t2)
    assert _value(before, riser) == "mass" and _value(after, riser) == "wealth"
    assert "C9000001" not in before and _value(after, "C9000001") == "mass"
    assert {t["run_id"] for t in before[riser]} == {1} and {t["run_id"] for t in after[riser]} == {2}


def test_as_of_applies_the_overrides_in_force_at_that_moment(two_runs):
    engine, riser = two_runs
    t2 = _published_at(engine, 2)
    approved = t2 + dt.timedelta(days=1)
    with engine.begin() as conn:
        ov = propose_override(conn, "mei", riser, "wealth_tier", "private_banking", "family office mandate")
        approve_override(conn, "li", ov.override_id, at=approved)
    with engine.connect() as conn:
        just_before = tags_as_of(conn, [riser], approved - dt.timedelta(seconds=1))
        at = tags_as_of(conn, [riser], approved)
    assert _value(just_before, riser) == "wealth"
    tag = next(t for t in at[riser] if t["dimension"] == "wealth_tier")
    assert (tag["value"], tag["computed_value"], tag["run_id"]) == ("private_banking", "wealth", 2)


def test_runs_are_numbered_with_their_inputs_and_standard(two_runs):
    engine, _ = two_runs
    with engine.connect() as conn:
        runs = list_runs(conn)
        std = conn.execute(sa.text("SELECT sha256, version, text FROM standards")).all()
    assert runs["run_id"].tolist() == [1, 2] and runs["status"].tolist() == ["published"] * 2
    assert runs["kind"].tolist() == ["on_demand"] * 2 and runs["requested_by"].tolist()[1] == "ops"
    snap1, snap2 = runs["snapshot"]
    assert snap1["ingest_id"] == snap2["ingest_id"] == 1
    assert snap1["rows"]["individuals"] == 300 and snap2["rows"]["individuals"] == 301
    assert snap1["rows"]["balances_monthly"] > 0 and snap1["graph"]["Individual"] == 300
    # the exact text, once, so the run can be reproduced
    assert len(std) == 1 and std[0].sha256 == hashlib.sha256(std[0].text.encode()).hexdigest()
    assert std[0].text == standard_text(None) and set(runs["standard_sha256"]) == {std[0].sha256}


def test_migration_matrix_adds_up_and_lists_who_moved(two_runs):
    engine, riser = two_runs
    with engine.connect() as conn:
        m = migration_matrix(conn, 1, 2, "wealth_tier")
        same = migration_matrix(conn, 2, 2, "cooperation_depth")
    assert m.customers == 301 == m.matrix.to_numpy().sum()
    assert m.matrix.loc["mass", "wealth"] >= 1 and m.matrix.loc[NONE, "mass"] == 1
    assert NONE not in m.matrix.columns  # nobody left
    assert list(m.matrix.index)[:2] == ["mass", "affluent"]  # the standard's order, (none) last
    moves = {r.customer_id: (r.from_value, r.to_value) for r in m.moves.itertuples()}
    assert moves == {riser: ("mass", "wealth"), "C9000001": (NONE, "mass")}
    # diagonal + moves = everyone
    assert sum(m.matrix.loc[v, v] for v in m.matrix.index if v in m.matrix.columns) + len(m.moves) == 301
    assert same.moves.empty and same.customers == 301
    d = m.to_dict()
    assert d["moved"] == 2 and d["matrix"]["mass"]["wealth"] >= 1


def test_migration_refuses_unknown_runs_and_dimensions(two_runs):
    engine, _ = two_runs
    with engine.connect() as conn:
        with pytest.raises(NotFound):
            migration_matrix(conn, 1, 9, "wealth_tier")
        with pytest.raises(UnknownDimension, match=r"has: .*cooperation_depth, .*wealth_tier"):
            migration_matrix(conn, 1, 2, "wealth_teir")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE classification_runs SET status = 'failed' WHERE run_id = 2"))
    with engine.connect() as conn, pytest.raises(InvalidState, match="failed"):
        migration_matrix(conn, 1, 2, "wealth_tier")
