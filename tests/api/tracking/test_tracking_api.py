"""Tracking over the API: alerts and feedback kept to the RM's book, and audited."""

import sqlalchemy as sa

from clientstrata.graph.record.models import AuditEntry

ALERTS = """query($f: AlertFilter, $after: String) { alerts(filter: $f, first: 40, after: $after) {
  edges { node { id customerId status type } } pageInfo { hasNextPage endCursor } } }"""
ACK = """mutation($id: Int!) { acknowledgeAlert(id: $id, note: "called the client") {
  __typename ... on Alert { id status acknowledgedBy } ... on Error { code message } } }"""
FEEDBACK = """mutation($input: RecordFeedbackInput!) { recordFeedback(input: $input) {
  __typename ... on Feedback { id kind score recordedBy } ... on Error { code message } } }"""


def _all_alerts(gql, app, token, **flt):
    seen, after = [], None
    while True:
        page = gql(app, token, ALERTS, f=flt or None, after=after)["data"]["alerts"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


def test_alerts_and_feedback_keep_to_the_book_and_are_audited(app, loaded, make_token, gql, rm_book):
    engine, _ = loaded
    rm, mine, others = rm_book
    rm_token, risk, agent = (
        make_token("relationship_manager", rm),
        make_token("risk_officer"),
        make_token("service_agent"),
    )
    everything = _all_alerts(gql, app, risk)
    with engine.connect() as conn:
        assert len(everything) == conn.execute(sa.text("SELECT count(*) FROM alerts")).scalar() > 0
    own = _all_alerts(gql, app, rm_token)
    assert own and {a["customerId"] for a in own} <= set(mine)
    assert {a["id"] for a in own} == {a["id"] for a in everything if a["customerId"] in set(mine)}
    assert _all_alerts(gql, app, rm_token, rmId="RM-someone-else") == []
    foreign = next(a for a in everything if a["customerId"] not in set(mine))
    typed = _all_alerts(gql, app, risk, type=own[0]["type"], status="open")
    assert typed and {a["type"] for a in typed} == {own[0]["type"]}

    done = gql(app, rm_token, ACK, id=own[0]["id"])["data"]["acknowledgeAlert"]
    assert done == {
        "__typename": "Alert",
        "id": own[0]["id"],
        "status": "acknowledged",
        "acknowledgedBy": "test relationship_manager",
    }
    assert gql(app, rm_token, ACK, id=own[0]["id"])["data"]["acknowledgeAlert"]["code"] == "INVALID_STATE"
    assert gql(app, rm_token, ACK, id=foreign["id"])["data"]["acknowledgeAlert"] == {
        "__typename": "NotFound",
        "code": "NOT_FOUND",
        "message": f"no alert with id '{foreign['id']}'",  # not whose, not which type
    }
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
    assert record(rm_token, customerId=others[0], kind="compliment")["__typename"] == "NotFound"  # as none
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
