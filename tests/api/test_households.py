"""The households connection: the household view CRM integrations pull incrementally, with
`updatedSince`, RM books, filters and flat statement counts."""

import pytest
import sqlalchemy as sa

from clientstrata.graph.record.models import HouseholdMember, HouseholdRollup, Individual

NODE = "id name status aum tier memberCount updatedAt"
PAGE = (
    """query($first: Int!, $after: String, $since: DateTime, $filter: HouseholdFilter) {
  households(first: $first, after: $after, updatedSince: $since, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { %s } } } }"""
    % NODE
)
LATEST_BALANCE = """
    SELECT hm.household_id, b.account_id, b.month, b.avg_daily_balance
    FROM balances_monthly b JOIN accounts a ON a.account_id = b.account_id
    JOIN products p ON p.product_id = a.product_id JOIN household_members hm ON hm.customer_id = a.owner_id
    WHERE a.owner_type = 'individual' AND p.family = 'deposit' AND a.currency = 'CNY'
      AND b.month = (SELECT max(month) FROM balances_monthly)
    ORDER BY hm.household_id, b.account_id"""


def ask(app, token, query, **variables):
    r = app.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    body = r.json()
    assert "errors" not in body, body
    return body["data"]


def pull(app, token, since=None, after=None, first=40, **flt):
    """Follow the pages to the end: (nodes, last endCursor, totalCount of the first page)."""
    nodes, total = [], None
    while True:
        page = ask(app, token, PAGE, first=first, after=after, since=since, filter=flt or None)["households"]
        total = page["totalCount"] if total is None else total
        nodes += [e["node"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"] or after
        if not page["pageInfo"]["hasNextPage"]:
            return nodes, after, total


def change_balance(engine, ingest_rows, household_id=None, by=1_000_000.0) -> str:
    """Ingest a delta raising one member's latest monthly balance; returns the household."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(LATEST_BALANCE)).all()
    hid, account, month, balance = next(r for r in rows if household_id in (None, r[0]))
    ingest_rows(
        {
            "balances_monthly": [
                {"account_id": account, "month": month, "avg_daily_balance": round(float(balance) + by, 2)}
            ]
        }
    )
    return hid


def test_households_page_through_every_household_with_rollups(app_ro, make_token_ro, loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        stored = {r["household_id"]: r for r in conn.execute(sa.select(HouseholdRollup.__table__)).mappings()}
        n = conn.execute(sa.text("SELECT count(*) FROM households")).scalar()
    nodes, _, total = pull(app_ro, make_token_ro("marketing_analyst"))
    ids = [h["id"] for h in nodes]
    assert total == n == len(ids) and ids == sorted(set(ids))
    for h in nodes:
        assert h["aum"] == pytest.approx(stored[h["id"]]["aum"]) and h["memberCount"] == stored[h["id"]]["member_count"]
        assert h["tier"] == stored[h["id"]]["tier"]
    assert any(h["tier"] for h in nodes) and all(h["tier"] is None for h in nodes if h["status"] == "CANDIDATE")


def test_a_changed_balance_shows_in_updated_since_at_once_and_a_poller_misses_nothing(
    app, make_token, loaded, ingest_rows
):
    engine, _ = loaded
    token = make_token("marketing_analyst")
    everything, cursor, total = pull(app, token, since="2000-01-01T00:00:00")
    assert total == len(everything) == len({h["id"] for h in everything})
    watermark = max(h["updatedAt"] for h in everything)
    assert pull(app, token, since=watermark)[0] == []  # nothing newer yet
    old = {h["id"]: h for h in everything}

    hid = change_balance(engine, ingest_rows)
    by_time, _, _ = pull(app, token, since=watermark)
    by_cursor, cursor2, _ = pull(app, token, since="2000-01-01T00:00:00", after=cursor)
    assert [h["id"] for h in by_time] == [h["id"] for h in by_cursor] == [hid]
    assert by_time[0]["aum"] == pytest.approx(old[hid]["aum"] + 1_000_000, abs=0.01)
    assert by_time[0]["updatedAt"] > watermark
    assert ask(app, token, "query($id: ID!) { household(id: $id) { aum } }", id=hid)["household"][
        "aum"
    ] == pytest.approx(by_time[0]["aum"])
    # the next poll, from either the new watermark or the new cursor, repeats nothing
    assert pull(app, token, since=by_time[0]["updatedAt"])[0] == []
    assert pull(app, token, since="2000-01-01T00:00:00", after=cursor2)[0] == []


def test_changes_during_a_pull_are_neither_missed_nor_repeated(app, make_token, loaded, ingest_rows):
    engine, _ = loaded
    token = make_token("marketing_analyst")
    since = "2000-01-01T00:00:00"
    first = ask(app, token, PAGE, first=20, after=None, since=since, filter=None)["households"]
    seen = [e["node"] for e in first["edges"]]
    with engine.connect() as conn:
        candidates = [r[0] for r in conn.execute(sa.text(LATEST_BALANCE)).all()]
    early = next(h for h in candidates if h in {n["id"] for n in seen})  # already pulled
    late = next(h for h in reversed(candidates) if h not in {n["id"] for n in seen})  # not yet pulled
    change_balance(engine, ingest_rows, early)
    change_balance(engine, ingest_rows, late)
    rest, _, _ = pull(app, token, since=since, after=first["pageInfo"]["endCursor"], first=20)
    pulled = [n["id"] for n in seen + rest]
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM households")).scalar()
    assert set(pulled) == set(candidates) | set(pulled) and len(set(pulled)) == n  # nobody missed
    assert pulled.count(late) == 1  # changed before it was reached: pulled once, new values
    assert pulled.count(early) == 2  # changed after it was pulled: a second change, pulled again
    assert rest[-2]["id"] == early and rest[-1]["id"] == late  # the changes come last, in commit order
    assert all(pulled.count(h) == 1 for h in set(pulled) - {early})


def test_filters(app_ro, make_token_ro, loaded_ro):
    token = make_token_ro("marketing_analyst")
    every, _, _ = pull(app_ro, token, first=500)
    tier = next(h["tier"] for h in every if h["tier"])
    cut = sorted(h["aum"] for h in every)[len(every) // 2]
    with loaded_ro[0].connect() as conn:
        branch_of = {}
        for hid, branch in conn.execute(
            sa.select(HouseholdMember.household_id, Individual.branch_id).join(
                Individual, Individual.customer_id == HouseholdMember.customer_id
            )
        ):
            branch_of.setdefault(hid, set()).add(branch)
    branch = next(iter(branch_of[every[0]["id"]]))
    cases = [
        ({"tier": tier}, lambda h: h["tier"] == tier),
        ({"status": "CONFIRMED"}, lambda h: h["status"] == "CONFIRMED"),
        ({"aumMin": cut}, lambda h: h["aum"] >= cut),
        ({"aumMax": cut}, lambda h: h["aum"] < cut),
        ({"branchId": branch}, lambda h: branch in branch_of.get(h["id"], ())),
    ]
    for flt, keep in cases:
        got, _, total = pull(app_ro, token, first=500, **flt)
        want = [h["id"] for h in every if keep(h)]
        assert [h["id"] for h in got] == want and total == len(want) and want, flt
        assert len(want) < len(every) or "status" in flt, flt


def test_a_relationship_manager_sees_households_with_a_member_in_the_book_and_only_those_members(
    app_ro, make_token_ro, loaded_ro
):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(HouseholdMember.household_id, HouseholdMember.customer_id, Individual.rm_id).join(
                Individual, Individual.customer_id == HouseholdMember.customer_id
            )
        ).all()
    members: dict[str, dict[str, str]] = {}
    for hid, cid, rm in rows:
        members.setdefault(hid, {})[cid] = rm
    rm = next(
        rm for ms in members.values() for rm in ms.values() if rm and any(r != rm for r in ms.values())
    )  # an RM who shares a household with another book
    token = make_token_ro("relationship_manager", rm)
    q = PAGE.replace(NODE, NODE + " members { customerId customer { id rmId } }")
    nodes, after, total = [], None, None
    while True:
        page = ask(app_ro, token, q, first=5, after=after, since=None, filter=None)["households"]
        total = page["totalCount"]
        nodes += [e["node"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    mine = {h for h, ms in members.items() if rm in ms.values()}
    assert {h["id"] for h in nodes} == mine and total == len(mine)
    for h in nodes:
        assert {m["customerId"] for m in h["members"]} == {c for c, r in members[h["id"]].items() if r == rm}
        assert all(m["customer"]["rmId"] == rm for m in h["members"])
        assert h["memberCount"] == len(members[h["id"]])  # the whole household's, as its AUM
    assert any(len(h["members"]) < h["memberCount"] for h in nodes)
    foreign = next(h for h in members if h not in mine)
    assert ask(app_ro, token, "query($id: ID!) { household(id: $id) { id } }", id=foreign)["household"] is None


def test_cursors_belong_to_their_order(app_ro, make_token_ro, loaded_ro):
    token = make_token_ro("marketing_analyst")
    by_id = ask(app_ro, token, PAGE, first=2, after=None, since=None, filter=None)["households"]["pageInfo"][
        "endCursor"
    ]
    r = app_ro.post(
        "/graphql",
        json={"query": PAGE, "variables": {"first": 2, "after": by_id, "since": "2000-01-01T00:00:00"}},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert "other order" in r["errors"][0]["message"]
    r = app_ro.post(
        "/graphql", json={"query": PAGE, "variables": {"first": 5000}}, headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert r["errors"][0]["message"] == "`first` must be between 1 and 1000"


def test_statements_per_households_page_do_not_grow(app_ro, make_token_ro, loaded_ro, count_statements):
    engine, _ = loaded_ro
    q = PAGE.replace(NODE, NODE + " members { role aum customer { id tier aum } }")
    token = make_token_ro("marketing_analyst")
    counts = {}
    for first in (5, 20, 70):
        with count_statements(engine) as count:
            data = ask(app_ro, token, q, first=first, after=None, since="2000-01-01T00:00:00", filter=None)
        assert len(data["households"]["edges"]) == first
        counts[first] = count.n
    assert max(counts.values()) <= 15 and counts[70] <= counts[5] + 3, counts
