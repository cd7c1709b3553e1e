"""A what-if draft with an alias bomb or an alias inside itself is refused at once as an
`InvalidStandard` with its line, and nothing is queued."""

import time

import sqlalchemy as sa

BOMB = "\n".join(
    [
        "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]",
        *(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 6)),
        "version: *l5",
    ]
)
WHATIF = """mutation($s: String!) { whatIf(standard: $s, sample: 3) { __typename
  ... on InvalidStandard { code message line } } }"""


def test_an_alias_bomb_in_a_draft_is_refused_at_once(app_ro, make_token_ro, loaded_ro, gql):
    engine, _ = loaded_ro
    analyst = make_token_ro("marketing_analyst")
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM whatifs")).scalar_one()
    for draft, says, line in [
        (BOMB, "its aliases expand to more than 100,000 nodes", None),
        ("version: &v [1, *v]\n", "an alias refers to the node that contains it", 1),
    ]:
        started = time.perf_counter()
        refused = gql(app_ro, analyst, WHATIF, s=draft)["data"]["whatIf"]
        assert time.perf_counter() - started < 2.0
        assert refused["__typename"] == "InvalidStandard" and refused["code"] == "INVALID_STANDARD"
        assert says in refused["message"] and (line is None or refused["line"] == line)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM whatifs")).scalar_one() == before
