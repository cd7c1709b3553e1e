"""A filter value that cannot match is refused with the valid ones, as `alertType` already was:
`tier: "Wealth"` used to answer an empty page that reads as "no such customers" (issue 14)."""

import pytest
import sqlalchemy as sa

CUSTOMERS = "query($f: CustomerFilter) { customers(first: 5, filter: $f) { totalCount } }"
TABLE = "query($f: CustomerFilter) { customerTable(first: 5, filter: $f) { totalCount } }"
HOUSEHOLDS = "query($f: HouseholdFilter) { households(first: 5, filter: $f) { totalCount } }"


def _error(app, gql, token, query, flt):
    body = gql(app, token, query, f=flt)
    assert body.get("errors"), body
    (error,) = body["errors"]
    return error["message"], error["extensions"]["code"]


@pytest.mark.parametrize("query", [CUSTOMERS, TABLE])
@pytest.mark.parametrize(
    ("flt", "code", "says"),
    [
        ({"tier": "Wealth"}, "INVALID_VALUE", "did you mean 'wealth'"),
        ({"cooperationDepth": "deep-ish"}, "INVALID_VALUE", "values:"),
        ({"tags": [{"dimension": "wealth_teir", "values": ["wealth"]}]}, "UNKNOWN_DIMENSION", "wealth_tier"),
        ({"tags": [{"dimension": "risk_preference", "values": ["C9"]}]}, "INVALID_VALUE", "C1"),
        ({"branchId": "BR-NOPE"}, "INVALID_INPUT", "unknown branch 'BR-NOPE' (e.g. "),
        ({"rmId": "RM-NOPE"}, "INVALID_INPUT", "unknown relationship manager 'RM-NOPE'"),
    ],
)
def test_values_that_cannot_match_are_refused_with_the_valid_ones(app_ro, gql, make_token_ro, query, flt, code, says):
    message, got = _error(app_ro, gql, make_token_ro("marketing_analyst"), query, flt)
    assert got == code and says in message


def test_valid_values_still_filter(app_ro, gql, make_token_ro):
    token = make_token_ro("marketing_analyst")
    every = gql(app_ro, token, CUSTOMERS)["data"]["customers"]["totalCount"]
    wealth = gql(app_ro, token, CUSTOMERS, f={"tier": "wealth"})["data"]["customers"]["totalCount"]
    assert 0 < wealth < every


def test_households_refuse_an_unknown_tier_and_branch(app_ro, gql, make_token_ro):
    token = make_token_ro("marketing_analyst")
    message, code = _error(app_ro, gql, token, HOUSEHOLDS, {"tier": "Gold"})
    assert code == "INVALID_VALUE" and "household_wealth_tier" in message
    message, code = _error(app_ro, gql, token, HOUSEHOLDS, {"branchId": "BR-NOPE"})
    assert code == "INVALID_INPUT" and "BR-NOPE" in message


def test_a_relationship_manager_learns_nothing_about_other_ids(app_ro, gql, make_token_ro, loaded_ro):
    with loaded_ro[0].connect() as conn:
        rm = conn.execute(sa.text("SELECT min(rm_id) FROM individuals")).scalar()
    token = make_token_ro("relationship_manager", rm_id=rm)
    body = gql(app_ro, token, CUSTOMERS, f={"rmId": "RM-NOPE"})
    assert "errors" not in body and body["data"]["customers"]["totalCount"] == 0
