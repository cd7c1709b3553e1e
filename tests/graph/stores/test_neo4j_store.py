"""The Neo4j store's request-time reads: a customer's ecosystem is one statement, one round trip,
whatever its depth, and a degree nobody asked for is not counted in the database."""

import neo4j
import pytest

from clientstrata.graph.errors import NotFound
from clientstrata.jobs.ingest.sync import sync_graph


class _Counted:
    """The store's own driver, with every statement it is given written down (the server answers)."""

    def __init__(self, driver) -> None:
        self.driver, self.statements = driver, []

    def execute_query(self, query, *args, **kwargs):
        self.statements.append(query.text if isinstance(query, neo4j.Query) else query)
        return self.driver.execute_query(query, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.driver, name)


@pytest.fixture(scope="module")
def graph(loaded_ro, store):
    if store.__class__.__name__ != "Neo4jGraph":
        pytest.skip("the Neo4j store only")
    sync_graph(loaded_ro[0], store, progress=False)
    return store


def _widest(graph):
    return max((f"C{i:07d}" for i in range(1, 61)), key=lambda cid: len(graph.walk(cid, 3)))


def test_the_walk_is_one_statement_at_every_depth(graph):
    cid = _widest(graph)
    counted = _Counted(graph.driver)
    graph.driver = counted
    try:
        for hops in (1, 2, 3, 4):
            counted.statements.clear()
            rows = graph.walk(cid, hops, first=50)
            assert len(counted.statements) == 1, hops
            assert {r[3] for r in rows} == set(range(1, max(r[3] for r in rows) + 1))
        counted.statements.clear()
        with pytest.raises(NotFound):  # a customer that does not exist: the same one statement
            graph.walk("C-none", 2)
        assert len(counted.statements) == 1
    finally:
        graph.driver = counted.driver


def _db_hits(plan) -> int:
    return plan.get("dbHits", 0) + sum(_db_hits(child) for child in plan.get("children", ()))


def test_an_unasked_degree_is_not_counted_in_the_database(graph):
    """The same statement profiled: the last step's relationship counts are work the server does
    only when the degree is asked for."""
    from clientstrata.graph.stores.neo4j_store import _UNBOUNDED, _WALK

    cid = _widest(graph)
    hits = {}
    for degrees in (False, True):
        summary = graph.driver.execute_query(
            "PROFILE " + _WALK[("Individual", 2, degrees)],
            id=cid,
            first=_UNBOUNDED,
            hub=500,
            entities=["Individual", "Enterprise", "Household"],
            database_=graph.database,
        ).summary
        hits[degrees] = _db_hits(summary.profile)
    last = [r for r in graph.walk(cid, 2) if r[3] == 2]
    assert len(last) >= 5
    assert hits[False] + len(last) <= hits[True]
