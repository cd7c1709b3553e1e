import pytest

from clientstrata.jobs.classification.dimensions.wealth import household_wealth_tier, wealth_tier


def _tiers(features, std, series: dict[str, list[float]]):
    out = wealth_tier(features(*({"monthly": v} for v in series.values())), std)
    out.index = list(series)
    return out


@pytest.mark.parametrize(
    "aum, tier",
    [
        (0, "mass"),
        (49_999.99, "mass"),
        (50_000, "affluent"),
        (499_999, "affluent"),
        (500_000, "wealth"),
        (5_999_999, "wealth"),
        (6_000_000, "private_banking"),
    ],
)
def test_band_boundaries(features, std, aum, tier):
    out = wealth_tier(features({"aum": aum}), std)
    assert out["value"].item() == tier and out["score"].item() == pytest.approx(aum)


def test_upgrade_at_once_downgrade_after_three_months_with_watch(features, std, said):
    # a customer's series starts with its first value repeated back to the first month
    t = _tiers(
        features,
        std,
        {
            "up": [10_000, 60_000],
            "dip2": [60_000, 40_000, 40_000],
            "dip3": [60_000, 40_000, 40_000, 40_000],
            "back": [60_000, 40_000, 40_000, 60_000, 40_000],
        },
    )
    assert t.loc["up", "value"] == "affluent"
    assert t.loc["dip2", "value"] == "affluent" and t.loc["dip2", "inputs"]["watch"]
    assert "on watch" in said(t).loc["dip2"] and "2 of 3 months" in said(t).loc["dip2"]
    assert t.loc["dip3", "value"] == "mass" and not t.loc["dip3", "inputs"]["watch"]
    assert t.loc["back", "value"] == "affluent" and t.loc["back", "inputs"]["months_below"] == 1


def test_private_banking_needs_six_months_below(features, std):
    t = _tiers(features, std, {"five": [7e6] + [1e6] * 5, "six": [7e6] + [1e6] * 6})
    assert t.loc["five", "value"] == "private_banking"
    assert t.loc["six", "value"] == "wealth"


def test_hnw_flag_explanation_and_inputs(features, std, said):
    t = wealth_tier(features({"aum": 12e6}, {"aum": 9_999_999}), std)
    assert t.loc[0, "inputs"]["hnw"] and "high net worth" in said(t).loc[0]
    assert not t.loc[1, "inputs"]["hnw"]
    assert t.loc[0, "standard_version"] == std.version and t.loc[0, "label_zh"] == "私人银行客户"
    assert len(t.loc[0, "inputs"]["monthly_aum"]) == 12 and "12,000,000" in said(t).loc[0]


def test_household_tier_from_household_aum_and_household_of_one(features, std, said):
    f = features(
        {"aum": 10_000, "hh_monthly": [600_000], "household_id": "H1", "household_size": 3},
        {"aum": 10_000, "hh_monthly": [49_999], "household_id": "H2", "household_size": 2},
        {"aum": 70_000},
    )  # no household: their own AUM
    t = household_wealth_tier(f, std)
    assert list(t["value"]) == ["wealth", "mass", "affluent"]
    assert t.loc[0, "inputs"]["household_id"] == "H1" and t.loc[0, "inputs"]["household_size"] == 3
    assert said(t).loc[2].startswith("no confirmed household") and t.loc[2, "inputs"]["household_id"] is None
    assert (t["dimension"] == "household_wealth_tier").all()
