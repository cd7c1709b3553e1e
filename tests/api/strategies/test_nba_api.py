"""Next-best actions over the API: on the customer, the RM's work list, recording outcomes with
typed errors, and the effect — each kept to the caller's book."""

import sqlalchemy as sa

NBA = """query($id: ID!) { customer(id: $id) { nextBestActions(first: 3) {
  rank action actionKey product productRisk channel priority reasons { en zh } } } }"""
WORK = """query($rm: String) { worklist(rmId: $rm, first: 1000) { kind itemId customerId why dueOn lastOutcome } }"""
RECORD = """mutation($input: RecordActionOutcomeInput!) { recordActionOutcome(input: $input) {
  __typename ... on ActionOutcome { id actionId outcome amount recordedBy } ... on Error { code message } } }"""
EFFECT = "{ strategyEffect { actionKey segment offered contacted control uplift } }"


def test_actions_work_lists_outcomes_and_effect_keep_to_the_book(app, loaded, make_token, gql, rm_book):
    engine, _ = loaded
    rm, mine, others = rm_book
    rm_token, analyst, agent = (
        make_token("relationship_manager", rm),
        make_token("marketing_analyst"),
        make_token("service_agent"),
    )
    with engine.connect() as conn:
        run = conn.execute(sa.text("SELECT max(run_id) FROM next_best_actions")).scalar()
        risk = dict(
            conn.execute(
                sa.text("SELECT customer_id, value FROM tags WHERE run_id = :r AND dimension = 'suitability'"),
                {"r": run},
            ).all()
        )
    work = gql(app, rm_token, WORK)["data"]["worklist"]
    assert work and {w["customerId"] for w in work} <= set(mine)
    assert gql(app, rm_token, WORK, rm="RM-someone-else")["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"
    everyone = gql(app, analyst, WORK)["data"]["worklist"]
    assert {w["customerId"] for w in everyone} - set(mine)  # other roles see across books

    action = next(w for w in work if w["kind"] == "action")
    acts = gql(app, rm_token, NBA, id=action["customerId"])["data"]["customer"]["nextBestActions"]
    for a in acts:
        ceiling = risk[action["customerId"]]
        assert a["productRisk"] is None or (ceiling != "none" and a["productRisk"] <= ceiling)
        assert a["reasons"]["en"] and a["reasons"]["zh"]
    assert [a["rank"] for a in acts] == list(range(1, len(acts) + 1))

    ok = gql(app, rm_token, RECORD, input={"actionId": action["itemId"], "outcome": "contacted"})
    assert ok["data"]["recordActionOutcome"]["__typename"] == "ActionOutcome"
    assert ok["data"]["recordActionOutcome"]["recordedBy"]
    bad = gql(app, rm_token, RECORD, input={"actionId": action["itemId"], "outcome": "converted"})
    assert bad["data"]["recordActionOutcome"] == {
        "__typename": "InvalidInput",
        "code": "INVALID_INPUT",
        "message": "a conversion needs the `amount` converted, a positive number of CNY",
    }
    foreign = next(w for w in everyone if w["kind"] == "action" and w["customerId"] not in set(mine))
    refused = gql(app, rm_token, RECORD, input={"actionId": foreign["itemId"], "outcome": "contacted"})
    assert refused["data"]["recordActionOutcome"]["__typename"] == "NotFound"  # reads as no such action
    by_agent = gql(app, agent, RECORD, input={"actionId": foreign["itemId"], "outcome": "declined"})
    assert by_agent["data"]["recordActionOutcome"]["__typename"] == "ActionOutcome"
    gone = {w["itemId"] for w in gql(app, analyst, WORK)["data"]["worklist"] if w["kind"] == "action"}
    assert foreign["itemId"] not in gone  # declined: off the list
    still = next(w for w in gql(app, rm_token, WORK)["data"]["worklist"] if w["itemId"] == action["itemId"])
    assert still["lastOutcome"] == "contacted"

    whole = gql(app, analyst, EFFECT)["data"]["strategyEffect"]
    own = gql(app, rm_token, EFFECT)["data"]["strategyEffect"]
    total = sum(e["offered"] + e["control"] for e in whole if e["segment"] == "all")
    part = sum(e["offered"] + e["control"] for e in own if e["segment"] == "all")
    assert 0 < part < total
    assert sum(e["contacted"] for e in whole if e["segment"] == "all") == 2
