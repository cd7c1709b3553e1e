import pytest

from clientstrata.jobs.classification.dimensions.lifecycle import lifecycle_stage, relationship_stage


@pytest.mark.parametrize(
    "row, stage",
    [
        ({"age": 34.9}, "young_professional"),
        ({"age": 35.0}, "mature"),
        ({"age": 59.9}, "mature"),
        ({"age": 60.0}, "retirement"),
        ({"age": 56.0, "salary_monthly": 0.0, "employed": False}, "retirement"),  # no salary past 55
        ({"age": 56.0, "salary_monthly": 0.0, "employed": False, "controls_enterprise": True}, "mature"),
        ({"age": 54.0, "salary_monthly": 0.0, "employed": False}, "mature"),
        ({"age": 30.0, "household_role": "head", "children": 1}, "family_growth"),
        ({"age": 30.0, "household_role": "child", "children": 1}, "young_professional"),  # the child is not a parent
        ({"age": 45.0, "has_mortgage": True}, "family_growth"),
        ({"age": 55.0, "has_mortgage": True}, "mature"),
    ],
)
def test_lifecycle_rules(features, std, row, stage):
    t = lifecycle_stage(features(row), std)
    assert t["value"].item() == stage


def test_lifecycle_explains_the_rule(features, std, said):
    t = lifecycle_stage(features({"age": 30.0, "household_role": "spouse", "children": 2}), std)
    assert said(t).loc[0] == "age 30 < 55 and parent_with_children → Family growth (家庭成长期)"
    assert t.loc[0, "inputs"]["children"] == 2 and t.loc[0, "label_zh"] == "家庭成长期"


@pytest.mark.parametrize(
    "row, stage",
    [
        ({"monthly": [100_000, 80_000, 80_000, 80_000]}, "retention"),  # −20% over 3 months
        ({"monthly": [100_000, 80_001, 80_001, 80_001]}, "maturity"),  # −19.999%
        ({"monthly": [9_999, 0, 0, 0]}, "maturity"),  # too small to call an outflow
        ({"tenure_years": 0.5}, "acquisition"),
        ({"tenure_years": 2.0}, "growth"),
        ({"monthly": [100_000, 110_000, 110_000, 110_000]}, "growth"),
        ({"tenure_years": 0.5, "monthly": [100_000, 50_000, 50_000, 50_000]}, "retention"),
    ],
)
def test_relationship_stage(features, std, row, stage):
    t = relationship_stage(features(row), std)
    assert t["value"].item() == stage
    assert t.loc[0, "inputs"]["lookback_months"] == 3


def test_the_catch_all_says_why_no_rule_above_fired(features, std, said):
    t = lifecycle_stage(features({"age": 44.0}), std)
    assert said(t).loc[0] == (
        "not Retirement (age 44 < 60, not retired); not Family growth (not parent_with_children); "
        "not Family growth (not has_mortgage); not Young professional (age 44 ≥ 35) "
        "→ Mature (成熟稳定期)"
    )
