import pytest

from clientstrata.jobs.classification.dimensions.risk import risk_consistency, risk_preference, suitability, suitable


def test_preference_levels_unassessed_and_expired_on_the_day(features, std, said):
    f = features(
        {"q_level": 4, "q_valid_until": "2026-10-31"},  # valid through as_of
        {"q_level": 4, "q_valid_until": "2026-10-30"},  # expired the day before
        {"q_level": 0, "q_assessed_on": None, "q_valid_until": None, "q_score": float("nan")},
        {"q_level": 2, "q_assessed_on": "2025-10-31", "q_valid_until": None},  # 12 months validity
        {"q_level": 2, "q_assessed_on": "2025-10-30", "q_valid_until": None},
    )
    t = risk_preference(f, std)
    assert list(t["value"]) == ["C4", "expired", "unassessed", "C2", "expired"]
    assert t.loc[0, "label_zh"] == "成长型" and "valid until 2026-10-31" in said(t).loc[0]
    assert t.loc[1, "inputs"]["status"] == "expired" and "expired on 2026-10-30" in said(t).loc[1]
    assert said(t).loc[2] == "no risk questionnaire on record"


def test_consistency_finds_holdings_above_appetite_without_resolving_them(features, std, said):
    f = features(
        {"q_level": 2, "max_risk_held": 2},
        {"q_level": 2, "max_risk_held": 3},  # holds above
        {"q_level": 2, "max_risk_held": 1, "max_risk_bought": 4},  # bought above
        {"q_level": 5, "max_risk_held": 3},  # gap 2: below
        {"q_level": 5, "max_risk_held": 4},  # gap 1: consistent
        {"q_level": 0, "max_risk_held": 5},  # no questionnaire
        {"q_level": 2, "q_valid_until": "2026-01-01", "max_risk_held": 5},
    )  # expired
    t = risk_consistency(f, std)
    assert list(t["value"]) == [
        "consistent",
        "above_appetite",
        "above_appetite",
        "below_appetite",
        "consistent",
        "unknown",
        "unknown",
    ]
    assert "bought in the last 12 months R4" in said(t).loc[2] and t.loc[2, "score"] == 2
    # the preference itself stays what the questionnaire says
    assert risk_preference(f, std).loc[1, "value"] == "C2"


def test_suitability_levels_flags_and_professionals(features, std, said):
    f = features(
        {"q_level": 3, "age": 64.9},
        {"q_level": 3, "age": 65.0},
        {"q_level": 1},
        {"q_level": 2, "q_professional": True},
        {"q_level": 4, "q_valid_until": "2026-01-01"},
        {"q_level": 0, "q_assessed_on": None, "q_valid_until": None},
    )
    t = suitability(f, std)
    assert list(t["value"]) == ["R3", "R3", "R1", "R5", "none", "none"]
    assert not t.loc[0, "inputs"]["elderly"] and t.loc[1, "inputs"]["elderly"] and "aged 65+" in said(t).loc[1]
    assert t.loc[2, "inputs"]["lowest_category"] and "lowest risk category" in said(t).loc[2]
    assert t.loc[3, "inputs"]["professional"] and "professional investor" in said(t).loc[3]
    assert t.loc[4, "inputs"]["expired"] and t.loc[4, "inputs"]["max_product_level"] is None


@pytest.mark.parametrize(
    "customer, product, professional, ok",
    [
        ("C3", "R3", False, True),
        ("C3", "R4", False, False),
        ("C1", "R1", False, True),
        ("C5", "R5", False, True),
        (None, "R1", False, False),
        (None, "R5", True, True),
        ("C1", "R5", True, True),
        (None, None, False, True),
        (2, "R2", False, True),
        ("c2", "r3", False, False),
    ],
)
def test_suitable_is_the_hard_rule(customer, product, professional, ok):
    assert suitable(customer, product, professional) is ok


def test_suitable_refuses_nonsense_levels():
    with pytest.raises(ValueError, match="R1..R5"):
        suitable("C3", "high")
