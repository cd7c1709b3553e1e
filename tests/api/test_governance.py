"""Governance over the API: overrides (maker–checker, RM book, typed refusals), the audit log for
admins only, what-if drafts, runs started on demand in the background, migration, segments and
the change feed polled across runs and an approved override without a gap or a repeat."""

import dataclasses
import datetime as dt
import re
import threading
import time
from importlib import resources

import sqlalchemy as sa
from starlette.testclient import TestClient
from strawberry.types.base import StrawberryOptional

from clientstrata.api.app import create_app
from clientstrata.api.governance.types import Override
from clientstrata.graph.record.models import AuditEntry, ClassificationChange, Enterprise, Individual
from clientstrata.graph.record.models import Override as OverrideRow
from clientstrata.graph.stores.networkx_store import NetworkxGraph
from clientstrata.jobs.governance.overrides import OverrideRecord
from clientstrata.jobs.runs.pipeline import classify

# case matters: SQL keywords in capitals, driver and exception names as they print
LEAKS = re.compile(
    r"Traceback|File \"|\bSELECT\b|\bFROM\b|\bWHERE\b|sqlite3|psycopg|OperationalError|"
    r"ProgrammingError|IntegrityError|Exception\b"
)


def gql(app, token, query, **variables):
    r = app.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200, r.text
    assert not LEAKS.search(r.text), r.text
    return r.json()


PROPOSE = """mutation($input: ProposeOverrideInput!) { proposeOverride(input: $input) {
  __typename ... on Override { id status value proposedBy customerId }
  ... on Error { code message } ... on NotFound { kind key } } }"""
DECIDE = """mutation($id: Int!) { approveOverride(id: $id, note: "checked the mandate") {
  __typename ... on Override { id status decidedBy } ... on Error { code message } } }"""


def _rm_and_customers(engine):
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Individual.customer_id, Individual.rm_id)).all()
    rms = [r.rm_id for r in rows if r.rm_id]
    rm = max(set(rms), key=rms.count)
    return (
        rm,
        sorted(r.customer_id for r in rows if r.rm_id == rm),
        sorted(r.customer_id for r in rows if r.rm_id != rm),
    )


def test_overrides_maker_checker_book_and_typed_refusals(app, loaded, make_token):
    engine, _ = loaded
    rm, mine, others = _rm_and_customers(engine)
    analyst, risk, admin = make_token("marketing_analyst"), make_token("risk_officer"), make_token("admin")
    rm_token = make_token("relationship_manager", rm)

    def propose(token, customer, value="private_banking", reason="family office mandate"):
        return gql(
            app,
            token,
            PROPOSE,
            input={"customerId": customer, "dimension": "wealth_tier", "value": value, "reason": reason},
        )["data"]["proposeOverride"]

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
    outside = propose(rm_token, others[0])
    assert outside["__typename"] == "NotAllowed" and "not in your book" in outside["message"]

    def approve(token, oid):
        return gql(app, token, DECIDE, id=oid)["data"]["approveOverride"]

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


ALERTS = """query($f: AlertFilter, $after: String) { alerts(filter: $f, first: 40, after: $after) {
  edges { node { id customerId status type } } pageInfo { hasNextPage endCursor } } }"""
ACK = """mutation($id: Int!) { acknowledgeAlert(id: $id, note: "called the client") {
  __typename ... on Alert { id status acknowledgedBy } ... on Error { code message } } }"""
FEEDBACK = """mutation($input: RecordFeedbackInput!) { recordFeedback(input: $input) {
  __typename ... on Feedback { id kind score recordedBy } ... on Error { code message } } }"""


def _all_alerts(app, token, **flt):
    seen, after = [], None
    while True:
        page = gql(app, token, ALERTS, f=flt or None, after=after)["data"]["alerts"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


def test_alerts_and_feedback_keep_to_the_book_and_are_audited(app, loaded, make_token):
    engine, _ = loaded
    rm, mine, others = _rm_and_customers(engine)
    rm_token, risk, agent = (
        make_token("relationship_manager", rm),
        make_token("risk_officer"),
        make_token("service_agent"),
    )
    everything = _all_alerts(app, risk)
    with engine.connect() as conn:
        assert len(everything) == conn.execute(sa.text("SELECT count(*) FROM alerts")).scalar() > 0
    own = _all_alerts(app, rm_token)
    assert own and {a["customerId"] for a in own} <= set(mine)
    assert {a["id"] for a in own} == {a["id"] for a in everything if a["customerId"] in set(mine)}
    assert _all_alerts(app, rm_token, rmId="RM-someone-else") == []
    foreign = next(a for a in everything if a["customerId"] not in set(mine))
    typed = _all_alerts(app, risk, type=own[0]["type"], status="open")
    assert typed and {a["type"] for a in typed} == {own[0]["type"]}

    done = gql(app, rm_token, ACK, id=own[0]["id"])["data"]["acknowledgeAlert"]
    assert done == {
        "__typename": "Alert",
        "id": own[0]["id"],
        "status": "acknowledged",
        "acknowledgedBy": "test relationship_manager",
    }
    assert gql(app, rm_token, ACK, id=own[0]["id"])["data"]["acknowledgeAlert"]["code"] == "INVALID_STATE"
    assert gql(app, rm_token, ACK, id=foreign["id"])["data"]["acknowledgeAlert"]["__typename"] == "NotAllowed"
    assert gql(app, rm_token, ACK, id=10**6)["data"]["acknowledgeAlert"]["__typename"] == "NotFound"
    assert gql(app, agent, ACK, id=foreign["id"])["data"]["acknowledgeAlert"]["__typename"] == "NotAllowed"

    def record(token, **values):
        return gql(app, token, FEEDBACK, input=values)["data"]["recordFeedback"]

    survey = record(rm_token, customerId=mine[0], kind="survey", score=4)
    assert survey == {
        "__typename": "Feedback",
        "id": survey["id"],
        "kind": "survey",
        "score": 4,
        "recordedBy": "test relationship_manager",
    }
    assert record(rm_token, customerId=others[0], kind="compliment")["__typename"] == "NotAllowed"
    assert record(agent, customerId="C9999999", kind="compliment")["__typename"] == "NotFound"
    for bad in ({"kind": "survey"}, {"kind": "survey", "score": 9}, {"kind": "complaint"}, {"kind": "rant"}):
        refused = record(agent, customerId=mine[0], **bad)
        assert refused["__typename"] == "InvalidInput" and refused["code"] == "INVALID_INPUT", bad
    record(agent, customerId=mine[0], kind="complaint", text="waited 40 minutes at the branch")
    assert record(make_token("marketing_analyst"), customerId=mine[0], kind="compliment")["__typename"] == "NotAllowed"

    # the customer view (360) carries both
    view = gql(
        app,
        rm_token,
        'query($id: ID!) { customer(id: $id) { alerts(status: "acknowledged") { id } '
        "feedback { kind score text recordedBy } } }",
        id=mine[0] if own[0]["customerId"] == mine[0] else own[0]["customerId"],
    )["data"]["customer"]
    assert {a["id"] for a in view["alerts"]} >= ({own[0]["id"]} if own[0]["customerId"] == mine[0] else set())
    fb = gql(
        app, rm_token, "query($id: ID!) { customer(id: $id) { feedback { kind score text recordedBy } } }", id=mine[0]
    )["data"]["customer"]["feedback"]
    assert fb == [
        {
            "kind": "complaint",
            "score": None,
            "text": "waited 40 minutes at the branch",
            "recordedBy": "test service_agent",
        },
        {"kind": "survey", "score": 4, "text": None, "recordedBy": "test relationship_manager"},
    ]
    with engine.connect() as conn:
        audit = conn.execute(
            sa.select(AuditEntry.actor, AuditEntry.action, AuditEntry.details).where(
                AuditEntry.action.in_(("alert.acknowledged", "feedback.recorded"))
            )
        ).all()
    assert sorted((a.action, a.actor) for a in audit) == [
        ("alert.acknowledged", "test relationship_manager"),
        ("feedback.recorded", "test relationship_manager"),
        ("feedback.recorded", "test service_agent"),
    ]
    assert next(a for a in audit if a.action == "alert.acknowledged").details["note"] == "called the client"


def _default_text():
    return resources.files("clientstrata.jobs.classification").joinpath("standards", "default.yaml").read_text("utf-8")


WHATIF = """mutation($s: String!) { whatIf(standard: $s, sample: 3) { __typename
  ... on WhatIf { id status requestedBy report { published } }
  ... on InvalidStandard { code message line key } ... on Error { code } } }"""
WHATIF_BY_ID = """query($id: Int!) { whatIf(id: $id) { id status requestedBy requestedAt startedAt finishedAt
  standardVersion sample error report { published baseRunId moved dimensions { dimension customers moved
      fromTo { fromValue toValue customers } sample { customerId fromValue toValue } } } } }"""


def _at(text):
    return dt.datetime.fromisoformat(text)


def _finished_whatif(app, token, whatif_id, limit=300):
    deadline = time.time() + limit
    while True:
        w = gql(app, token, WHATIF_BY_ID, id=whatif_id)["data"]["whatIf"]
        if w["status"] in ("done", "failed") or time.time() > deadline:
            return w
        time.sleep(0.3)


CHANGES = """query($after: String) { classificationChanges(after: $after, first: 700) {
  edges { cursor node { seq source customerId dimension oldValue newValue } } pageInfo { hasNextPage endCursor } } }"""


def test_whatif_runs_migration_segments_and_the_change_feed(app, loaded, make_token, tmp_path):
    engine, graph = loaded
    rm, mine, _ = _rm_and_customers(engine)
    analyst, admin, risk = make_token("marketing_analyst"), make_token("admin"), make_token("risk_officer")
    rm_token = make_token("relationship_manager", rm)
    text = _default_text()

    # what-if: typed refusals with the line, at once; a valid draft is queued, done in the
    # background, and its report (movers) kept; nothing is published
    overlap = text.replace("label_en: Wealth, min: 500000,", "label_en: Wealth, min: 40000,")
    bad = gql(app, analyst, WHATIF, s=overlap)["data"]["whatIf"]
    line = next(i for i, t in enumerate(overlap.splitlines(), 1) if "min: 40000" in t)
    assert bad["__typename"] == "InvalidStandard" and bad["code"] == "INVALID_STANDARD"
    assert bad["line"] == line and bad["key"] == "dimensions.wealth_tier.bands[2]" and f"line {line}" in bad["message"]
    broken = gql(app, analyst, WHATIF, s="version: 1\ndimensions: [a\n")["data"]["whatIf"]
    assert broken["__typename"] == "InvalidStandard" and broken["line"] == 3 and "not valid YAML" in broken["message"]
    assert gql(app, rm_token, WHATIF, s=text)["data"]["whatIf"]["__typename"] == "NotAllowed"
    too_many = gql(
        app,
        analyst,
        "mutation($s: String!) { whatIf(standard: $s, sample: 500) { __typename ... on Error { code message } } }",
        s=text,
    )["data"]["whatIf"]
    assert too_many == {
        "__typename": "InvalidInput",
        "code": "INVALID_INPUT",
        "message": "`sample` must be between 0 and 200",
    }
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM whatifs")).scalar() == 0  # refusals queue nothing
    draft = text.replace("label_en: Affluent, min: 50000,", "label_en: Affluent, min: 60000,")
    queued = gql(app, analyst, WHATIF, s=draft)["data"]["whatIf"]
    assert queued["__typename"] == "WhatIf" and queued["requestedBy"] == "test marketing_analyst"
    assert queued["status"] in ("queued", "running", "done")
    assert (queued["status"] == "done") == (queued["report"] is not None)
    w = _finished_whatif(app, analyst, queued["id"])
    assert w["status"] == "done" and w["error"] is None and w["sample"] == 3
    assert _at(w["requestedAt"]) <= _at(w["startedAt"]) <= _at(w["finishedAt"])
    report = w["report"]
    tiers = next(d for d in report["dimensions"] if d["dimension"] == "wealth_tier")
    assert report["published"] is False and report["baseRunId"] == 1 and tiers["customers"] == 300
    assert tiers["moved"] == sum(c["customers"] for c in tiers["fromTo"]) > 0
    assert len(tiers["sample"]) == min(3, tiers["moved"]) and {m["toValue"] for m in tiers["sample"]} == {"mass"}
    assert report["moved"] == sum(d["moved"] for d in report["dimensions"])
    assert gql(app, risk, WHATIF_BY_ID, id=queued["id"])["data"]["whatIf"] == w  # any role with `whatif` reads it
    refused = gql(app, rm_token, WHATIF_BY_ID, id=queued["id"])
    assert refused["data"] == {"whatIf": None} and refused["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"
    assert gql(app, analyst, WHATIF_BY_ID, id=queued["id"] + 1)["data"]["whatIf"] is None
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM classification_runs")).scalar() == 1
        asked = conn.execute(
            sa.select(AuditEntry.actor, AuditEntry.action)
            .where(AuditEntry.entity_type == "whatif")
            .order_by(AuditEntry.audit_id)
        ).all()
    assert [tuple(a) for a in asked] == [
        ("test marketing_analyst", "whatif.queued"),
        ("test marketing_analyst", "whatif.done"),
    ]

    # the feed from the start, polled in small pages while a second run publishes concurrently
    seen: list[int] = []
    cursor = None

    def poll(token=analyst, after=None, sink=None):
        while True:
            page = gql(app, token, CHANGES, after=after)["data"]["classificationChanges"]
            (sink if sink is not None else seen).extend(e["node"]["seq"] for e in page["edges"])
            after = page["pageInfo"]["endCursor"] or after
            if not page["pageInfo"]["hasNextPage"]:
                return after

    draft_file = tmp_path / "draft.yaml"
    draft_file.write_text(draft, encoding="utf-8")
    publisher = threading.Thread(target=classify, args=(engine, graph, draft_file), kwargs={"progress": False})
    publisher.start()
    while publisher.is_alive():
        cursor = poll(after=cursor)
        time.sleep(0.2)
    publisher.join()
    cursor = poll(after=cursor)

    # a run started over the API: queued at once, done in the background with the live standard
    assert gql(app, analyst, "mutation { startRun { __typename } }")["data"]["startRun"]["__typename"] == "NotAllowed"
    started = gql(
        app,
        admin,
        "mutation { startRun { __typename ... on ClassificationRun { id status kind requestedBy standardVersion } } }",
    )["data"]["startRun"]
    assert started["__typename"] == "ClassificationRun" and started["status"] in ("queued", "running", "published")
    assert (started["kind"], started["requestedBy"]) == ("on_demand", "test admin")
    deadline = time.time() + 300
    while True:
        run = gql(app, analyst, "query($id: Int!) { run(id: $id) { status error } }", id=started["id"])["data"]["run"]
        if run["status"] in ("published", "failed") or time.time() > deadline:
            break
        time.sleep(0.5)
    assert run == {"status": "published", "error": None}
    assert gql(app, analyst, "{ run(id: 999) { id } }")["data"]["run"] is None

    # an approved override is a change too
    oid = gql(
        app,
        analyst,
        PROPOSE,
        input={
            "customerId": mine[0],
            "dimension": "cooperation_depth",
            "value": "ecosystem_synergy",
            "reason": "group payroll",
        },
    )["data"]["proposeOverride"]["id"]
    gql(app, risk, DECIDE, id=oid)
    cursor = poll(after=cursor)
    assert poll(after=cursor) == cursor  # nothing new: the cursor stays, nothing repeats
    with engine.connect() as conn:
        feed = conn.execute(
            sa.select(
                ClassificationChange.seq,
                ClassificationChange.source,
                ClassificationChange.run_id,
                ClassificationChange.customer_id,
            ).order_by(ClassificationChange.seq)
        ).all()
        managed = set(conn.execute(sa.select(Enterprise.enterprise_id).where(Enterprise.rm_id == rm)).scalars())
    assert seen == [f.seq for f in feed]  # every change, once, in order
    assert {f.source for f in feed} == {"run", "override"} and {1, 2} <= {f.run_id for f in feed}
    book: list[int] = []
    poll(token=rm_token, sink=book)
    assert book == [f.seq for f in feed if f.customer_id in set(mine) | managed]  # their people and enterprises

    # run history, newest first, in pages
    runs = gql(app, analyst, "{ runs(first: 2) { edges { node { id status } } pageInfo { hasNextPage endCursor } } }")
    page = runs["data"]["runs"]
    assert [e["node"]["id"] for e in page["edges"]] == [started["id"], started["id"] - 1] and page["pageInfo"][
        "hasNextPage"
    ]
    rest = gql(
        app,
        analyst,
        "query($a: String) { runs(first: 5, after: $a) { edges { node { id } } } }",
        a=page["pageInfo"]["endCursor"],
    )["data"]["runs"]["edges"]
    assert [e["node"]["id"] for e in rest] == list(range(started["id"] - 2, 0, -1))

    # migration between the first and the draft's run: the band moved affluent customers to mass
    mig = gql(
        app,
        analyst,
        '{ migration(fromRun: 1, toRun: 2, dimension: "wealth_tier") { customers moved '
        "cells { fromValue toValue customers } } }",
    )["data"]["migration"]
    assert mig["customers"] == 300 == sum(c["customers"] for c in mig["cells"])
    assert mig["moved"] == tiers["moved"] == sum(c["customers"] for c in mig["cells"] if c["fromValue"] != c["toValue"])
    mine_only = gql(app, rm_token, '{ migration(fromRun: 1, toRun: 2, dimension: "wealth_tier") { customers } }')
    assert mine_only["data"]["migration"]["customers"] == len(mine)
    unknown = gql(app, analyst, '{ migration(fromRun: 1, toRun: 2, dimension: "zodiac") { customers } }')
    assert "zodiac" in unknown["errors"][0]["message"]

    # segments: counts and AUM per value; clusters described
    q = "query($d: String!) { segments(dimension: $d) { value customers share aumTotal aumAvg description } }"
    tiers_now = gql(app, analyst, q, d="wealth_tier")["data"]["segments"]
    assert sum(s["customers"] for s in tiers_now) == 300 and abs(sum(s["share"] for s in tiers_now) - 1) < 0.01
    assert all(s["aumTotal"] >= 0 and s["description"] is None for s in tiers_now)
    assert sum(s["customers"] for s in gql(app, rm_token, q, d="wealth_tier")["data"]["segments"]) == len(mine)
    clusters = gql(app, analyst, q, d="behaviour_cluster")["data"]["segments"]
    assert clusters and all(s["description"] for s in clusters)


def test_a_failed_whatif_says_why_without_a_stack_trace(loaded, make_token, tmp_path):
    """A server whose graph was never synced: the draft is valid, so it is queued; doing it
    fails, and the what-if says what to do — no traceback, SQL or driver text (`gql` checks)."""
    engine, _ = loaded
    analyst = make_token("marketing_analyst")
    with TestClient(create_app(engine, NetworkxGraph(tmp_path / "never-synced.pkl"))) as app:
        queued = gql(app, analyst, WHATIF, s=_default_text())["data"]["whatIf"]
        assert queued["__typename"] == "WhatIf"
        w = _finished_whatif(app, analyst, queued["id"])
    assert (w["status"], w["report"]) == ("failed", None) and w["finishedAt"]
    assert w["error"] == "the customer graph is empty: run `clientstrata sync-graph` first"


OVERRIDE_FIELDS = (
    "id customerId dimension value labelZh labelEn reason status proposedBy proposedAt decidedBy "
    "decidedAt decisionNote expiresOn revokedBy revokedAt"
)
OVERRIDES = """query($f: OverrideFilter, $first: Int!, $after: String) { overrides(filter: $f, first: $first,
  after: $after) { edges { cursor node { id customerId dimension value status proposedBy decidedBy } }
  pageInfo { hasNextPage endCursor } } }"""


def _all_overrides(app, token, first=100, **flt):
    seen, after = [], None
    while True:
        page = gql(app, token, OVERRIDES, f=flt or None, first=first, after=after)["data"]["overrides"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


def test_overrides_are_read_as_such_within_the_book(app, loaded, make_token):
    engine, _ = loaded
    rm, mine, others = _rm_and_customers(engine)
    analyst, risk, agent = make_token("marketing_analyst"), make_token("risk_officer"), make_token("service_agent")
    rm_token = make_token("relationship_manager", rm)

    def propose(token, customer, dimension="wealth_tier", value="private_banking"):
        return gql(
            app,
            token,
            PROPOSE,
            input={"customerId": customer, "dimension": dimension, "value": value, "reason": "mandate"},
        )["data"]["proposeOverride"]["id"]

    a = propose(analyst, mine[0])
    b = propose(rm_token, mine[1], "cooperation_depth", "ecosystem_synergy")
    c = propose(analyst, others[0])
    gql(app, risk, DECIDE, id=a)
    ids = [a, b, c]

    # everyone reads them, in every state; a relationship manager only their book's
    for token in (analyst, risk, agent, make_token("admin")):
        assert [o["id"] for o in _all_overrides(app, token)] == ids
    own = _all_overrides(app, rm_token)
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
    assert [o["id"] for o in _all_overrides(app, analyst, status="proposed")] == [b, c]
    assert [o["id"] for o in _all_overrides(app, analyst, status="approved", customerId=mine[0])] == [a]
    assert [o["id"] for o in _all_overrides(app, analyst, dimension="cooperation_depth")] == [b]
    assert [o["id"] for o in _all_overrides(app, analyst, proposedBy="test relationship_manager")] == [b]
    assert [o["id"] for o in _all_overrides(app, rm_token, customerId=others[0])] == []
    assert [o["id"] for o in _all_overrides(app, analyst, first=1)] == ids
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
    }
    table = {c.name: c.nullable for c in OverrideRow.__table__.columns}
    table["override_id"] = False  # the primary key
    assert set(record) == set(gql_type) == set(table)
    assert record == table, "nullability differs between the record and the table"
    assert gql_type == record, "nullability differs between the GraphQL type and the record"
