from clientstrata.jobs.classification.dimensions.composite import composite_classes, composite_segment


def test_eight_classes_with_names_and_labels(std):
    classes = composite_classes(std)
    assert len({c["value"] for c in classes}) == 8
    assert classes[0] == {
        "value": "high_asset.aggressive.ecosystem",
        "label_zh": "高资产·进取·生态协同",
        "label_en": "High asset, aggressive, ecosystem-linked",
    }
    assert classes[-1]["value"] == "low_asset.conservative.standalone"


def test_each_axis_flips_at_its_threshold(features, std, said):
    t = composite_segment(
        features(
            {"aum": 50_000, "q_level": 4, "household_members": 1},
            {"aum": 49_999, "q_level": 4, "household_members": 1},
            {"aum": 50_000, "q_level": 3, "household_members": 1},
            {"aum": 50_000, "q_level": 4},
            {"aum": 50_000, "q_level": 5, "q_valid_until": "2026-01-01", "payroll_employer": 1},
            {"aum": 10_000, "q_level": 0},
        ),
        std,
    )
    assert list(t["value"]) == [
        "high_asset.aggressive.ecosystem",
        "low_asset.aggressive.ecosystem",
        "high_asset.conservative.ecosystem",
        "high_asset.aggressive.standalone",
        "high_asset.conservative.ecosystem",
        "low_asset.conservative.standalone",
    ]
    assert "(expired)" in said(t).loc[4] and t.loc[4, "inputs"]["assessment_status"] == "expired"
