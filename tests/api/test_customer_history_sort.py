"""Customer 360 additions: sort by current AUM with a keyset cursor, customers with an open
alert of a type, tags as of a day and a dimension's history across runs."""

import datetime as dt

import pytest
import sqlalchemy as sa

from clientstrata.graph.record.models import Alert, ClassificationRun, CustomerRollup

SORTED = """query($first: Int!, $after: String, $sort: CustomerSort!) {
  customers(first: $first, after: $after, sort: $sort) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id aum } } } }"""


def ask(app, token, query, **variables):
    r = app.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    return r.json()


def data(app, token, query, **variables):
    body = ask(app, token, query, **variables)
    assert "errors" not in body, body
    return body["data"]


def pages(app, token, sort, first, after=None):
    out = []
    while True:
        page = data(app, token, SORTED, first=first, after=after, sort=sort)["customers"]
        out += [e["node"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return out


def deposit_months(engine, customer_id=None):
    """(customer, account, [months]) of a CNY deposit account with monthly balances."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("""
            SELECT a.owner_id, a.account_id, b.month FROM accounts a JOIN products p ON p.product_id = a.product_id
            JOIN balances_monthly b ON b.account_id = a.account_id
            WHERE a.owner_type = 'individual' AND p.family = 'deposit' AND a.currency = 'CNY'
            ORDER BY a.owner_id, a.account_id, b.month""")
        ).all()
    owner = customer_id or rows[0][0]
    account = next(r[1] for r in rows if r[0] == owner)
    return owner, account, [r[2] for r in rows if r[1] == account]


@pytest.mark.parametrize("sort", ["AUM_DESC", "AUM_ASC"])
def test_aum_sort_pages_in_order(app_ro, make_token_ro, loaded_ro, sort):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        aum = dict(conn.execute(sa.select(CustomerRollup.customer_id, CustomerRollup.aum)).all())
    got = pages(app_ro, make_token_ro("marketing_analyst"), sort, 37)
    sign = -1 if sort == "AUM_DESC" else 1
    assert [c["id"] for c in got] == sorted(aum, key=lambda c: (sign * aum[c], c))
    assert all(c["aum"] == pytest.approx(aum[c["id"]]) for c in got)


def test_the_aum_cursor_holds_while_aums_change(app, make_token, loaded, ingest_rows):
    engine, _ = loaded
    token = make_token("marketing_analyst")
    first = data(app, token, SORTED, first=30, after=None, sort="AUM_DESC")["customers"]
    seen = [e["node"]["id"] for e in first["edges"]]
    # the poorest customer with monthly deposits becomes the richest before the next page is read
    with engine.connect() as conn:
        poor = conn.execute(
            sa.text("""SELECT r.customer_id FROM customer_rollups r JOIN accounts a
            ON a.owner_id = r.customer_id JOIN products p ON p.product_id = a.product_id
            JOIN balances_monthly b ON b.account_id = a.account_id
            WHERE p.family = 'deposit' AND a.currency = 'CNY' ORDER BY r.aum, r.customer_id""")
        ).scalar()
    owner, account, months = deposit_months(engine, poor)
    ingest_rows({"balances_monthly": [{"account_id": account, "month": months[-1], "avg_daily_balance": 9e8}]})
    rest = pages(app, token, "AUM_DESC", 30, after=first["pageInfo"]["endCursor"])
    ids = seen + [c["id"] for c in rest]
    assert len(ids) == len(set(ids))  # nobody twice
    assert poor not in ids  # it moved ahead of the cursor: the next full pull starts with it
    assert pages(app, token, "AUM_DESC", 30)[0]["id"] == poor
    assert [c["aum"] for c in rest] == sorted((c["aum"] for c in rest), reverse=True)


def test_a_cursor_from_another_order_is_refused(app_ro, make_token_ro, loaded_ro):
    token = make_token_ro("marketing_analyst")
    by_id = data(app_ro, token, SORTED, first=3, after=None, sort="ID")["customers"]["pageInfo"]["endCursor"]
    body = ask(app_ro, token, SORTED, first=3, after=by_id, sort="AUM_DESC")
    assert body["errors"][0]["message"] == "`after` is not a cursor of this API for customers in AUM_DESC order"
    body = ask(app_ro, token, SORTED, first=1001, after=None, sort="AUM_ASC")
    assert body["errors"][0]["message"] == "`first` must be between 1 and 1000"


def test_customers_with_an_open_alert_of_a_type(app_ro, make_token_ro, loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        alerts = conn.execute(sa.select(Alert.alert_type, Alert.customer_id).where(Alert.status == "open")).all()
    assert alerts, "the test bank raised no alerts"
    kind = max({t for t, _ in alerts}, key=lambda t: sum(a == t for a, _ in alerts))
    q = """query($t: String!) { customers(first: 1000, filter: {alertType: $t}) { totalCount edges { node { id } } } }"""
    got = data(app_ro, make_token_ro("marketing_analyst"), q, t=kind)["customers"]
    want = {c for t, c in alerts if t == kind}
    assert {e["node"]["id"] for e in got["edges"]} == want and got["totalCount"] == len(want)
    body = ask(app_ro, make_token_ro("marketing_analyst"), q, t="weather")
    assert body["errors"][0]["message"].startswith("unknown alert type 'weather'")


HISTORY = """query($id: ID!, $day: Date) { customer(id: $id) {
  tagHistory(dimension: "wealth_tier") { runId publishedAt value label labelZh standardVersion explanation }
  tags(dimension: "wealth_tier", asOf: $day) { value runId } } }"""


def test_tags_as_of_and_tag_history_across_two_runs(app, make_token, loaded, ingest_rows):
    engine, graph = loaded
    from clientstrata.jobs.runs.pipeline import classify

    owner, account, months = deposit_months(engine)
    token = make_token("marketing_analyst")
    before = data(app, token, HISTORY, id=owner, day=None)["customer"]
    assert [h["runId"] for h in before["tagHistory"]] == [1] and before["tags"][0]["runId"] == 1
    # run 1 was published three days ago; this customer becomes private banking; run 2 today
    three_days_ago = dt.datetime.now() - dt.timedelta(days=3)
    with engine.begin() as conn:
        conn.execute(
            sa.update(ClassificationRun)
            .where(ClassificationRun.run_id == 1)
            .values(published_at=three_days_ago, started_at=three_days_ago)
        )
    ingest_rows({"balances_monthly": [{"account_id": account, "month": m, "avg_daily_balance": 5e7} for m in months]})
    classify(engine, graph, progress=False)
    today = dt.date.today()
    now = data(app, token, HISTORY, id=owner, day=None)["customer"]
    history = now["tagHistory"]
    assert [h["runId"] for h in history] == [1, 2] and history[0]["publishedAt"] < history[1]["publishedAt"]
    assert history[0]["value"] == before["tags"][0]["value"] != history[1]["value"] == "private_banking"
    assert all(h["label"] and h["labelZh"] and h["explanation"] for h in history)
    as_of = lambda day: data(app, token, HISTORY, id=owner, day=day.isoformat())["customer"]["tags"]
    assert as_of(today - dt.timedelta(days=2)) == [{"value": history[0]["value"], "runId": 1}]
    assert as_of(today) == [{"value": "private_banking", "runId": 2}] == now["tags"]
    assert as_of(today - dt.timedelta(days=4)) == []  # before the first run
