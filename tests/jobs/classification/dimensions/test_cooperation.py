from clientstrata.jobs.classification.dimensions.cooperation import cooperation_depth


def test_cooperation_depth_classes(features, std, said):
    f = features(
        {"families": "card,deposit"},
        {"families": "deposit,fund"},
        {"families": "deposit,wealth_management", "payroll_employer": 1, "household_members": 2},
        {"families": "deposit", "payroll_employer": 1},
    )
    out = cooperation_depth(f, std)
    assert list(out["value"]) == ["basic_service", "comprehensive", "ecosystem_synergy", "basic_service"]
    assert "payroll_employer=1" in said(out).loc[2] and out.loc[2, "label_zh"] == "生态协同型"
    assert out.loc[2, "score"] == 3 and out.loc[2, "inputs"]["household_members"] == 2
    assert said(out).loc[3] == "holds deposit: deposits and payments only"
