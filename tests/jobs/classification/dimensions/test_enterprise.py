import pandas as pd
import pytest

from clientstrata.jobs.classification.dimensions.enterprise import (
    enterprise_credit_tier,
    enterprise_ecosystem_role,
    enterprise_industry,
    enterprise_size,
)

BASE = {
    "industry": "C",
    "size": None,
    "registered_capital": 1e6,
    "annual_revenue": 1e7,
    "loans_count": 0,
    "loans_outstanding": 0.0,
    "loans_A": 0,
    "loans_B": 0,
    "loans_C": 0,
    "loans_D": 0,
    "max_dpd": 0.0,
    "suppliers": 0,
    "buyers": 0,
    "employees": 0,
    "payroll_employees": 0,
    "controllers": 1,
}


def ent(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame([{"enterprise_id": f"E{i}", **BASE, **r} for i, r in enumerate(rows)])


def test_industry_labels_and_unknown(std):
    t = enterprise_industry(ent({}, {"industry": "K"}, {"industry": None}), std)
    assert list(t["value"]) == ["C", "K", "unknown"] and t.loc[0, "label_zh"] == "制造业"
    assert list(t["customer_id"]) == ["E0", "E1", "E2"] and (t["dimension"] == "enterprise_industry").all()


@pytest.mark.parametrize(
    "row, size",
    [
        ({"annual_revenue": 2_999_999.0}, "micro"),
        ({"annual_revenue": 3e6}, "small"),
        ({"annual_revenue": 2e7}, "medium"),
        ({"annual_revenue": 4e8}, "large"),
        ({"annual_revenue": 4e8, "size": "small"}, "small"),
        ({"annual_revenue": float("nan")}, "unknown"),
    ],
)
def test_size_declared_or_from_revenue(std, row, size):
    assert enterprise_size(ent(row), std)["value"].item() == size


@pytest.mark.parametrize(
    "row, tier",
    [
        ({}, "no_history"),
        ({"loans_count": 1, "loans_C": 1, "loans_outstanding": 5e6}, "good"),
        ({"loans_count": 1, "loans_C": 1, "loans_outstanding": 1e7}, "watch"),
        ({"loans_count": 1, "loans_C": 1, "max_dpd": 89.0}, "watch"),
        ({"loans_count": 1, "loans_C": 1, "max_dpd": 90.0}, "high_risk"),
        ({"loans_count": 1, "loans_D": 1}, "high_risk"),
        ({"loans_count": 1, "loans_B": 1}, "high_risk"),
    ],
)
def test_credit_tier(std, row, tier):
    assert enterprise_credit_tier(ent(row), std)["value"].item() == tier


def test_ecosystem_role(std, said):
    t = enterprise_ecosystem_role(
        ent({"suppliers": 3, "payroll_employees": 1}, {"suppliers": 3}, {"suppliers": 2}, {"payroll_employees": 1}, {}),
        std,
    )
    assert list(t["value"]) == ["both", "core_enterprise", "none", "payroll_provider", "none"]
    assert "3 suppliers" in said(t).loc[0] and t.loc[0, "inputs"]["payroll_employees"] == 1


def test_chinese_reasons_say_codes_and_missing_values_in_chinese(std, said):
    # a declared size is said by its Chinese label, and a missing industry as not recorded —
    # not as the code `small` or the `nan`/`None` the inputs hold
    rows = ent({}, {"size": "small"}, {"industry": None}, {"annual_revenue": float("nan")}, {"max_dpd": 120.0})
    zh = pd.concat(
        [said(f(rows, std), lang="zh") for f in (enterprise_industry, enterprise_size, enterprise_credit_tier)]
        + [said(enterprise_ecosystem_role(rows, std), lang="zh")]
    )
    assert not zh.str.contains(r"[a-z]").any(), [z for z in zh if any("a" <= c <= "z" for c in z)]
    assert said(enterprise_size(rows, std), lang="zh").loc[1] == "申报规模 → 小型企业"
    en = said(enterprise_industry(rows, std)).loc[2]
    assert en == "industry not recorded" and said(enterprise_industry(rows, std), lang="zh").loc[2] == "行业未登记"
