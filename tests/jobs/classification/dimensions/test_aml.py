from importlib import resources

import pytest
import yaml

from clientstrata.jobs.classification.dimensions.aml import aml_risk
from clientstrata.jobs.classification.standard import load_standard


def test_each_factor_adds_its_points_and_groups_are_capped(features, std, said):
    f = features(
        {},
        {"structuring_count": 1},
        {
            "structuring_count": 1,
            "cross_border_count": 6,
            "cash_count": 5,
            "cash_amount": 30_000.0,
            "txn_amount": 60_000.0,
            "rapid_in_out_count": 2,
        },  # business: 50 points capped at 35
        {
            "cross_border_count": 5,
            "cash_count": 4,
            "cash_amount": 30_000.0,
            "txn_amount": 60_000.0,
            "rapid_in_out_count": 1,
        },
    )  # each just below its threshold
    t = aml_risk(f, std)
    assert list(t["score"]) == [0, 20, 35, 0]
    pts = t.loc[2, "inputs"]["factor_points"]
    assert pts["structuring"] == 20 and pts["frequent_cross_border"] == 10 and pts["cash_intensive"] == 10
    assert pts["rapid_in_out"] == 10 and pts["pep"] == 0
    assert "structuring +20" in said(t).loc[2]


def test_rating_bands_review_dates_and_minimum_ratings(features, std, said):
    business = {
        "structuring_count": 3,
        "cross_border_count": 8,
        "cash_count": 9,
        "cash_amount": 50_000.0,
        "txn_amount": 60_000.0,
    }  # 35
    f = features(
        {**business, "is_pep": True},  # 35 + 30 = 65
        {**business, "is_pep": True, "occupation": "个体经营"},  # 75
        {**business, "is_pep": True, "occupation": "个体经营", "linked_industries": "C,K"},  # 35+30+20 = 85
        {**business, "is_pep": True, "high_risk_country_count": 1},  # 75
        {**business, "is_pep": True, "high_risk_country_count": 1, "occupation": "自由职业"},  # 85
        {"is_pep": True},  # 30, floor medium
        {"structuring_count": 1, "has_id_number": False},
    )  # 30, floor medium
    t = aml_risk(f, std)
    assert list(t["score"]) == [65, 75, 85, 75, 85, 30, 30]
    assert list(t["value"]) == ["medium", "medium", "high", "medium", "high", "medium", "medium"]
    assert t.loc[2, "inputs"]["next_review"] == "2027-04-30" and t.loc[2, "inputs"]["review_months"] == 6
    assert t.loc[0, "inputs"]["next_review"] == "2027-10-31"
    assert "raised from Low" in said(t).loc[5]
    assert aml_risk(features({}), std).loc[0, "inputs"]["next_review"] == "2029-10-31"


@pytest.mark.parametrize("points, rating", [(59, "low"), (60, "medium"), (79, "medium"), (80, "high")])
def test_score_band_edges(features, std, tmp_path, points, rating):
    # one factor with exactly `points` in a group of its own, to test the band edges directly
    doc = yaml.safe_load(
        resources.files("clientstrata.jobs.classification").joinpath("standards", "default.yaml").read_text("utf-8")
    )
    doc["dimensions"]["aml_risk"]["groups"] = {
        "customer": {"max_points": 100 - 3, "factors": {"pep": points}},
        "region": {"max_points": 1, "factors": {"high_risk_region": 1}},
        "business": {"max_points": 1, "factors": {"structuring": 1}},
        "industry": {"max_points": 1, "factors": {"high_risk_industry": 1}},
    }
    doc["dimensions"]["aml_risk"]["minimum_rating"] = {}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    t = aml_risk(features({"is_pep": True}), load_standard(path))
    assert t.loc[0, "score"] == points and t.loc[0, "value"] == rating
