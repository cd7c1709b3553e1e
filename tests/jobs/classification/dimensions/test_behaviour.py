import pytest

from clientstrata.jobs.classification.dimensions.behaviour import (
    behaviour_activity,
    behaviour_channel,
    behaviour_loyalty,
    behaviour_rfm,
    rfm_scores,
)


@pytest.mark.parametrize(
    "days, r", [(0, 5), (30, 5), (31, 4), (90, 4), (91, 3), (180, 3), (181, 2), (270, 2), (271, 1), (float("nan"), 1)]
)
def test_recency_score_edges(features, std, days, r):
    assert rfm_scores(features({"days_since_last_txn": days}), std).loc[0, "r"] == r


@pytest.mark.parametrize(
    "count, amount, f, m", [(5, 4_999.0, 1, 1), (6, 5_000.0, 2, 2), (119, 499_999.0, 4, 4), (120, 500_000.0, 5, 5)]
)
def test_frequency_and_monetary_edges(features, std, count, amount, f, m):
    s = rfm_scores(features({"txn_count": count, "txn_amount": amount}), std)
    assert (s.loc[0, "f"], s.loc[0, "m"]) == (f, m)


def test_rfm_segments_and_score(features, std, said):
    t = behaviour_rfm(
        features(
            {"days_since_last_txn": 5.0, "txn_count": 70, "txn_amount": 200_000.0},  # 544
            {"days_since_last_txn": 200.0, "txn_count": 70, "txn_amount": 1_000.0},  # 241
            {"days_since_last_txn": 300.0, "txn_count": 1, "txn_amount": 100.0},  # 111
            {"days_since_last_txn": 10.0, "txn_count": 2, "txn_amount": 100.0},
        ),
        std,
    )  # 511
    assert list(t["value"]) == ["champions", "at_risk", "hibernating", "new_or_promising"]
    assert list(t["score"]) == [544, 241, 111, 511]
    assert t.loc[0, "inputs"]["rfm"] == "544" and said(t).loc[0].startswith("R5F4M4")


def test_channel_preference_ties_and_none(features, std, said):
    zero = {"ch_mobile": 0, "ch_online": 0, "ch_branch": 0, "ch_atm": 0, "ch_pos": 9}
    t = behaviour_channel(
        features({**zero, "ch_branch": 4, "ch_atm": 3}, {**zero, "ch_online": 2, "ch_atm": 2}, zero), std
    )
    assert list(t["value"]) == ["branch", "online", "none"]
    assert said(t).loc[0] == "branch: 4 of 7 transactions (57.14%)" and t.loc[0, "label_zh"] == "网点柜面"
    assert t.loc[2, "inputs"] == {"mobile": 0, "online": 0, "branch": 0, "atm": 0}


def test_activity_edges_and_unknown_without_transaction_data(features, std, said):
    t = behaviour_activity(
        features(
            {"days_since_last_txn": 180.0},
            {"days_since_last_txn": 181.0},
            {"days_since_last_txn": float("nan"), "txn_count": 0},
            {"days_since_last_txn": float("nan"), "txn_data": False},
        ),
        std,
    )
    assert list(t["value"]) == ["active", "dormant", "dormant", "unknown"]
    assert "no transaction in the last 12 months" in said(t).loc[2]


@pytest.mark.parametrize(
    "years, band",
    [
        (0.99, "new"),
        (1.0, "developing"),
        (2.99, "developing"),
        (3.0, "established"),
        (9.99, "established"),
        (10.0, "long_standing"),
        (float("nan"), "new"),
    ],
)
def test_loyalty_bands(features, std, years, band):
    assert behaviour_loyalty(features({"tenure_years": years}), std)["value"].item() == band
