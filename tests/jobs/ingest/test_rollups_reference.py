"""The vectorised rollup refresh (issue 15) writes what main's did, row for row: main's functions
are kept in tests/benchmarks/baselines/household_rollups.py, and both run on the same state of
the same bank inside transactions rolled back — a bank's first run's household tiers, and
refreshes of every kind (a publish, an ingest's customers and households, a rebuild) after
random damage to the rollups and to the memberships. Compared: every column of both rollup
tables except the moment (each writer stamps its own `now`; which rows got a new one is
compared), the rollup clock's version and month, and the report."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientstrata.graph.record.models import RollupClock
from clientstrata.graph.record.queries import latest_run_id
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.ingest import rollups as new
from clientstrata.jobs.ingest.load import ingest
from clientstrata.jobs.ingest.sync import sync_graph
from clientstrata.jobs.runs.pipeline import classify

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "baselines"))
import household_rollups as main  # noqa: E402

FX = load_standard().fx_to_cny
TABLES = {"customer_rollups": "customer_id", "household_rollups": "household_id"}


def _state(conn) -> dict:
    """Both rollup tables by key (the moment apart) and the clock's version and month."""
    out = {}
    for table, key in TABLES.items():
        frame = pd.read_sql(sa.text(f"SELECT * FROM {table} ORDER BY {key}"), conn)
        frame["aum"] = frame["aum"].astype(float)
        out[table] = frame.set_index(key)
    out["clock"] = tuple(conn.execute(sa.select(RollupClock.version, RollupClock.month)).one())
    return out


def _assert_same(before: dict, a: dict, b: dict) -> None:
    """`a` and `b` (two writers' results from `before`) hold the same rows and values, and
    restamped the same rows."""
    assert a["clock"] == b["clock"]
    for table in TABLES:
        x, y = a[table], b[table]
        assert list(x.index) == list(y.index), table
        rest = [c for c in x.columns if c != "updated_at"]
        pd.testing.assert_frame_equal(x[rest], y[rest], check_dtype=False, obj=table)
        was = before[table]["updated_at"]
        assert _restamped(x["updated_at"], was) == _restamped(y["updated_at"], was), table


def _restamped(now: pd.Series, was: pd.Series) -> set:
    """The keys whose moment is new (or that are new)."""
    return set(now.index[now.ne(was.reindex(now.index))])


def _both(engine, damage, refresh):
    """`refresh(module, conn)` by main's code and by this code, each on the bank as `damage`
    left it, in a transaction rolled back; their states and reports compared."""
    results = []
    for module in (main, new):
        with engine.connect() as conn:
            tx = conn.begin()
            try:
                damage(conn)
                before = _state(conn)
                report = refresh(module, conn)
                results.append((before, _state(conn), report))
            finally:
                tx.rollback()
    (before, a, ra), (_, b, rb) = results
    _assert_same(before, a, b)
    assert (ra.version, ra.full, ra.customers, ra.households) == (rb.version, rb.full, rb.customers, rb.households)
    return ra


def _run_tiers(conn) -> pd.Series:
    """customer -> the latest run's household tier: what the publish holds when it refreshes."""
    rows = conn.execute(
        sa.text("SELECT customer_id, value FROM tags WHERE run_id = :r AND dimension = :d"),
        {"r": latest_run_id(conn), "d": new.HOUSEHOLD_TIER_DIMENSION},
    ).all()
    return pd.Series([v for _, v in rows], index=[c for c, _ in rows], dtype=object)


def test_a_first_runs_household_tiers_are_mains(engine, graph, bundle_dir):
    """The first run's household tiers phase, from the rollups exactly as the ingest left them:
    main's gives what this code's publish wrote."""
    ingest(bundle_dir, engine=engine, progress=False)
    sync_graph(engine, graph, progress=False)
    with engine.connect() as conn:
        ingested = {t: pd.read_sql(sa.text(f"SELECT * FROM {t}"), conn) for t in ("household_rollups", "rollup_clock")}
        assert ingested["household_rollups"]["tier"].isna().all()
    classify(engine, graph, progress=False)
    with engine.connect() as conn:
        published = _state(conn)

    def as_ingested(conn):
        for table, frame in ingested.items():
            conn.execute(sa.text(f"DELETE FROM {table}"))
            conn.execute(sa.table(table, *(sa.column(c) for c in frame)).insert(), frame.to_dict("records"))

    def publish(module, conn):
        return module.refresh_after_publish(conn, _run_tiers(conn), FX)

    with engine.connect() as conn:
        tx = conn.begin()
        try:
            as_ingested(conn)
            before = _state(conn)
            report = main.refresh_after_publish(conn, _run_tiers(conn), FX)
            by_main = _state(conn)
        finally:
            tx.rollback()
    assert report.households > 0 and by_main["household_rollups"]["tier"].notna().any()
    _assert_same(before, by_main, published)
    _both(engine, as_ingested, publish)


_damage = st.fixed_dictionaries(
    {
        "tier": st.lists(st.integers(0, 10_000), max_size=8),  # household rollups with a stale tier
        "gone": st.lists(st.integers(0, 10_000), max_size=4),  # household rollups deleted
        "aum": st.lists(st.tuples(st.integers(0, 10_000), st.floats(-1e6, 1e7)), max_size=8),  # customer AUM drifted
        "lost": st.lists(st.integers(0, 10_000), max_size=4),  # customer rollups deleted
        "moved": st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), max_size=4),  # member moved
        "head": st.lists(st.integers(0, 10_000), max_size=4),  # a member made head
    }
)


def _damaged(d: dict):
    def damage(conn):
        households = conn.execute(sa.text("SELECT household_id FROM households ORDER BY household_id")).scalars().all()
        customers = conn.execute(sa.text("SELECT customer_id FROM individuals ORDER BY customer_id")).scalars().all()
        members = (
            conn.execute(sa.text("SELECT customer_id FROM household_members ORDER BY customer_id")).scalars().all()
        )
        pick = lambda xs, i: xs[i % len(xs)]  # noqa: E731
        for i in d["tier"]:
            conn.execute(
                sa.text("UPDATE household_rollups SET tier = 'stale', fingerprint = 'stale' WHERE household_id = :h"),
                {"h": pick(households, i)},
            )
        for i in d["gone"]:
            conn.execute(sa.text("DELETE FROM household_rollups WHERE household_id = :h"), {"h": pick(households, i)})
        for i, x in d["aum"]:
            conn.execute(
                sa.text("UPDATE customer_rollups SET aum = :a WHERE customer_id = :c"),
                {"a": round(x, 2), "c": pick(customers, i)},
            )
        for i in d["lost"]:
            conn.execute(sa.text("DELETE FROM customer_rollups WHERE customer_id = :c"), {"c": pick(customers, i)})
        for i, j in d["moved"]:
            conn.execute(
                sa.text("UPDATE household_members SET household_id = :h WHERE customer_id = :c"),
                {"h": pick(households, j), "c": pick(members, i)},
            )
        for i in d["head"]:
            conn.execute(
                sa.text("UPDATE household_members SET role = 'head' WHERE customer_id = :c"), {"c": pick(members, i)}
            )

    return damage


_refresh = st.one_of(
    st.tuples(st.just("publish")),
    st.tuples(st.just("rebuild")),
    st.tuples(
        st.just("some"), st.lists(st.integers(0, 10_000), max_size=12), st.lists(st.integers(0, 10_000), max_size=6)
    ),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(d=_damage, how=_refresh, whole=st.booleans())
def test_every_refresh_after_damage_is_mains(loaded, monkeypatch, d, how, whole):
    """`whole`: the run's household tiers read as the whole dimension (as past `WHOLE_DIMENSION`
    customers), else looked up for the customers asked."""
    engine, _ = loaded
    monkeypatch.setattr(new, "WHOLE_DIMENSION", -1 if whole else 10**9)

    def refresh(module, conn):
        if how[0] == "publish":
            return module.refresh_after_publish(conn, _run_tiers(conn), FX)
        if how[0] == "rebuild":
            return module.refresh_rollups(conn, fx=FX, full=True)
        customers = conn.execute(sa.text("SELECT customer_id FROM individuals ORDER BY customer_id")).scalars().all()
        households = conn.execute(sa.text("SELECT household_id FROM households ORDER BY household_id")).scalars().all()
        return module.refresh_rollups(
            conn,
            [customers[i % len(customers)] for i in how[1]],
            [households[i % len(households)] for i in how[2]],
            fx=FX,
        )

    _both(engine, _damaged(d), refresh)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(st.floats(-1e9, 1e10), st.just(0.0), st.just(-0.0)).map(lambda x: round(x, 2)),
            min_size=1,
            max_size=20,
        ),
        min_size=1,
        max_size=30,
    )
)
def test_household_sums_are_the_households_own_arrays(groups):
    """The members' AUM summed per household in one pass is, bit for bit (and zero's sign), what
    main's per-household `np.array(...).sum()` gave: numpy's own order of additions."""
    values = np.array([x for g in groups for x in g], dtype=float)
    sizes = np.array([len(g) for g in groups])
    starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(int)
    got = new._sums(values, starts, starts + sizes)
    want = [np.array(g, dtype=float).sum() for g in groups]
    assert [(x, np.signbit(x)) for x in got.tolist()] == [(float(x), np.signbit(x)) for x in want]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(-1e13, 1e13, allow_nan=False),
            st.integers(-(10**12), 10**12).map(lambda c: c / 1000),  # halves of a cent among them
            st.integers(-(10**9), 10**9).map(lambda c: (c + 0.5) / 100),
        ),
        max_size=60,
    )
)
def test_cents_are_pythons_round(values):
    """The vectorised rounding to cents gives what `round(float(v), 2)` gives, value for value
    and sign for sign, halves of a cent included."""
    got = new._round2(values).tolist()
    want = [round(float(v), 2) for v in values]
    assert [(x, np.signbit(x)) for x in got] == [(x, np.signbit(x)) for x in want]
