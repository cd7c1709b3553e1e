import pytest

from clientstrata.jobs.classification.dimensions.credit import credit_risk_tier, probability_of_default


@pytest.mark.parametrize(
    "row, tier",
    [
        ({"credit_score": 800.0}, "excellent"),
        ({"credit_score": 750.0}, "excellent"),
        ({"credit_score": 749.0}, "good"),
        ({"credit_score": 600.0}, "good"),
        ({"credit_score": 599.0}, "watch"),
        ({"credit_score": 500.0}, "watch"),
        ({"credit_score": 499.0}, "high_risk"),
        ({"credit_score": 800.0, "max_dpd": 1.0, "loans_count": 1, "loans_C": 1}, "watch"),
        ({"credit_score": 800.0, "max_dpd": 89.0, "loans_count": 1, "loans_C": 1}, "watch"),
        ({"credit_score": 800.0, "max_dpd": 90.0, "loans_count": 1, "loans_C": 1}, "high_risk"),
        # debt-to-income: 12 × payment / income, 0.5 is watch, 0.3 stops "excellent"
        (
            {"credit_score": 800.0, "annual_income": 120_000.0, "loan_monthly_payment": 4_999.0, "loans_count": 1},
            "good",
        ),
        (
            {"credit_score": 800.0, "annual_income": 120_000.0, "loan_monthly_payment": 5_000.0, "loans_count": 1},
            "watch",
        ),
        (
            {"credit_score": 800.0, "annual_income": 120_000.0, "loan_monthly_payment": 2_999.0, "loans_count": 1},
            "excellent",
        ),
    ],
)
def test_tier_boundaries(features, std, row, tier):
    assert credit_risk_tier(features(row), std)["value"].item() == tier


def test_berka_loan_status_is_the_signal_without_score_or_income(features, std, said):
    berka = {"credit_score": float("nan"), "annual_income": float("nan"), "salary_monthly": 0.0}
    f = features(
        {**berka, "loans_count": 1, "loans_A": 1},
        {**berka, "loans_count": 1, "loans_B": 1},
        {**berka, "loans_count": 1, "loans_C": 1, "loan_monthly_payment": 3_000.0},
        {**berka, "loans_count": 1, "loans_D": 1},
        berka,
    )
    t = credit_risk_tier(f, std)
    assert list(t["value"]) == ["good", "high_risk", "good", "high_risk", "no_history"]
    assert "loan_unpaid" in said(t).loc[1] and "loan_in_debt" in said(t).loc[3]
    assert t.loc[3, "inputs"]["loans_by_status"] == "A=0, B=0, C=0, D=1"
    assert list(probability_of_default(f, std)) == [0.01, 0.2, 0.01, 0.2, 0.02]


def test_missing_values_are_said_to_be_unknown(features, std, said):
    t = credit_risk_tier(
        features({"credit_score": float("nan"), "annual_income": float("nan"), "salary_monthly": 0.0}), std
    )
    assert t.loc[0, "value"] == "no_history" and "credit_score unknown" in said(t).loc[0]
    assert "unknown ≥" not in said(t).loc[0] and t.loc[0, "inputs"]["credit_score"] is None
