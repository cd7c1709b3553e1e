"""Dataloaders keep the number of SQL statements per request flat as the page grows."""
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from clientstrata.api.app import create_app

PAGE = """query($first: Int!) { customers(first: $first) { edges { node { id tier cooperationDepth
  tags { dimension value } holdings { family balance } relationshipManager { name }
  household { id members { role customer { id tier } } } } } } }"""


def statements(engine, client, token, first: int) -> int:
    count = 0

    def counter(*_):
        nonlocal count
        count += 1
    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        r = client.post("/graphql", json={"query": PAGE, "variables": {"first": first}},
                        headers={"Authorization": f"Bearer {token}"})
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    assert len(r.json()["data"]["customers"]["edges"]) == first
    return count


@pytest.mark.parametrize("role", ["marketing_analyst", "relationship_manager"])
def test_statements_per_request_do_not_grow_with_the_page(loaded, make_token, role):
    engine, graph = loaded
    with engine.connect() as conn:  # the RM with the largest book, so a page of 200 is full
        rm = conn.execute(sa.text("SELECT rm_id FROM individuals WHERE rm_id IS NOT NULL GROUP BY rm_id "
                                  "ORDER BY count(*) DESC")).scalar()
    token = make_token(role, rm if role == "relationship_manager" else None)
    with TestClient(create_app(engine, graph)) as client:
        sizes = (10, 50, 200) if role != "relationship_manager" else (2, 5, 10)
        counts = {n: statements(engine, client, token, n) for n in sizes}
    # one batch per loader and level whatever the page size (how the event loop groups the
    # batches moves the count by a few); per-customer queries would add hundreds
    assert max(counts.values()) <= 30 and counts[sizes[-1]] <= counts[sizes[0]] + 6, counts
