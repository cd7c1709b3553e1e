"""The SDK's strategy calls against a live server: playbook(), packages(), points()."""

import pandas as pd
import pytest
import sqlalchemy as sa

from clientstrata.jobs.strategies.strategy import bank_packages
from clientstrata.sdk import APIError, Client


@pytest.fixture(scope="module")
def client(server_ro, make_token_ro):
    return Client(server_ro, make_token_ro("marketing_analyst"), progress=False, page_size=70)  # five pages


def test_playbook_lists_packages_in_precedence_order(client):
    df = client.playbook()
    assert list(df["package"]) == ["private_banking", "wealth", "affluent", "mass"]
    assert list(df["precedence"]) == [1, 2, 3, 4] and df.loc[3, "selectors"] == [] and df.attrs["version"]


def test_packages_are_the_runs_one_per_customer(client, loaded_ro):
    engine, _ = loaded_ro
    df = client.packages()
    with engine.connect() as conn:
        stored = bank_packages(conn)
    assert len(df) == len(stored) == 300 and df["customer_id"].is_unique
    assert dict(zip(df["customer_id"], df["package"])) == dict(zip(stored["customer_id"], stored["package"]))
    assert (df["points_balance"] >= 0).all() and df["points_balance"].sum() > 0


def test_points_are_the_customers_postings(client, loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        cid = conn.execute(sa.text("SELECT customer_id FROM points_accounts ORDER BY balance DESC")).scalar()
    df = client.points(cid)
    assert df.attrs["balance"] == df["points"].sum() > 0 and df["source"].is_unique
    assert str(df["expires_on"].dtype).startswith("datetime64")
    with pytest.raises(APIError, match="`first` must be from 1 to 500"):
        client.points(cid, first=501)


def test_arrow_and_json_pages_give_the_same_packages(client, server_ro, make_token_ro):
    json = Client(server_ro, make_token_ro("marketing_analyst"), progress=False, page_size=70, arrow=False)
    assert client.arrow and not json.arrow
    pd.testing.assert_frame_equal(client.packages(), json.packages())
