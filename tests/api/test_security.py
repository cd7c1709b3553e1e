"""Authentication, a relationship manager's book, PII masking per role and its audit trail."""

import sqlalchemy as sa

from clientstrata.graph.record.models import AuditEntry, HouseholdMember, Individual


def ask(app, token, query, **variables):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = app.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    return r.status_code, r.json()


def test_requests_without_a_valid_token_get_401(app_ro, make_token_ro, loaded_ro):
    engine, _ = loaded_ro
    status, body = ask(app_ro, None, "{ customers { totalCount } }")
    assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert ask(app_ro, "cst_forged", "{ customers { totalCount } }")[0] == 401
    r = app_ro.get("/graphql", params={"query": "{ customers { totalCount } }"}, headers={"accept": "text/html"})
    assert r.status_code == 401  # a GET that runs an operation is no page view
    assert ask(app_ro, make_token_ro("service_agent"), "{ customers { totalCount } }")[0] == 200


def test_health_and_readiness_are_open(app_ro):
    assert app_ro.get("/healthz").json() == {"status": "ok"}
    ready = app_ro.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "database": "ok", "graph": "ok"}


def _book(engine):
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(Individual.customer_id, Individual.rm_id, HouseholdMember.household_id).join(
                HouseholdMember, HouseholdMember.customer_id == Individual.customer_id, isouter=True
            )
        ).all()
    return rows


def test_a_relationship_manager_sees_only_their_book(app_ro, make_token_ro, loaded_ro):
    engine, _ = loaded_ro
    rows = _book(engine)
    rm = max({r.rm_id for r in rows}, key=lambda x: sum(r.rm_id == x for r in rows))
    mine = {r.customer_id for r in rows if r.rm_id == rm}
    other = next(r.customer_id for r in rows if r.rm_id != rm)
    token = make_token_ro("relationship_manager", rm)
    _, body = ask(app_ro, token, "{ customers(first: 1000) { totalCount edges { node { id rmId } } } }")
    page = body["data"]["customers"]
    assert page["totalCount"] == len(mine) and {e["node"]["id"] for e in page["edges"]} == mine
    _, body = ask(app_ro, token, "query($id: ID!) { customer(id: $id) { id } }", id=other)
    assert body["data"]["customer"] is None
    # households: only members in the book; a household with none of them does not exist for this RM
    by_household: dict[str, set] = {}
    for r in rows:
        if r.household_id:
            by_household.setdefault(r.household_id, set()).add(r.customer_id)
    mixed = next(h for h, ms in by_household.items() if ms & mine and ms - mine)
    foreign = next(h for h, ms in by_household.items() if not ms & mine)
    q = "query($id: ID!) { household(id: $id) { id members { customerId customer { id } } } }"
    _, body = ask(app_ro, token, q, id=mixed)
    members = body["data"]["household"]["members"]
    assert {m["customerId"] for m in members} == by_household[mixed] & mine
    assert ask(app_ro, token, q, id=foreign)[1]["data"]["household"] is None
    # the nested path from one's own customer to their household leaks no one either
    cid = next(iter(by_household[mixed] & mine))
    _, body = ask(
        app_ro, token, "query($id: ID!) { customer(id: $id) { household { members { customerId } } } }", id=cid
    )
    assert {m["customerId"] for m in body["data"]["customer"]["household"]["members"]} <= mine


def test_pii_is_shown_to_roles_that_need_it_and_every_read_is_audited(app, make_token, loaded):
    engine, _ = loaded
    q = '{ customer(id: "C0000001") { idNumber phone } }'
    _, masked = ask(app, make_token("marketing_analyst"), q)
    assert "*" in masked["data"]["customer"]["idNumber"] and "****" in masked["data"]["customer"]["phone"]
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "pii.read")
            ).scalar_one()
            == 0
        )
    _, clear = ask(app, make_token("risk_officer"), q)
    with engine.connect() as conn:
        full = conn.execute(
            sa.select(Individual.id_number, Individual.phone).where(Individual.customer_id == "C0000001")
        ).one()
        audit = conn.execute(
            sa.select(AuditEntry.actor, AuditEntry.action, AuditEntry.entity_id, AuditEntry.details).where(
                AuditEntry.action == "pii.read"
            )
        ).all()
    assert clear["data"]["customer"] == {"idNumber": full.id_number, "phone": full.phone}
    assert sorted(a.details["field"] for a in audit) == ["id_number", "phone"]
    assert {(a.actor, a.action, a.entity_id) for a in audit} == {("test risk_officer", "pii.read", "C0000001")}
