import numpy as np
import pytest

from clientstrata.jobs.classification.dimensions.value import components, contribution, cut_points, value_contribution


def test_contribution_adds_spread_interest_fees_and_subtracts_expected_loss(features, std):
    f = features(
        {
            "bal_deposit": 100_000.0,
            "bal_fund": 50_000.0,
            "loans_outstanding": 200_000.0,
            "loans_count": 1,
            "loans_C": 1,
            "credit_score": 700.0,
        }
    )
    c = components(f, std).iloc[0]
    spec = std.dimensions["value_contribution"]
    assert c["aum_spread"] == pytest.approx(100_000 * spec["aum_spread"]["deposit"])
    assert c["fee_income"] == pytest.approx(50_000 * spec["fee_rates"]["fund"])
    assert c["net_interest"] == pytest.approx(200_000 * spec["loan_margin"])
    # credit_score 700 with a clean running loan is "good": PD 1%
    assert c["expected_loss"] == pytest.approx(0.01 * spec["lgd"] * 200_000)
    assert contribution(f, std).iloc[0] == pytest.approx(
        c["aum_spread"] + c["fee_income"] + c["net_interest"] - c["expected_loss"]
    )


def test_deciles_come_from_the_population_cut_points(features, std, said):
    # a population of contributions 1..100: the percentiles are 1..100 exactly
    params = cut_points(np.arange(1, 101, dtype=float))
    rate = std.dimensions["value_contribution"]["aum_spread"]["deposit"]
    f = features(*({"bal_deposit": c / rate} for c in (0.5, 10, 10.5, 90, 90.5, 100, 1e6)))
    t = value_contribution(f, std, params)
    assert list(t["value"]) == ["D1", "D1", "D2", "D9", "D10", "D10", "D10"]
    assert list(t["score"]) == [0, 9, 10, 89, 90, 99, 100]
    assert t.loc[3, "inputs"]["contribution"] == pytest.approx(90)  # CNY, for Pareto reports
    assert "expected loss" in said(t).loc[3] and "D9" in said(t).loc[3]


def test_a_population_dimension_refuses_to_guess_its_population(features, std):
    with pytest.raises(ValueError, match="cut points"):
        value_contribution(features({}), std, {})


def test_the_whole_population_spreads_over_ten_deciles(features, std):
    f = features(*({"bal_deposit": float(i * 1000)} for i in range(200)))
    t = value_contribution(f, std, cut_points(contribution(f, std)))
    assert t["value"].value_counts().to_dict() == {f"D{i}": 20 for i in range(1, 11)}
