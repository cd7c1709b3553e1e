from clientstrata.jobs.classification.dimensions.business import business_categories


def test_multi_label_value_is_sorted_and_listed_in_inputs(features, std, said):
    t = business_categories(
        features(
            {"families": "card,deposit"},
            {"families": "deposit,fund,insurance,loan"},
            {"families": "wealth_management"},
            {"families": ""},
        ),
        std,
    )
    assert list(t["value"]) == ["savings", "insurance,investment,loan,savings", "investment", "none"]
    assert t.loc[1, "inputs"]["categories"] == ["insurance", "investment", "loan", "savings"]
    assert t.loc[1, "label_zh"] == "保险、投资理财、贷款、储蓄" and t.loc[1, "score"] == 4
    assert t.loc[3, "label_en"] == "None" and said(t).loc[3] == "holds no products → none"
