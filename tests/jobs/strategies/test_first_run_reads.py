"""What a bank's first strategy run reads, made cheaper, answers what it answered: the large
credits found through their partial index (ix_transactions_large_credits) are exactly those of
the deposit rule's floor and up, on every backend, and a floor below the index's still finds its
own; the next-best actions' rewritten helpers give, on random inputs, what the functions they
replaced gave (kept in tests/benchmarks/baselines/strategy_rows.py)."""

import datetime as dt
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from clientstrata.graph.record.models import LARGE_CREDIT, Account, Individual, Product, Transaction
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.strategies.association import _in_text_order, association_rules, recommend
from clientstrata.jobs.strategies.engagement import suitable_mask
from clientstrata.jobs.strategies.playbook import playbook_of
from clientstrata.jobs.strategies.points import post_earned, postings
from clientstrata.jobs.strategies.points_earn import event_queries

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "baselines"))
import strategy_rows as before  # noqa: E402

PLAYBOOK = playbook_of(load_standard())
NOW = dt.datetime(2031, 1, 1, 9, 0)
CID = "LC000001"
# cents, in the order booked: the largest credit first, a hair under the floor, the floor, over
# it; a large debit; a small credit
TXNS = [
    ("credit", 9_500_000),
    ("credit", 4_999_999),
    ("credit", 5_000_000),
    ("credit", 8_000_012),
    ("debit", 9_000_000),
    ("credit", 100),
]


@pytest.fixture
def bank(engine):
    with engine.begin() as conn:
        conn.execute(sa.insert(Product.__table__), [{"product_id": "PD", "name": "活期", "family": "deposit"}])
        conn.execute(
            sa.insert(Individual.__table__).values(customer_id=CID, name="测试", birth_date=dt.date(1980, 1, 1))
        )
        conn.execute(
            sa.insert(Account.__table__).values(
                account_id="A1", owner_type="individual", owner_id=CID, product_id="PD", opened_on=dt.date(2020, 1, 1)
            )
        )
        conn.execute(
            sa.insert(Transaction.__table__),
            [
                {
                    "txn_id": f"T{i}",
                    "account_id": "A1",
                    "booked_at": dt.datetime(2030, 6, 1 + i, 10),
                    "direction": d,
                    "amount": cents / 100,
                    "channel": "branch",
                }
                for i, (d, cents) in enumerate(TXNS)
            ],
        )
    return engine


def _deposits(playbook, floor: float):
    earn = tuple(replace(r, min_amount=floor) if r.source == "deposits" else r for r in playbook.earn)
    return replace(PLAYBOOK, points=replace(playbook, earn=earn))


@pytest.mark.parametrize("floor", [LARGE_CREDIT, 60_000.0, 10_000.0], ids=["the index's", "above", "below"])
def test_the_large_credits_earn_from_the_deposit_rules_floor(bank, floor):
    playbook = _deposits(PLAYBOOK.points, floor)
    packages = pd.DataFrame({"customer_id": [CID], "package": [None]})
    for customers in (None, [CID]):  # the run's read of the whole bank, and one customer's
        with bank.connect() as conn:
            tx = conn.begin()
            post_earned(conn, playbook, packages, "test", NOW, customers)
            got = postings(conn, CID)
            tx.rollback()
        earning = [f"txn:T{i}" for i, (d, cents) in enumerate(TXNS) if d == "credit" and cents >= floor * 100]
        # posted in the order booked, as an account's history is read (not in the amounts' order)
        posted = got[got["rule"] == "large_deposit"].sort_values("posting_id")
        assert posted["source"].tolist() == earning


def test_the_first_runs_credit_read_goes_through_the_partial_index(bank):
    """On SQLite (whose plans are fixed without statistics): the deposits' read of a floor at or
    above the index's is answered from it; one below cannot be, and is not."""
    if bank.dialect.name != "sqlite":
        pytest.skip("the plan is SQLite's")
    plans = {}
    with bank.connect() as conn:
        for floor in (LARGE_CREDIT, 10_000.0):
            rules = _deposits(PLAYBOOK.points, floor).points
            (q,) = [q for q in event_queries(conn, rules).queries if "transactions" in str(q)]
            sql = str(q.compile(bank, compile_kwargs={"literal_binds": True}))
            plans[floor] = " ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert "ix_transactions_large_credits" in plans[LARGE_CREDIT]
    assert "ix_transactions_large_credits" not in plans[10_000.0]


text_ids = st.lists(st.text(alphabet="ABC01é", min_size=0, max_size=4), max_size=40)


@given(ids=text_ids, sort_first=st.booleans())
def test_text_order_numbers_as_a_sorted_factorize(ids, sort_first):
    ids = np.array(sorted(ids) if sort_first else ids, dtype=object)
    codes, uniques = _in_text_order(ids)
    want_codes, want_uniques = pd.factorize(ids, sort=True)
    assert codes.tolist() == want_codes.tolist()
    assert list(uniques) == list(want_uniques)


ITEMS = ["P1", "P2", "P3", "P4", "P5"]
holding = st.tuples(st.sampled_from([f"C{i:02d}" for i in range(12)]), st.sampled_from(ITEMS))
holdings_frames = st.lists(holding, min_size=1, max_size=60).map(
    lambda rows: pd.DataFrame(rows, columns=["customer_id", "item"], dtype=object)
)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


@settings(max_examples=60, deadline=None)
@given(held=holdings_frames, extra=st.integers(0, 5), sort_by_customer=st.booleans())
def test_mining_gives_the_rules_it_gave(held, extra, sort_by_customer):
    if sort_by_customer:
        held = held.sort_values("customer_id", kind="stable").reset_index(drop=True)
    n = held["customer_id"].nunique() + extra
    params = {"min_support": 0.05, "min_confidence": 0.1, "min_lift": 0.5}
    _same(association_rules(held, n_baskets=n, **params), before.association_rules(held, n_baskets=n, **params))


@settings(max_examples=60, deadline=None)
@given(
    held=holdings_frames,
    train=holdings_frames,
    refused=st.sets(st.sampled_from(ITEMS)),
    top_n=st.integers(1, 4),
    sort_by_customer=st.booleans(),
)
def test_recommend_gives_the_offers_it_gave(held, train, refused, top_n, sort_by_customer):
    if sort_by_customer:  # as a run hands them over (and then no text sort is made)
        held = held.sort_values("customer_id", kind="stable").reset_index(drop=True)
    rules = association_rules(train, min_support=0.01, min_confidence=0.01, min_lift=0.0)

    def allowed(c: pd.DataFrame) -> np.ndarray:
        return ~c["product_id"].isin(refused).to_numpy()

    _same(recommend(held, rules, top_n, allowed=allowed), before.recommend(held, rules, top_n, allowed=allowed))


levels = st.sampled_from(["C1", "C2", "C3", "C4", "C5", None, np.nan])
customer = st.tuples(st.sampled_from(["K1", "K2", "K3", "K4"]), levels, st.sampled_from([True, False, None, np.nan]))


@settings(max_examples=80, deadline=None)
@given(
    customers=st.lists(customer, max_size=6),
    rows=st.lists(
        st.tuples(st.sampled_from(["K1", "K2", "K3", "K4", "K5"]), st.sampled_from(["R1", "R3", "R5", None, np.nan])),
        min_size=1,
        max_size=12,
    ),
)
def test_suitability_decides_as_it_decided(customers, rows):
    """Customers missing, listed twice, with no level or no professional flag: the same verdicts."""
    who = pd.DataFrame(customers, columns=["customer_id", "risk_level", "professional"], dtype=object)
    asked = pd.DataFrame(rows, columns=["customer_id", "product_risk"], dtype=object)
    assert suitable_mask(asked, who).tolist() == before.suitable_mask(asked, who).tolist()
