"""The points ledger's invariants, on every backend: replaying a source never posts twice, no
sequence of earning, redeeming and expiring overdraws, and a balance is always the sum of its
postings. A reference model (first-in-first-out lots) says what each step must do."""

import datetime as dt
import itertools
import threading
from dataclasses import replace

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientstrata.graph.errors import ClientStrataError
from clientstrata.graph.record.models import Individual, PointsPosting, Product, Purchase
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.strategies.playbook import playbook_of
from clientstrata.jobs.strategies.points import (
    InsufficientPoints,
    balances,
    expire,
    ledger_mismatches,
    post_earned,
    postings,
    redeem,
)

_DEFAULT = playbook_of(load_standard())
RULES = replace(_DEFAULT.points, expiry_months=2)  # short, so sequences of a few steps see points expire
PLAYBOOK = replace(_DEFAULT, points=RULES)
PER_100 = int(RULES.rule("wealth_purchase").points_per_100)  # points per CNY 100 invested
NO_PACKAGES = pd.DataFrame(columns=["customer_id", "package"])
START = dt.datetime(2025, 1, 1, 9, 0)
_ids = itertools.count()


def _customer(conn) -> str:
    cid = f"PT{next(_ids):06d}"
    conn.execute(sa.insert(Individual.__table__).values(customer_id=cid, name="测试", birth_date=dt.date(1980, 1, 1)))
    return cid


@pytest.fixture
def db(engine):
    with engine.begin() as conn:
        conn.execute(sa.insert(Product.__table__).values(product_id="P010", name="理财", family="wealth_management"))
    return engine


def _buy(conn, cid: str, hundreds: int, at: dt.datetime) -> None:
    conn.execute(
        sa.insert(Purchase.__table__).values(
            purchase_id=f"{cid}-{next(_ids)}",
            customer_id=cid,
            product_id="P010",
            purchased_at=at,
            amount=hundreds * 100,
        )
    )


def _check_ledger(conn, cid: str, expected: int) -> None:
    assert ledger_mismatches(conn).empty
    assert balances(conn, [cid])[cid] == expected >= 0
    assert int(postings(conn, cid)["points"].sum()) == expected


class FifoModel:
    """What the ledger must hold: lots of earned points, oldest spent or expired first."""

    def __init__(self) -> None:
        self.lots: list[list] = []  # [expires_on, remaining]

    def earn(self, points: int, at: dt.datetime) -> None:
        self.lots.append([(pd.Timestamp(at) + pd.DateOffset(months=RULES.expiry_months)).date(), points])
        self.lots.sort(key=lambda lot: lot[0])

    def expire(self, today: dt.date) -> None:
        self.lots = [lot for lot in self.lots if lot[0] > today]

    def spend(self, points: int) -> None:
        for lot in self.lots:
            taken = min(lot[1], points)
            lot[1] -= taken
            points -= taken
        self.lots = [lot for lot in self.lots if lot[1] > 0]

    @property
    def balance(self) -> int:
        return sum(lot[1] for lot in self.lots)


step = st.one_of(
    st.tuples(st.just("earn"), st.integers(1, 3000), st.integers(0, 40)),
    st.tuples(st.just("redeem"), st.integers(1, 30), st.integers(0, 40)),
    st.tuples(st.just("expire"), st.just(0), st.integers(0, 70)),
    st.tuples(st.just("replay"), st.just(0), st.integers(0, 5)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=14))
def test_any_sequence_keeps_the_ledger_whole_and_never_overdraws(db, steps):
    with db.begin() as conn:
        cid = _customer(conn)
    model, now, requests = FifoModel(), START, []
    for kind, size, days in steps:
        now += dt.timedelta(days=days)
        with db.begin() as conn:
            if kind == "earn":
                _buy(conn, cid, size, now)
                post_earned(conn, PLAYBOOK, NO_PACKAGES, "test", now, [cid])
                model.earn(size * PER_100, now)  # ×1 without a package
            elif kind == "redeem":
                request = f"r{len(requests)}"
                model.expire(now.date())
                cost = RULES.points_for(size)
                if cost > model.balance:
                    with pytest.raises(InsufficientPoints):
                        redeem(
                            conn, "test", cid, PLAYBOOK, fee_item="sms_alerts", price=size, request_id=request, now=now
                        )
                else:
                    out = redeem(
                        conn, "test", cid, PLAYBOOK, fee_item="sms_alerts", price=size, request_id=request, now=now
                    )
                    assert (out["points"], out["replayed"]) == (-cost, False)
                    model.spend(cost)
                    requests.append(request)
            elif kind == "expire":
                expire(conn, now.date(), "test", now)
                model.expire(now.date())
            else:  # replay every source seen so far: nothing new may post
                before = len(postings(conn, cid))
                post_earned(conn, PLAYBOOK, NO_PACKAGES, "test", now, [cid])
                expire(conn, now.date(), "test", now, [cid])
                model.expire(now.date())
                for request in requests:
                    again = redeem(
                        conn, "test", cid, PLAYBOOK, fee_item="sms_alerts", price=1, request_id=request, now=now
                    )
                    assert again["replayed"]
                new = postings(conn, cid).iloc[: len(postings(conn, cid)) - before]  # newest first
                assert set(new["kind"]) <= {"expire"}
        with db.connect() as conn:
            _check_ledger(conn, cid, model.balance)
            sources = postings(conn, cid)["source"]
            assert sources.is_unique


def test_replaying_a_source_posts_nothing_and_the_database_refuses_a_duplicate(db):
    with db.begin() as conn:
        cid = _customer(conn)
        _buy(conn, cid, 50, START)
        first = post_earned(conn, PLAYBOOK, NO_PACKAGES, "test", START, [cid])
        again = post_earned(conn, PLAYBOOK, NO_PACKAGES, "test", START, [cid])
    assert (first["postings"], again["postings"]) == (1, 0) and first["points"] == 50 * PER_100
    with db.connect() as conn:
        source = postings(conn, cid)["source"][0]
    row = {
        "customer_id": cid,
        "source": source,
        "kind": "earn",
        "points": 1,
        "occurred_at": START,
        "posted_at": START,
        "posted_by": "intruder",
    }
    with pytest.raises((ClientStrataError, sa.exc.IntegrityError)), db.begin() as conn:
        conn.execute(sa.insert(PointsPosting.__table__).values(**row))
    with db.connect() as conn:
        _check_ledger(conn, cid, 50 * PER_100)


def test_the_database_refuses_a_negative_balance(db):
    with db.begin() as conn:
        cid = _customer(conn)
        _buy(conn, cid, 10, START)
        post_earned(conn, PLAYBOOK, NO_PACKAGES, "test", START, [cid])
    with pytest.raises((ClientStrataError, sa.exc.IntegrityError)), db.begin() as conn:
        conn.execute(sa.text("UPDATE points_accounts SET balance = -1 WHERE customer_id = :c"), {"c": cid})


def test_multiplier_follows_the_package_and_a_replay_under_another_package_posts_nothing(db):
    with db.begin() as conn:
        cid = _customer(conn)
        _buy(conn, cid, 10, START)
        wealth = pd.DataFrame({"customer_id": [cid], "package": ["wealth"]})
        post_earned(conn, PLAYBOOK, wealth, "test", START, [cid])
        private = pd.DataFrame({"customer_id": [cid], "package": ["private_banking"]})
        assert post_earned(conn, PLAYBOOK, private, "test", START, [cid])["postings"] == 0
        earned = postings(conn, cid)
    assert (int(earned["points"][0]), earned["package"][0]) == (10 * PER_100 * RULES.multipliers["wealth"], "wealth")


def test_concurrent_redemptions_never_overdraw(db):
    with db.begin() as conn:
        cid = _customer(conn)
        _buy(conn, cid, 100, START)  # 1,000 points: five redemptions of 200 at most
        post_earned(conn, PLAYBOOK, NO_PACKAGES, "test", START, [cid])
    outcomes: list[str] = []

    def pay(i: int) -> None:
        try:
            with db.begin() as conn:
                redeem(conn, "test", cid, PLAYBOOK, fee_item="sms_alerts", price=2, request_id=f"c{i}", now=START)
            outcomes.append("paid")
        except InsufficientPoints:
            outcomes.append("refused")

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["paid"] * 5 + ["refused"] * 3
    with db.connect() as conn:
        _check_ledger(conn, cid, 0)


def test_the_ledger_check_finds_a_balance_that_is_not_its_postings(db):
    with db.begin() as conn:
        cid = _customer(conn)
        _buy(conn, cid, 10, START)
        post_earned(conn, PLAYBOOK, NO_PACKAGES, "test", START, [cid])
        conn.execute(sa.text("UPDATE points_accounts SET balance = balance + 1 WHERE customer_id = :c"), {"c": cid})
        assert ledger_mismatches(conn).values.tolist() == [[cid, 10 * PER_100 + 1, 10 * PER_100]]
        conn.execute(sa.text("DELETE FROM points_accounts WHERE customer_id = :c"), {"c": cid})
        orphan = ledger_mismatches(conn)
    assert orphan["customer_id"].tolist() == [cid] and orphan["balance"].isna().all()
