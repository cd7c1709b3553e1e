"""Earned points posted inside the database (`points_post`) are what the pure rule
(`earned_points`) says, to the point, on every backend: random purchases (any amount to the
cent, any moment, month ends included) under random multipliers, the first rule that takes
each, rounding, minimum amounts and expiry dates; and the balance moved by exactly what posted."""

import datetime as dt
import itertools
from dataclasses import replace

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientstrata.graph.record.models import Individual, Product, Purchase
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.strategies.playbook import playbook_of
from clientstrata.jobs.strategies.points import balances, ledger_mismatches, post_earned, postings
from clientstrata.jobs.strategies.points_earn import EVENT_COLUMNS, earned_points

PLAYBOOK = playbook_of(load_standard())
FAMILIES = {"PW": "wealth_management", "PF": "fund", "PD": "deposit", "PI": "insurance"}  # PI: no rule takes it
NOW = dt.datetime(2031, 1, 1, 9, 0)
_ids = itertools.count()


@pytest.fixture
def db(engine):
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Product.__table__), [{"product_id": p, "name": f, "family": f} for p, f in FAMILIES.items()]
        )
    return engine


purchase = st.tuples(
    st.sampled_from(sorted(FAMILIES)),
    # cents: up to CNY 10M, with the small amounts that earn less than a point well represented
    st.one_of(st.integers(0, 2_000), st.integers(0, 1_000_000_000)),
    st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2030, 12, 31, 23, 59, 59)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bought=st.lists(purchase, min_size=1, max_size=12),
    package=st.sampled_from([None, "mass", "affluent", "wealth", "private_banking"]),
    factor=st.sampled_from([1.0, 1.5, 1.7, 2.0, 3.3]),
    months=st.integers(1, 36),
)
def test_the_database_posts_what_the_pure_rule_earns(db, bought, package, factor, months):
    rules = PLAYBOOK.points
    multipliers = {**rules.multipliers, **({package: factor} if package else {})}
    playbook = replace(PLAYBOOK, points=replace(rules, multipliers=multipliers, expiry_months=months))
    cid = f"PP{next(_ids):06d}"
    rows = [
        {
            "purchase_id": f"{cid}-{i}",
            "customer_id": cid,
            "product_id": product,
            "purchased_at": at,
            "amount": cents / 100,
        }
        for i, (product, cents, at) in enumerate(bought)
    ]
    packages = pd.DataFrame({"customer_id": [cid], "package": [package]})
    with db.begin() as conn:
        conn.execute(
            sa.insert(Individual.__table__).values(customer_id=cid, name="测试", birth_date=dt.date(1980, 1, 1))
        )
        conn.execute(sa.insert(Purchase.__table__), rows)
        posted = post_earned(conn, playbook, packages, "test", NOW, [cid])
    events = pd.DataFrame(
        [
            (
                cid,
                f"purchase:{r['purchase_id']}",
                "purchases",
                FAMILIES[r["product_id"]],
                r["amount"],
                r["purchased_at"],
            )
            for r in rows
        ],
        columns=EVENT_COLUMNS,
    )
    expected = earned_points(events, playbook.points, packages).set_index("source").sort_index()
    with db.connect() as conn:
        got = postings(conn, cid).set_index("source").sort_index()
        assert ledger_mismatches(conn).empty
        assert balances(conn, [cid])[cid] == int(expected["points"].sum())
    assert (posted["postings"], posted["points"], posted["events_read"]) == (
        len(expected),
        int(expected["points"].sum()),
        len(rows),
    )
    assert got.index.tolist() == expected.index.tolist()
    assert got["points"].astype(int).tolist() == expected["points"].astype(int).tolist()
    assert got["rule"].tolist() == expected["rule"].tolist()
    assert got["multiplier"].astype(float).tolist() == expected["multiplier"].tolist()
    assert got["package"].tolist() == expected["package"].tolist()
    assert got["basis_amount"].astype(float).tolist() == expected["basis_amount"].tolist()
    assert [pd.Timestamp(t) for t in got["occurred_at"]] == expected["occurred_at"].tolist()
    assert [pd.Timestamp(d).date() for d in got["expires_on"]] == expected["expires_on"].tolist()
    assert set(got["kind"]) <= {"earn"} and set(got["posted_by"]) <= {"test"}


def test_the_rounding_is_numpys_at_the_edges(db):
    """Amounts whose points land a hair's breadth from a whole number, where SQLite's round()
    (half away from zero) and PostgreSQL's integer cast (rounds) would disagree with numpy."""
    rules = PLAYBOOK.points
    playbook = replace(PLAYBOOK, points=replace(rules, multipliers={**rules.multipliers, "wealth": 1.1}))
    cid = f"PP{next(_ids):06d}"
    at = dt.datetime(2024, 1, 31, 12, 30, 15, 123456)  # a month end: expiry keeps to the month's last day
    amounts = [0.01, 9.99, 10.0, 10.01, 90.91, 909.09, 12_345.67, 99_999.99, 0.0]
    rows = [
        {"purchase_id": f"{cid}-{i}", "customer_id": cid, "product_id": "PW", "purchased_at": at, "amount": a}
        for i, a in enumerate(amounts)
    ]
    packages = pd.DataFrame({"customer_id": [cid], "package": ["wealth"]})
    with db.begin() as conn:
        conn.execute(
            sa.insert(Individual.__table__).values(customer_id=cid, name="测试", birth_date=dt.date(1980, 1, 1))
        )
        conn.execute(sa.insert(Purchase.__table__), rows)
        post_earned(conn, playbook, packages, "test", NOW, [cid])
    events = pd.DataFrame(
        [(cid, f"purchase:{r['purchase_id']}", "purchases", "wealth_management", r["amount"], at) for r in rows],
        columns=EVENT_COLUMNS,
    )
    expected = earned_points(events, playbook.points, packages).set_index("source")["points"].sort_index()
    with db.connect() as conn:
        got = postings(conn, cid).set_index("source").sort_index()
    assert got["points"].astype(int).to_dict() == expected.astype(int).to_dict()
    assert {pd.Timestamp(d).date() for d in got["expires_on"]} == {dt.date(2026, 1, 31)}
