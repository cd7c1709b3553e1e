"""A front end's normalized cache gets true answers: Apollo Client's InMemoryCache (Node, against a
live server) asks two customers whose ecosystems share a node reached by different paths, and
then returns for each exactly what the server returned. Path-dependent fields live on the edge,
list items with a natural key carry it as `id`."""

from itertools import combinations
from pathlib import Path

import pytest
import sqlalchemy as sa

from clientstrata.api.app import create_app
from clientstrata.graph.record.models import HouseholdMember, Individual
from clientstrata.graph.views import ecosystem_view


def paths(engine, graph, ids) -> dict[str, dict[tuple[str, str], tuple]]:
    """Each customer's 3-hop ecosystem: (kind, id) → (hops, relations)."""
    with engine.connect() as conn:
        return {cid: {(r[0], r[1]): (r[3], r[4]) for r in ecosystem_view(conn, graph, cid, 3)} for cid in ids}


def two_customers_seeing_one_node_differently(engine, graph) -> tuple[str, str]:
    """Two household members (both have members and, most likely, holdings) whose ecosystems share a
    node that each reaches by another path: what a node-keyed cache would have mixed up."""
    with engine.connect() as conn:
        members = conn.execute(
            sa.select(HouseholdMember.customer_id)
            .join(Individual, Individual.customer_id == HouseholdMember.customer_id)
            .order_by(HouseholdMember.customer_id)
            .limit(40)
        ).scalars()
        eco = paths(engine, graph, list(members))
    for a, b in combinations(eco, 2):
        if any(eco[a][k] != eco[b][k] for k in eco[a].keys() & eco[b].keys()):
            return a, b
    pytest.fail("no two customers of the test bank reach a shared node differently")


@pytest.mark.slow
def test_apollo_cache_returns_what_the_server_returned_for_each_customer(loaded_ro, make_token_ro, serve, node_client):
    engine, graph = loaded_ro
    a, b = two_customers_seeing_one_node_differently(engine, graph)
    url = serve(create_app(engine, graph)) + "/graphql"
    apollo = Path(__file__).parents[1] / "clients" / "node_modules" / "@apollo"
    assert apollo.is_dir(), "run `make test-env` (npm ci in tests/clients)"
    got = node_client("cache.mjs", url, a, b, token=make_token_ro("marketing_analyst"))
    for cid in (a, b):
        assert got["server"][cid]["customer"]["ecosystem"], cid
        assert got["cached"][cid] == got["server"][cid], f"the cache's answer for {cid} is not the server's"
    shared = {e["node"]["id"] for e in got["server"][a]["customer"]["ecosystem"]} & {
        e["node"]["id"] for e in got["server"][b]["customer"]["ecosystem"]
    }
    assert shared
