"""Governance over the API: overrides (maker–checker, RM book, typed refusals, read within the
book) and the audit log for admins only."""

import dataclasses

from strawberry.types.base import StrawberryOptional

from clientstrata.api.governance.types import Override
from clientstrata.graph.record.models import Override as OverrideRow
from clientstrata.jobs.governance.overrides import OverrideRecord


def test_overrides_maker_checker_book_and_typed_refusals(
    app, make_token, gql, rm_book, propose_override, approve_override
):
    rm, mine, others = rm_book
    analyst, risk, admin = make_token("marketing_analyst"), make_token("risk_officer"), make_token("admin")
    rm_token = make_token("relationship_manager", rm)

    def propose(token, customer, value="private_banking", reason="family office mandate"):
        return propose_override(app, token, customerId=customer, dimension="wealth_tier", value=value, reason=reason)

    made = propose(analyst, mine[0])
    assert made["__typename"] == "Override" and made["status"] == "proposed"
    assert made["proposedBy"] == "test marketing_analyst"
    nf = propose(analyst, "C9999999")
    assert nf == {
        "__typename": "NotFound",
        "code": "NOT_FOUND",
        "message": "no customer with id 'C9999999'",
        "kind": "customer",
        "key": "C9999999",
    }
    bad = propose(analyst, mine[0], value="platinum")
    assert bad["__typename"] == "InvalidInput" and bad["code"] == "INVALID_VALUE" and "platinum" in bad["message"]
    assert propose(analyst, mine[0], reason=" ")["code"] == "REASON_REQUIRED"
    assert propose(admin, mine[0])["__typename"] == "NotAllowed"  # admins decide, they do not propose
    # a relationship manager proposes for their own book only — the domain refuses, whatever the resolver does
    assert propose(rm_token, mine[1])["__typename"] == "Override"
    outside = propose(rm_token, others[0])  # another book's customer reads as no such customer
    assert outside == propose(rm_token, "C9999999") | {
        "message": f"no customer with id {others[0]!r}",
        "key": others[0],
    }

    def approve(token, oid):
        return approve_override(app, token, oid)

    own = propose(risk, mine[2])
    assert approve(risk, own["id"])["__typename"] == "MakerIsChecker"
    assert approve(analyst, made["id"])["__typename"] == "NotAllowed"
    assert approve(risk, 99999) | {"message": None} == {"__typename": "NotFound", "code": "NOT_FOUND", "message": None}
    done = approve(risk, made["id"])
    assert done == {"__typename": "Override", "id": made["id"], "status": "approved", "decidedBy": "test risk_officer"}
    assert approve(admin, made["id"])["__typename"] == "InvalidState"
    tier = gql(app, analyst, "query($id: ID!) { customer(id: $id) { tier } }", id=mine[0])
    assert tier["data"]["customer"]["tier"] == "private_banking"

    reject = (
        "mutation($id: Int!, $note: String!) { rejectOverride(id: $id, note: $note) { __typename "
        "... on Override { status decisionNote } ... on Error { code } } }"
    )
    assert gql(app, admin, reject, id=own["id"], note=" ")["data"]["rejectOverride"]["code"] == "REASON_REQUIRED"
    assert gql(app, admin, reject, id=own["id"], note="no evidence")["data"]["rejectOverride"] == {
        "__typename": "Override",
        "status": "rejected",
        "decisionNote": "no evidence",
    }
    revoke = (
        'mutation($id: Int!) { revokeOverride(id: $id, reason: "mandate ended") { __typename '
        "... on Override { status revokedBy } ... on Error { code } } }"
    )
    assert gql(app, admin, revoke, id=made["id"])["data"]["revokeOverride"] == {
        "__typename": "Override",
        "status": "revoked",
        "revokedBy": "test admin",
    }
    assert gql(app, admin, revoke, id=made["id"])["data"]["revokeOverride"]["__typename"] == "InvalidState"

    # every step is in the audit log, with who and why; only an admin reads it
    q = """query($f: AuditFilter, $after: String) { auditLog(filter: $f, first: 2, after: $after) {
      edges { node { actor action entityType entityId details } } pageInfo { hasNextPage endCursor } } }"""
    steps, after = [], None
    while True:
        page = gql(app, admin, q, f={"action": "override.", "entityId": str(made["id"])}, after=after)
        page = page["data"]["auditLog"]
        steps += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [(s["action"], s["actor"]) for s in steps] == [
        ("override.proposed", "test marketing_analyst"),
        ("override.approved", "test risk_officer"),
        ("override.revoked", "test admin"),
    ]
    assert steps[0]["details"]["reason"] == "family office mandate" and steps[2]["details"]["reason"] == "mandate ended"
    for role in ("marketing_analyst", "risk_officer"):
        refused = gql(app, make_token(role), "{ auditLog { edges { node { action } } } }")
        assert refused["data"] is None
        [error] = refused["errors"]
        assert "`read_audit` permission" in error["message"] and error["extensions"]["code"] == "NOT_ALLOWED"


OVERRIDE_FIELDS = (
    "id customerId dimension value labelZh labelEn reason status proposedBy proposedAt decidedBy "
    "decidedAt decisionNote expiresOn revokedBy revokedAt"
)
OVERRIDES = """query($f: OverrideFilter, $first: Int!, $after: String) { overrides(filter: $f, first: $first,
  after: $after) { edges { cursor node { id customerId dimension value status proposedBy decidedBy } }
  pageInfo { hasNextPage endCursor } } }"""


def _all_overrides(gql, app, token, first=100, **flt):
    seen, after = [], None
    while True:
        page = gql(app, token, OVERRIDES, f=flt or None, first=first, after=after)["data"]["overrides"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


def test_overrides_are_read_as_such_within_the_book(app, make_token, gql, rm_book, propose_override, approve_override):
    rm, mine, others = rm_book
    analyst, risk, agent = make_token("marketing_analyst"), make_token("risk_officer"), make_token("service_agent")
    rm_token = make_token("relationship_manager", rm)

    def propose(token, customer, dimension="wealth_tier", value="private_banking"):
        return propose_override(app, token, customerId=customer, dimension=dimension, value=value, reason="mandate")[
            "id"
        ]

    a = propose(analyst, mine[0])
    b = propose(rm_token, mine[1], "cooperation_depth", "ecosystem_synergy")
    c = propose(analyst, others[0])
    approve_override(app, risk, a)
    ids = [a, b, c]

    # everyone reads them, in every state; a relationship manager only their book's
    for token in (analyst, risk, agent, make_token("admin")):
        assert [o["id"] for o in _all_overrides(gql, app, token)] == ids
    own = _all_overrides(gql, app, rm_token)
    assert [o["id"] for o in own] == [a, b] and {o["customerId"] for o in own} <= set(mine)
    one = "query($id: Int!) { override(id: $id) { %s } }" % OVERRIDE_FIELDS
    assert gql(app, rm_token, one, id=c)["data"]["override"] is None  # outside the book: as if it did not exist
    assert gql(app, analyst, one, id=c)["data"]["override"]["customerId"] == others[0]
    assert gql(app, analyst, one, id=10**6)["data"]["override"] is None
    full = gql(app, rm_token, one, id=a)["data"]["override"]
    assert (full["status"], full["value"], full["proposedBy"], full["decidedBy"], full["labelEn"]) == (
        "approved",
        "private_banking",
        "test marketing_analyst",
        "test risk_officer",
        "Private banking",
    )

    # filters, each alone and together, and pages that neither skip nor repeat
    assert [o["id"] for o in _all_overrides(gql, app, analyst, status="proposed")] == [b, c]
    assert [o["id"] for o in _all_overrides(gql, app, analyst, status="approved", customerId=mine[0])] == [a]
    assert [o["id"] for o in _all_overrides(gql, app, analyst, dimension="cooperation_depth")] == [b]
    assert [o["id"] for o in _all_overrides(gql, app, analyst, proposedBy="test relationship_manager")] == [b]
    assert [o["id"] for o in _all_overrides(gql, app, rm_token, customerId=others[0])] == []
    assert [o["id"] for o in _all_overrides(gql, app, analyst, first=1)] == ids
    bad = gql(app, analyst, OVERRIDES, f={"status": "pending"}, first=10)
    assert bad["data"] is None and bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "proposed, approved, rejected, revoked, expired" in bad["errors"][0]["message"]

    # the tag an approved override changed names it; `override(id)` reads the same override
    tag = next(
        t
        for t in gql(
            app,
            rm_token,
            "query($id: ID!) { customer(id: $id) { tags { dimension value "
            "computedValue overrideId overriddenBy overrideReason } } }",
            id=mine[0],
        )["data"]["customer"]["tags"]
        if t["dimension"] == "wealth_tier"
    )
    assert tag["overrideId"] == a and tag["value"] == full["value"]
    assert (tag["overriddenBy"], tag["overrideReason"]) == (full["decidedBy"], full["reason"])


def test_the_override_type_and_the_domain_record_have_the_same_fields():
    """`Override` (GraphQL) is built from `OverrideRecord` field for field, and the record from the
    table's row: a column added to one and not the others fails here, not in a client."""
    record = {f.name: "None" in str(f.type) for f in dataclasses.fields(OverrideRecord)}  # "str | None"
    gql_type = {
        ("override_id" if f.python_name == "id" else f.python_name): isinstance(f.type, StrawberryOptional)
        for f in Override.__strawberry_definition__.fields
        if f.base_resolver is None  # `label` is derived from `labelEn` (api/labels.py)
    }
    table = {c.name: c.nullable for c in OverrideRow.__table__.columns}
    table["override_id"] = False  # the primary key
    assert set(record) == set(gql_type) == set(table)
    assert record == table, "nullability differs between the record and the table"
    assert gql_type == record, "nullability differs between the GraphQL type and the record"
