"""The SDK's next-best-action calls as DataFrames, against a live server."""

import pandas as pd
import pytest

from clientstrata.sdk import APIError, Client


@pytest.fixture(scope="module")
def analyst(make_token_ro):
    return make_token_ro("marketing_analyst")


def test_worklist_next_best_actions_and_effect_as_dataframes(server_ro, analyst):
    client = Client(server_ro, analyst, progress=False)
    work = client.worklist()
    assert len(work) > 0 and set(work["kind"]) <= {"action", "alert"}
    assert str(work["due_on"].dtype).startswith("datetime64") and work["due_on"].is_monotonic_increasing
    who = work.loc[work["kind"] == "action", "customer_id"].iloc[0]
    acts = client.next_best_actions(who, first=5)
    assert len(acts) >= 1 and list(acts["rank"]) == list(range(1, len(acts) + 1))
    assert acts["reason_en"].str.len().min() > 0 and acts["reason_zh"].str.len().min() > 0
    assert acts["priority"].is_monotonic_decreasing
    effect = client.strategy_effect()
    assert {"uplift", "uplift_low", "uplift_high", "offered", "control"} <= set(effect.columns)
    every = effect[effect["segment"] == "all"]
    assert every["offered"].sum() > 0 and (every["control"] >= 0).all()
    with pytest.raises(APIError, match="between 1 and 20"):
        client.next_best_actions(who, first=50)


def test_actions_is_the_campaign_list_in_pages_as_one_dataframe(server_ro, analyst, make_token_ro):
    whole = Client(server_ro, analyst, progress=False, page_size=40).actions()
    assert len(whole) > 80  # more than two pages of 40, stitched
    assert not whole.duplicated(["customer_id", "rank"]).any()
    assert str(whole["due_on"].dtype).startswith("datetime64") and whole["priority"].dtype == float
    first_ranks = whole.groupby("customer_id")["rank"].min()
    assert (first_ranks == 1).all()
    mass = Client(server_ro, analyst, progress=False).actions(tier="mass")
    assert 0 < len(mass) < len(whole) and set(mass["customer_id"]) < set(whole["customer_id"])
    rm = whole["rm_id"].dropna().mode()[0]
    mine = Client(server_ro, make_token_ro("relationship_manager", rm), progress=False).actions()
    assert set(mine["rm_id"]) == {rm} and len(mine) == (whole["rm_id"] == rm).sum()
    with pytest.raises(ValueError, match="unknown filter"):
        Client(server_ro, analyst, progress=False).actions(segment="mass")


def test_arrow_and_json_pages_give_the_same_campaign_list(server_ro, analyst, make_token_ro):
    for asked in ({}, {"tier": "mass"}, {"aum_min": 1e13}):
        arrow = Client(server_ro, analyst, progress=False, page_size=40).actions(**asked)
        json = Client(server_ro, analyst, progress=False, page_size=40, arrow=False).actions(**asked)
        pd.testing.assert_frame_equal(arrow, json)
    assert len(arrow) == 0 and len(Client(server_ro, analyst, progress=False).actions()) > 80
