"""The customer 360 view (holdings, RM, ecosystem) and the enterprise view, per role."""

import pytest
import sqlalchemy as sa

from clientstrata.graph.record.models import Account, AuditEntry, Employment, Enterprise, Individual


def ask(app, token, query, **variables):
    r = app.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    body = r.json()
    assert "errors" not in body, body
    return body["data"]


HOLDINGS = """query($id: ID!) { customer(id: $id) { rmId relationshipManager { id name branch { id name } }
  holdings { family balance holdings { accountId accountNumber family balance riskLevel } } } }"""


def test_holdings_by_family_add_up_and_account_numbers_follow_the_role(app, make_token, loaded):
    engine, _ = loaded
    with engine.connect() as conn:
        cid, rm = conn.execute(
            sa.select(Individual.customer_id, Individual.rm_id)
            .where(Individual.rm_id.is_not(None))
            .order_by(Individual.customer_id)
        ).first()
        accounts = dict(
            conn.execute(
                sa.select(Account.account_id, Account.account_number).where(
                    Account.owner_id == cid, Account.status != "closed"
                )
            ).all()
        )
    data = ask(app, make_token("marketing_analyst"), HOLDINGS, id=cid)["customer"]
    assert data["relationshipManager"]["id"] == rm == data["rmId"] and data["relationshipManager"]["branch"]["name"]
    families = data["holdings"]
    for fam in families:
        assert fam["balance"] == pytest.approx(sum(h["balance"] or 0 for h in fam["holdings"]))
        assert {h["family"] for h in fam["holdings"]} == {fam["family"]}
    shown = {h["accountId"]: h["accountNumber"] for f in families for h in f["holdings"] if h["accountId"] in accounts}
    assert shown and all(v != accounts[k] and "*" in v and v[:6] == accounts[k][:6] for k, v in shown.items())
    clear = ask(app, make_token("relationship_manager", rm), HOLDINGS, id=cid)["customer"]["holdings"]
    assert {h["accountId"]: h["accountNumber"] for f in clear for h in f["holdings"] if h["accountId"] in accounts} == {
        k: accounts[k] for k in shown
    }
    with engine.connect() as conn:
        fields = {
            d["field"]
            for d in conn.execute(sa.select(AuditEntry.details).where(AuditEntry.action == "pii.read")).scalars()
        }
    assert {f"account_number:{k}" for k in shown} <= fields


def test_ecosystem_shows_strangers_to_nobody_outside_the_book(app_ro, make_token_ro, loaded_ro):
    engine, _ = loaded_ro
    q = "query($id: ID!, $h: Int!) { customer(id: $id) { ecosystem(hops: $h, first: 1000) { hops relations node { kind id } } } }"
    with engine.connect() as conn:
        people = dict(conn.execute(sa.select(Individual.customer_id, Individual.rm_id)).all())
    analyst = make_token_ro("marketing_analyst")
    # a customer whose 2-hop ecosystem includes someone from another RM's book
    for cid, rm in people.items():
        if rm is None:
            continue
        eco = ask(app_ro, analyst, q, id=cid, h=2)["customer"]["ecosystem"]
        others = {
            e["node"]["id"] for e in eco if e["node"]["kind"] == "Individual" and people.get(e["node"]["id"]) != rm
        }
        if others:
            break
    else:
        pytest.fail("the test bank has no cross-book ecosystem")
    assert all(1 <= n["hops"] <= 2 and n["relations"] for n in eco)
    mine = ask(app_ro, make_token_ro("relationship_manager", rm), q, id=cid, h=2)["customer"]["ecosystem"]
    assert {e["node"]["id"] for e in mine} == {e["node"]["id"] for e in eco} - others
    # strangers take places in the bounded walk; the RM still gets the first n they may see
    cut = "query($id: ID!, $n: Int!) { customer(id: $id) { ecosystem(hops: 2, first: $n) { hops relations node { kind id } } } }"
    rm_token = make_token_ro("relationship_manager", rm)
    for n in sorted({1, 2, len(mine) // 2 or 1, len(mine) - 1 or 1, len(mine)}):
        assert ask(app_ro, rm_token, cut, id=cid, n=n)["customer"]["ecosystem"] == mine[:n], n
    err = app_ro.post(
        "/graphql", json={"query": q, "variables": {"id": cid, "h": 9}}, headers={"Authorization": f"Bearer {analyst}"}
    ).json()["errors"][0]["message"]
    assert err == "`hops` must be between 1 and 4"


def test_ecosystem_degrees_are_the_graphs_when_selected_and_the_walk_is_the_same_without(
    app_ro, make_token_ro, loaded_ro
):
    """The walk counts degrees only when `degree` is selected (directly or in a fragment); the
    edges are the same either way, and a selected degree is the graph's own count."""
    analyst = make_token_ro("marketing_analyst")
    _, graph = loaded_ro
    eco = "query($id: ID!) {{ customer(id: $id) {{ ecosystem(hops: 2) {{ hops relations node {{ kind id {} }} }} }} }}"
    cid = max((f"C{i:07d}" for i in range(1, 31)), key=lambda c: len(graph.walk(c, 2, first=100)))
    bare = ask(app_ro, analyst, eco.format(""), id=cid)["customer"]["ecosystem"]
    shown = ask(app_ro, analyst, eco.format("degree"), id=cid)["customer"]["ecosystem"]
    spread = ask(app_ro, analyst, eco.format("... on EcosystemEnterprise { degree }"), id=cid)["customer"]["ecosystem"]
    assert len(bare) >= 5 and {e["hops"] for e in bare} == {1, 2}
    assert [{**e, "node": {k: v for k, v in e["node"].items() if k != "degree"}} for e in shown] == bare
    assert [e["node"]["degree"] for e in shown] == [r[5] for r in graph.walk(cid, 2, first=100)]
    assert [e["node"].get("degree") for e in spread if e["node"]["kind"] == "Enterprise"] == [
        e["node"]["degree"] for e in shown if e["node"]["kind"] == "Enterprise"
    ]


def test_ecosystem_comes_nearest_first_and_at_most_first(app_ro, make_token_ro, loaded_ro):
    q = "query($id: ID!, $n: Int!) { customer(id: $id) { ecosystem(hops: 3, first: $n) { hops node { kind id } } } }"
    analyst = make_token_ro("marketing_analyst")
    engine, _ = loaded_ro
    with engine.connect() as conn:
        ids = list(conn.execute(sa.select(Individual.customer_id).order_by(Individual.customer_id)).scalars())
    # the customer with the widest three-hop ecosystem in the test bank
    sizes = {cid: len(ask(app_ro, analyst, q, id=cid, n=1000)["customer"]["ecosystem"]) for cid in ids[:60]}
    cid = max(sizes, key=sizes.get)
    full = ask(app_ro, analyst, q, id=cid, n=1000)["customer"]["ecosystem"]
    assert len(full) > 5 and {n["hops"] for n in full} >= {1, 2}
    key = [(e["hops"], e["node"]["kind"], e["node"]["id"]) for e in full]
    assert key == sorted(key)
    assert ask(app_ro, analyst, q, id=cid, n=5)["customer"]["ecosystem"] == full[:5]
    body = app_ro.post(
        "/graphql",
        json={"query": q, "variables": {"id": cid, "n": 1001}},
        headers={"Authorization": f"Bearer {analyst}"},
    ).json()
    assert body["data"]["customer"]["ecosystem"] is None  # the field fails, the customer is still served
    assert body["errors"][0]["message"] == "`first` must be between 1 and 1000"


ENTERPRISE = """query($id: ID!) { enterprise(id: $id) { id industry size peopleCount
  people { customerId link payroll customer { id } } supplyChain { enterpriseId role annualVolume } } }"""


def test_enterprise_view_and_its_people_per_book(app_ro, make_token_ro, loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        eid = (
            conn.execute(
                sa.select(Employment.enterprise_id)  # the busiest employer that has an RM
                .join(Enterprise, Enterprise.enterprise_id == Employment.enterprise_id)
                .where(Enterprise.rm_id.is_not(None))
                .group_by(Employment.enterprise_id)
                .order_by(sa.func.count().desc(), Employment.enterprise_id)
            )
            .scalars()
            .first()
        )
        staff = dict(
            conn.execute(
                sa.select(Employment.customer_id, Individual.rm_id)
                .join(Individual, Individual.customer_id == Employment.customer_id)
                .where(Employment.enterprise_id == eid)
            ).all()
        )
        managed = dict(conn.execute(sa.select(Enterprise.enterprise_id, Enterprise.rm_id)).all())
        books = dict(conn.execute(sa.select(Individual.customer_id, Individual.rm_id)).all())
    data = ask(app_ro, make_token_ro("risk_officer"), ENTERPRISE, id=eid)["enterprise"]
    employees = {p["customerId"] for p in data["people"] if p["link"] == "employee"}
    assert employees <= set(staff) and data["peopleCount"] >= len(staff)
    assert all(p["customer"]["id"] == p["customerId"] for p in data["people"])
    assert all(s["role"] in ("supplier", "buyer") for s in data["supplyChain"])
    # an RM sees the enterprises they manage and, of their people, only those in their book
    rm = managed[eid]
    mine = ask(app_ro, make_token_ro("relationship_manager", rm), ENTERPRISE, id=eid)["enterprise"]
    assert mine["id"] == eid and mine["peopleCount"] == sum(books[c] == rm for c in staff) + sum(
        books[p["customerId"]] == rm for p in data["people"] if p["link"] != "employee"
    )
    assert all(books[p["customerId"]] == rm for p in mine["people"])
    foreign = next(e for e, owner in managed.items() if owner != rm)
    assert ask(app_ro, make_token_ro("relationship_manager", rm), ENTERPRISE, id=foreign)["enterprise"] is None
