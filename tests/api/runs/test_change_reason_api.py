"""`classificationChanges { explanation explanationZh }`: the feed's reasons over GraphQL, read for
the whole page at once and only when asked, inside the caller's book."""

from clientstrata.jobs.governance.overrides import approve_override, propose_override
from clientstrata.jobs.runs.change_reasons import change_reasons
from clientstrata.jobs.runs.changes import changes_after

PAGE = """query($after: String) { classificationChanges(after: $after, first: 2000) {
  edges { node { seq customerId %s } } pageInfo { hasNextPage endCursor } } }"""


def _all(gql, app, token, fields):
    out, after = [], None
    while True:
        page = gql(app, token, PAGE % fields, after=after)["data"]["classificationChanges"]
        out += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


def test_the_feed_explains_each_change_in_one_read_per_page(app, loaded, make_token, gql, rm_book, count_statements):
    engine, _ = loaded
    rm, mine, others = rm_book
    with engine.begin() as conn:
        ov = propose_override(conn, "mei", others[0], "wealth_tier", "private_banking", "family office mandate")
        approve_override(conn, "li", ov.override_id)
        rows = changes_after(conn, 0, 9999)
        expected = change_reasons(conn, rows)
    analyst = make_token("marketing_analyst")

    with count_statements(engine) as plain:
        bare = _all(gql, app, analyst, "")
    with count_statements(engine) as explained:
        nodes = _all(gql, app, analyst, "explanation explanationZh")
    assert [n["seq"] for n in nodes] == [n["seq"] for n in bare] == [r["seq"] for r in rows]
    assert {n["seq"]: (n["explanation"], n["explanationZh"]) for n in nodes} == expected
    assert nodes[-1]["explanation"].startswith(f"manual override #{ov.override_id} (proposed by mei, approved by li)")
    pages = -(-len(rows) // 2000)
    # the reasons of a page: a read of its run's tags and the standard, not one per change
    assert explained.n - plain.n <= 4 * pages, (explained.n, plain.n, pages)

    # a relationship manager: their book's changes, with reasons, and nothing of another book's
    own = _all(gql, app, make_token("relationship_manager", rm), "explanation")
    assert own and not {n["customerId"] for n in own} & set(others)  # (their book: people and enterprises)
    assert {n["customerId"] for n in own} & set(mine)
    assert all(n["explanation"] == expected[n["seq"]][0] for n in own)
    assert not any(f"#{ov.override_id}" in n["explanation"] for n in own)
