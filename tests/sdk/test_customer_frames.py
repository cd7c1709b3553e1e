"""`customer(id)`: the 360 as a dict of frames; `enterprise(id)` likewise (issue 14). Checked
against the record, and an unknown id is the SDK's usual not-found error."""

import pandas as pd
import pytest
import sqlalchemy as sa

from clientstrata.graph.record.models import Account, Alert, Employment, EnterpriseControl, HouseholdMember, Individual
from clientstrata.sdk import APIError, Client


@pytest.fixture(scope="module")
def client(server_ro, make_token_ro):
    return Client(server_ro, make_token_ro("marketing_analyst"), progress=False)


def _one(engine, q):
    with engine.connect() as conn:
        return conn.execute(q).first()


def test_customer_360_as_frames(client, loaded_ro):
    engine, _ = loaded_ro
    cid, hid = _one(
        engine,
        sa.select(HouseholdMember.customer_id, HouseholdMember.household_id)
        .where(HouseholdMember.customer_id.in_(sa.select(Alert.customer_id)))
        .order_by(HouseholdMember.customer_id),
    )
    with engine.connect() as conn:
        person = conn.execute(sa.select(Individual).where(Individual.customer_id == cid)).mappings().one()
        accounts = set(
            conn.execute(
                sa.select(Account.account_id).where(Account.owner_id == cid, Account.status != "closed")
            ).scalars()
        )
        alerts = conn.execute(sa.select(sa.func.count()).where(Alert.customer_id == cid)).scalar()
    got = client.customer(cid)
    assert set(got) == {"profile", "tags", "holdings", "household", "alerts", "feedback", "next_best_actions"}
    profile = got["profile"]
    assert len(profile) == 1 and profile.loc[0, "customer_id"] == cid and profile.loc[0, "name"] == person["name"]
    assert profile.loc[0, "birth_date"] == pd.Timestamp(person["birth_date"]) and profile.loc[0, "household_id"] == hid
    assert {"age", "aum_month_average", "current_balance", "household_tier", "rm_name", "package"} <= set(profile)
    row = client.customers(rm_id=person["rm_id"]).set_index("customer_id").loc[cid]
    assert profile.loc[0, "current_balance"] == pytest.approx(row["current_balance"], abs=0.01)
    assert profile.loc[0, "household_tier"] == row["household_tier"]
    tags = got["tags"].set_index("dimension")["value"]
    assert tags["wealth_tier"] == row["wealth_tier"] and not [d for d in tags.index if d.startswith("enterprise_")]
    holdings = got["holdings"]
    assert accounts <= set(holdings["account_id"]) and holdings["account_number"].str.contains(r"\*").all()
    members = got["household"]
    assert cid in set(members["customer_id"]) and members.attrs["id"] == hid
    assert str(members["birth_date"].dtype).startswith("datetime64")
    assert len(got["alerts"]) == min(alerts, 50) > 0 and isinstance(
        got["alerts"]["created_at"].dtype, pd.DatetimeTZDtype
    )
    assert list(got["next_best_actions"].columns[:3]) == ["rank", "action", "action_key"]
    assert {"feedback_id", "kind", "recorded_at"} <= set(got["feedback"].columns)


def test_customer_without_household_and_unknown_ids(client, server_ro, make_token_ro, loaded_ro):
    engine, _ = loaded_ro
    (lone,) = _one(
        engine,
        sa.select(Individual.customer_id).where(Individual.customer_id.notin_(sa.select(HouseholdMember.customer_id))),
    )
    got = client.customer(lone)
    assert got["household"].empty and list(got["household"].columns)[:2] == ["customer_id", "name"]
    assert got["profile"].loc[0, "household_id"] is None
    with pytest.raises(APIError, match="no customer with id 'C9999999'") as err:
        client.customer("C9999999")
    assert err.value.codes == ["NOT_FOUND"]
    (other,) = _one(engine, sa.select(Individual.customer_id).where(Individual.rm_id != "RM0001"))
    rm = Client(server_ro, make_token_ro("relationship_manager", rm_id="RM0001"), progress=False)
    with pytest.raises(APIError, match="no customer"):  # outside the book reads as absent
        rm.customer(other)
    with pytest.raises(APIError, match="no enterprise with id 'E-none'"):
        client.enterprise("E-none")


def test_enterprise_as_frames(client, loaded_ro):
    engine, _ = loaded_ro
    (eid,) = _one(
        engine,
        sa.select(Employment.enterprise_id)
        .where(Employment.enterprise_id.in_(sa.select(EnterpriseControl.enterprise_id)))
        .order_by(Employment.enterprise_id),
    )
    got = client.enterprise(eid)
    assert set(got) == {"profile", "tags", "people", "supply_chain"}
    profile = got["profile"]
    assert profile.loc[0, "enterprise_id"] == eid and profile.loc[0, "people_count"] >= len(got["people"]) > 0
    assert str(profile["founded_on"].dtype).startswith("datetime64") or profile["founded_on"].isna().all()
    assert set(got["tags"]["dimension"]) and all(d.startswith("enterprise_") for d in got["tags"]["dimension"])
    assert got["people"]["customer_id"].str.match(r"^C\d{7}$").all()
    assert list(got["supply_chain"].columns) == ["enterprise_id", "name", "role", "annual_volume"]
