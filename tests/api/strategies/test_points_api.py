"""Points over GraphQL: `Customer.strategy.points`, `redeemPoints` (book rules, typed refusals,
idempotent replay, audit) and `packageTable`, on the loaded bank whose run posted the points."""

import datetime as dt

import sqlalchemy as sa

from clientstrata.graph.record.models import AuditEntry, CustomerPackage, FeeEvent, PointsAccount
from clientstrata.jobs.strategies.points import ledger_mismatches, postings
from clientstrata.jobs.strategies.strategy import bank_packages


def bank_packages_of(engine, package: str) -> list[str]:
    with engine.connect() as conn:
        found = bank_packages(conn)
    return found.loc[found["package"] == package, "customer_id"].tolist()


POINTS = """query($id: ID!) { customer(id: $id) { strategy { points { balance
  postings(first: 500) { id source kind rule points package expiresOn } } } } }"""
REDEEM = """mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) { __typename
  ... on PointsRedemption { balance replayed posting { source kind rule points basisAmount } }
  ... on Error { code message } ... on NotFound { kind key } } }"""


def _richest(engine, customers: list[str], package: str | None = None) -> tuple[str, int]:
    acc, pk = PointsAccount.__table__, CustomerPackage.__table__
    if package is not None:  # the mass package pays full price: something for points to pay
        customers = [c for c in customers if c in set(bank_packages_of(engine, package))]
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(acc.c.customer_id, acc.c.balance)
            .where(acc.c.customer_id.in_(customers), acc.c.customer_id.in_(sa.select(pk.c.customer_id)))
            .order_by(acc.c.balance.desc(), acc.c.customer_id)
        ).first()
    return row.customer_id, int(row.balance)


def test_points_are_the_runs_postings_and_the_balance_is_their_sum(app_ro, make_token_ro, loaded_ro, gql, rm_book):
    engine, _ = loaded_ro
    rm, mine, _ = rm_book
    cid, balance = _richest(engine, mine)
    assert balance > 0
    points = gql(app_ro, make_token_ro("relationship_manager", rm), POINTS, id=cid)["data"]["customer"]["strategy"][
        "points"
    ]
    assert points["balance"] == balance == sum(p["points"] for p in points["postings"])
    assert {p["kind"] for p in points["postings"]} == {"earn"} and all(p["expiresOn"] for p in points["postings"])
    with engine.connect() as conn:
        assert ledger_mismatches(conn).empty


def test_redeem_pays_once_refuses_overdraft_and_is_audited(app, make_token, loaded, gql, rm_book):
    engine, _ = loaded
    rm, mine, others = rm_book
    cid, balance = _richest(engine, mine, "mass")
    token = make_token("relationship_manager", rm)
    ask = {"customerId": cid, "feeItem": "sms_alerts", "requestId": "front-desk-1"}
    paid = gql(app, token, REDEEM, input=ask)["data"]["redeemPoints"]
    assert paid["__typename"] == "PointsRedemption" and not paid["replayed"]
    cost = -paid["posting"]["points"]
    assert paid["balance"] == balance - cost and cost == round(paid["posting"]["basisAmount"] * 100)
    again = gql(app, token, REDEEM, input=ask)["data"]["redeemPoints"]
    assert again["replayed"] and again["balance"] == paid["balance"]

    # a fee of more than the balance is refused, whole
    with engine.begin() as conn:
        conn.execute(
            sa.insert(FeeEvent.__table__).values(
                fee_id="FX-BIG", customer_id=cid, fee_item="transfer", charged_at=dt.datetime.now(), amount=balance
            )
        )
    big = gql(app, token, REDEEM, input={"customerId": cid, "feeEventId": "FX-BIG"})["data"]["redeemPoints"]
    assert (big["__typename"], big["code"]) == ("InvalidState", "INSUFFICIENT_POINTS")
    assert f"the customer has {paid['balance']:,}" in big["message"]

    # another RM's customer, or a fee of another customer: refused without telling anything
    outside = gql(app, token, REDEEM, input={**ask, "customerId": others[0]})["data"]["redeemPoints"]
    assert outside["__typename"] == "NotFound"  # reads as no such customer
    theirs = gql(app, make_token("service_agent"), REDEEM, input={"customerId": others[0], "feeEventId": "FX-BIG"})
    assert theirs["data"]["redeemPoints"]["__typename"] == "NotFound"
    unknown = gql(app, token, REDEEM, input={**ask, "feeItem": "parking", "requestId": "x"})["data"]["redeemPoints"]
    assert unknown["code"] == "INVALID_INPUT" and "no fee item 'parking'" in unknown["message"]
    refused = gql(app, make_token("marketing_analyst"), REDEEM, input=ask)["data"]["redeemPoints"]
    assert refused["__typename"] == "NotAllowed"
    waived = _richest(engine, mine, "wealth")[0]  # the wealth package waives SMS alerts: nothing to pay
    free = gql(app, token, REDEEM, input={**ask, "customerId": waived})["data"]["redeemPoints"]
    assert free["code"] == "NOT_REDEEMABLE" and "costs this customer nothing" in free["message"]

    with engine.connect() as conn:
        assert ledger_mismatches(conn).empty
        assert (postings(conn, cid)["kind"] == "redeem").sum() == 1
        audit = AuditEntry.__table__
        entries = conn.execute(sa.select(audit.c.actor).where(audit.c.action == "points.redeemed")).scalars().all()
    assert entries == ["test relationship_manager"]  # the token that redeemed


def test_package_table_is_the_runs_packages_within_the_book(app_ro, make_token_ro, loaded_ro, gql, rm_book):
    rm, mine, _ = rm_book
    q = "{ packageTable(first: 50) { columns rows totalCount pageInfo { hasNextPage endCursor } } }"
    whole = gql(app_ro, make_token_ro("admin"), q)["data"]["packageTable"]
    assert whole["columns"][:3] == ["customer_id", "run_id", "package"] and whole["pageInfo"]["hasNextPage"]
    book = gql(app_ro, make_token_ro("relationship_manager", rm), q.replace("50", "1000"))["data"]["packageTable"]
    assert {r[0] for r in book["rows"]} == set(mine) and book["totalCount"] == len(mine)
