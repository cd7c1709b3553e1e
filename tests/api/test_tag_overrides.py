from starlette.testclient import TestClient

from clientstrata.api.app import create_app
from clientstrata.jobs.governance.overrides import approve_override, propose_override


def test_api_tags_show_the_computed_and_the_overriding_value(loaded, make_token):
    engine, graph = loaded
    auth = {"Authorization": f"Bearer {make_token('marketing_analyst')}"}
    q = (
        '{ customer(id: "C0000001") { tier tags(dimension: "wealth_tier") { value computedValue overrideId '
        "overriddenBy overrideReason explanation } } }"
    )
    with TestClient(create_app(engine, graph)) as client:
        before = client.post("/graphql", json={"query": q}, headers=auth).json()["data"]["customer"]
        computed = before["tier"]
        target = "private_banking" if computed != "private_banking" else "mass"
        assert before["tags"][0]["computedValue"] == computed and before["tags"][0]["overrideId"] is None
        with engine.begin() as conn:
            ov = propose_override(conn, "mei", "C0000001", "wealth_tier", target, "family office mandate")
            approve_override(conn, "li", ov.override_id)
        after = client.post("/graphql", json={"query": q}, headers=auth).json()["data"]["customer"]
    tag = after["tags"][0]
    assert after["tier"] == tag["value"] == target and tag["computedValue"] == computed
    assert (tag["overrideId"], tag["overriddenBy"], tag["overrideReason"]) == (
        ov.override_id,
        "li",
        "family office mandate",
    )
    assert "manual override" in tag["explanation"]
