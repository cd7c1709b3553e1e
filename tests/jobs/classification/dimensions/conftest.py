"""Hand-built features frames: one row per customer, every column the dimensions read, with
neutral defaults a test overrides (`aum` sets every month; `monthly` a trailing series)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from clientstrata.jobs.classification.standard import Standard, load_standard

MONTHS = [f"2025-{m:02d}" for m in (11, 12)] + [f"2026-{m:02d}" for m in range(1, 11)]
BASE = {
    "as_of": "2026-10-31",
    "age": 40.0,
    "gender": "F",
    "occupation": "教师",
    "region": "华东",
    "household_id": None,
    "household_role": None,
    "annual_income": 120_000.0,
    "credit_score": 700.0,
    "is_pep": False,
    "has_id_number": True,
    "household_size": 1,
    "children": 0,
    "bal_deposit": 0.0,
    "bal_wealth_management": 0.0,
    "bal_fund": 0.0,
    "bal_insurance": 0.0,
    "families": "card,deposit",
    "max_risk_held": 1,
    "max_risk_bought": 0,
    "tenure_years": 5.0,
    "q_level": 3,
    "q_score": 55.0,
    "q_assessed_on": "2026-06-01",
    "q_valid_until": "2027-06-01",
    "q_professional": False,
    "loans_count": 0,
    "loans_outstanding": 0.0,
    "loan_monthly_payment": 0.0,
    "loans_A": 0,
    "loans_B": 0,
    "loans_C": 0,
    "loans_D": 0,
    "max_dpd": 0.0,
    "has_mortgage": False,
    "salary_monthly": 10_000.0,
    "employed": True,
    "linked_industries": "",
    "controls_enterprise": False,
    "txn_count": 40,
    "txn_amount": 60_000.0,
    "cash_count": 2,
    "cash_amount": 2_000.0,
    "cross_border_count": 0,
    "high_risk_country_count": 0,
    "structuring_count": 0,
    "rapid_in_out_count": 0,
    "ch_mobile": 30,
    "ch_online": 5,
    "ch_branch": 3,
    "ch_atm": 2,
    "ch_pos": 0,
    "days_since_last_txn": 3.0,
    "txn_data": True,
    "payroll_employer": 0,
    "controls": 0,
    "household_members": 0,
    "co_holders": 0,
    "supply_chain": 0,
}


def build(rows: list[dict]) -> pd.DataFrame:
    out = []
    for i, row in enumerate(rows):
        r = {"customer_id": f"c{i}", **BASE, **row}
        monthly = r.pop("monthly", None)
        aum = r.pop("aum", 10_000.0)
        series = list(monthly) if monthly is not None else [aum] * len(MONTHS)
        series = [series[0]] * (len(MONTHS) - len(series)) + series if len(series) < len(MONTHS) else series
        hh = r.pop("hh_monthly", None) or series
        hh = [hh[0]] * (len(MONTHS) - len(hh)) + list(hh)
        for m, v, h in zip(MONTHS, series, hh):
            r[f"aum:{m}"] = float(v)
            r[f"hh_aum:{m}"] = float(h)
        r["aum"] = float(series[-1])
        out.append(r)
    return pd.DataFrame(out)


@pytest.fixture(scope="session")
def std() -> Standard:
    return load_standard()


@pytest.fixture
def features() -> Callable[..., pd.DataFrame]:
    """features(dict, dict, …) → a frame, one row per dict, ids c0, c1, …"""
    return lambda *rows: build(list(rows))


@pytest.fixture
def said(std) -> Callable[..., pd.Series]:
    """said(tags[, std, lang]) → each tag's reason in words, on the tags' index: a tag keeps a
    rule key and its inputs, and its words are made when read."""
    from clientstrata.jobs.classification.dimensions import explain_frame

    return lambda tags, s=None, lang="en": pd.Series(explain_frame(tags, s or std, lang), index=tags.index)
