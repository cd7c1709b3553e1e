"""The SQL aggregation behind the features frame, on hand-made rows, on every backend."""

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from clientstrata.graph.record.models import (
    Account,
    AccountHolder,
    Branch,
    Household,
    HouseholdMember,
    Individual,
    Loan,
    MonthlyBalance,
    Product,
    RiskQuestionnaire,
    Transaction,
)
from clientstrata.graph.stores.networkx_store import NetworkxGraph
from clientstrata.jobs.classification import features as F
from clientstrata.jobs.classification.standard import load_standard

STD = load_standard()
# a Monday whose epoch day is a multiple of 3, so the 3-day windows are [D, D+2]
D = dt.date(1970, 1, 1) + dt.timedelta(days=(dt.date(2026, 9, 1) - dt.date(1970, 1, 1)).days // 3 * 3)


def _txn(i, account, day, direction, amount, channel="mobile", cash=False, country="CN"):
    return {
        "txn_id": f"T{i}",
        "account_id": account,
        "booked_at": dt.datetime.combine(day, dt.time(10)),
        "direction": direction,
        "amount": amount,
        "currency": "CNY",
        "channel": channel,
        "is_cash": cash,
        "counterparty_country": country,
    }


@pytest.fixture
def world(engine, tmp_path):
    rows = {
        Branch: [{"branch_id": "B1", "name": "总行", "region": "华东"}],
        Product: [
            {"product_id": "P1", "name": "活期", "family": "deposit", "risk_level": "R1"},
            {"product_id": "P2", "name": "股票基金", "family": "fund", "risk_level": "R4"},
            {"product_id": "P3", "name": "房贷", "family": "loan", "term_months": 300},
        ],
        Individual: [
            {
                "customer_id": c,
                "name": c,
                "birth_date": dt.date(1980, 11, 1),
                "branch_id": "B1",
                "onboarded_on": dt.date(2020, 10, 31),
                "is_pep": c == "X2",
            }
            for c in ("X1", "X2", "X3")
        ],
        Household: [{"household_id": "H1", "status": "confirmed"}, {"household_id": "H2", "status": "candidate"}],
        HouseholdMember: [
            {"household_id": "H1", "customer_id": "X1", "role": "head"},
            {"household_id": "H1", "customer_id": "X3", "role": "child"},
            {"household_id": "H2", "customer_id": "X2", "role": "head"},
        ],
        Account: [
            {
                "account_id": "A1",
                "owner_type": "individual",
                "owner_id": "X1",
                "product_id": "P1",
                "opened_on": dt.date(2020, 1, 1),
                "status": "active",
                "currency": "CNY",
                "balance": 1.0,
            },
            {
                "account_id": "A2",
                "owner_type": "individual",
                "owner_id": "X1",
                "product_id": "P2",
                "opened_on": dt.date(2026, 5, 1),
                "status": "active",
                "currency": "USD",
                "balance": 1000.0,
            },
            {
                "account_id": "A3",
                "owner_type": "individual",
                "owner_id": "X3",
                "product_id": "P1",
                "opened_on": dt.date(2021, 1, 1),
                "status": "active",
                "currency": "CNY",
                "balance": 500.0,
            },
        ],
        AccountHolder: [{"account_id": "A1", "customer_id": "X2", "role": "co_holder"}],
        MonthlyBalance: [
            {"account_id": "A1", "month": m, "avg_daily_balance": v}
            for m, v in (("2026-09", 100_000.0), ("2026-10", 80_000.0))
        ],
        Loan: [
            {
                "loan_id": "L1",
                "account_id": "A1",
                "product_id": "P3",
                "principal": 1e6,
                "outstanding": 6e5,
                "term_months": 300,
                "monthly_payment": 5000.0,
                "granted_on": dt.date(2022, 1, 1),
                "status": "D",
                "days_past_due": 45,
            }
        ],
        RiskQuestionnaire: [
            {
                "questionnaire_id": "Q1",
                "customer_id": "X1",
                "assessed_on": dt.date(2024, 1, 1),
                "risk_level": "C5",
                "valid_until": dt.date(2025, 1, 1),
            },
            {
                "questionnaire_id": "Q2",
                "customer_id": "X1",
                "assessed_on": dt.date(2026, 3, 1),
                "risk_level": "C2",
                "score": 30,
                "valid_until": dt.date(2027, 3, 1),
                "is_professional": False,
            },
        ],
        Transaction: [
            _txn(1, "A1", D, "credit", 45_000.0, "branch", cash=True),  # just under 50,000
            _txn(2, "A1", D, "credit", 44_999.99, "branch", cash=True),  # not "just" under
            _txn(3, "A1", D + dt.timedelta(days=1), "credit", 49_999.99, "branch", cash=True),
            _txn(4, "A1", D + dt.timedelta(days=1), "credit", 50_000.0, "atm", cash=True),  # reportable
            _txn(5, "A1", D + dt.timedelta(days=2), "debit", 170_000.0, "online", country="US"),
            _txn(6, "A1", dt.date(2026, 10, 30), "debit", 10.0, "mobile", country="HK"),
            _txn(7, "A1", dt.date(2025, 10, 1), "debit", 99.0, "mobile"),
        ],  # older than 12 months
    }
    with engine.begin() as conn:
        for model, values in rows.items():
            for v in values:
                conn.execute(sa.insert(model.__table__).values(**v))
    return engine, NetworkxGraph(tmp_path / "g.json.gz")


@pytest.mark.parametrize("chunk", [1, 50_000])
def test_features_aggregate_every_source(world, chunk):
    engine, graph = world
    with engine.connect() as conn:
        assert F.reference_date(conn) == dt.date(2026, 10, 31)
        f = pd.concat(F.iter_individual_features(conn, STD, chunk=chunk, progress=False)).set_index("customer_id")
    x1 = f.loc["X1"]
    assert x1["age"] == pytest.approx(46.0, abs=0.01) and x1["tenure_years"] == pytest.approx(6.0, abs=0.01)
    assert x1["aum:2026-09"] == 100_000 and x1["aum"] == 80_000 + 1000 * 7.10  # fund balance in USD, no monthly
    assert x1["bal_fund"] == pytest.approx(7_100) and x1["bal_deposit"] == 80_000
    assert (
        x1["hh_aum:2026-10"] == pytest.approx(80_000 + 7_100 + 500)
        and f.loc["X3", "hh_aum:2026-10"] == x1["hh_aum:2026-10"]
    )
    # a candidate household (awaiting review) does not pool AUM: X2 is a household of one
    assert f.loc["X2", "hh_aum:2026-10"] == 0 and f.loc["X2", "household_size"] == 1
    assert f.loc["X2", "household_id"] is None
    assert f.loc["X2", "families"] == "deposit" and f.loc["X2", "aum"] == 0  # joint holder: holds, owns nothing
    assert (x1["household_size"], x1["children"], x1["household_role"]) == (2, 1, "head")
    assert x1["families"] == "deposit,fund,loan" and x1["max_risk_held"] == 4 and x1["max_risk_bought"] == 4
    assert (x1["q_level"], x1["q_valid_until"], x1["q_professional"]) == (2, "2027-03-01", False)
    assert f.loc["X2", "q_level"] == 0 and f.loc["X2", "q_valid_until"] is None and f.loc["X2", "is_pep"]
    assert (x1["loans_D"], x1["loans_outstanding"], x1["max_dpd"], x1["has_mortgage"]) == (1, 6e5, 45, True)
    assert x1["txn_count"] == 6 and x1["cash_count"] == 4 and x1["structuring_count"] == 2
    assert x1["cross_border_count"] == 2 and x1["high_risk_country_count"] == 0
    assert (x1["ch_branch"], x1["ch_atm"], x1["ch_online"], x1["ch_mobile"]) == (3, 1, 1, 1)
    assert x1["rapid_in_out_count"] == 1 and x1["days_since_last_txn"] == 1
    assert f.loc["X2", "txn_count"] == 0 and f.loc["X2", "days_since_last_txn"] != f.loc["X2", "days_since_last_txn"]
    assert bool(x1["txn_data"])


def test_ecosystem_counts_in_sql_agree_with_the_graph(loaded_ro):
    """Classify reads the graph's ecosystem counts in SQL, per range of customers: the same
    numbers the store answers (networkx beside SQLite, Neo4j beside PostgreSQL)."""
    from clientstrata.graph.stores.base import ECOSYSTEM_FEATURES

    engine, graph = loaded_ro
    ref = graph.ecosystem_features()
    with engine.connect() as conn:
        halves = [F.ecosystem_counts(conn, "", "C0000150"), F.ecosystem_counts(conn, "C0000151", "C9999999")]
    got = pd.concat(halves, ignore_index=True)
    got = got[got[list(ECOSYSTEM_FEATURES)].sum(axis=1) > 0].sort_values("customer_id").reset_index(drop=True)
    assert len(ref) > 100 and all(ref[k].any() for k in ECOSYSTEM_FEATURES)
    assert got.equals(ref.astype({k: "int64" for k in ECOSYSTEM_FEATURES}))
