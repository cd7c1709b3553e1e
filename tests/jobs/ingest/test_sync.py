"""A re-sync sends only what changed, on every graph store: nothing for an unchanged record, the
changed rows (visible in the graph's reads), and deletes for rows the record no longer has."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from clientstrata.graph.stores.base import DIGEST, LABELS
from clientstrata.graph.stores.networkx_store import NetworkxGraph
from clientstrata.jobs.ingest.load import ingest
from clientstrata.jobs.ingest.sync import _PLAN, sync, sync_graph


@pytest.fixture(params=["networkx", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def target(request, tmp_path):
    """The embedded graph and the Neo4j test server (skipped without one), each empty."""
    if request.param == "neo4j":
        return request.getfixturevalue("neo4j_server")
    return NetworkxGraph(tmp_path / "graph.pkl")


@pytest.fixture
def ingested(engine, bundle_dir):
    ingest(bundle_dir, engine=engine, progress=False)
    return engine


def test_a_first_sync_creates_everything_and_an_unchanged_resync_sends_nothing(ingested, target):
    first = sync(ingested, target, progress=False)
    assert first.counts["Individual"] == 300 and first.counts["MEMBER_OF"] > 0
    # every target was empty: each was created, and everything the graph holds was written once
    assert len(first.first_load) == len(_PLAN) and first.deleted == {}
    assert first.sent == sum(first.counts.values())
    again = sync(ingested, target, progress=False)
    assert (again.sent, again.written, again.deleted, again.first_load) == (0, {}, {}, [])
    assert again.counts == first.counts


def test_a_changed_row_is_sent_and_visible_and_a_gone_row_is_deleted(ingested, target):
    sync(ingested, target, progress=False)
    household = target.household("H0000001")
    member = household.members["customer_id"].iloc[0]
    with ingested.connect() as conn:
        employed = conn.execute(sa.text("SELECT customer_id, enterprise_id FROM employment LIMIT 1")).one()
    with ingested.begin() as conn:
        conn.execute(sa.text("UPDATE individuals SET name = 'Renamed' WHERE customer_id = :c"), {"c": member})
        conn.execute(sa.text("UPDATE households SET name = NULL WHERE household_id = 'H0000001'"))
        conn.execute(
            sa.text("DELETE FROM employment WHERE customer_id = :c AND enterprise_id = :e"),
            {"c": employed[0], "e": employed[1]},
        )
    report = sync(ingested, target, progress=False)
    assert report.written == {"Individual": 1, "Household": 1}
    assert report.deleted == {"EMPLOYED_BY (Individual)": 1}
    after = target.household("H0000001")
    assert after.name is None  # a property the record emptied is gone from the graph too
    assert after.members.set_index("customer_id").loc[member, "name"] == "Renamed"
    near = target.neighbours("Individual", [employed[0]])
    assert not ((near["rel"] == "EMPLOYED_BY") & (near["id"] == employed[1])).any()
    assert sync(ingested, target, progress=False).sent == 0


def test_a_graph_written_without_digests_is_brought_to_them_once(ingested, target):
    """A graph synced by an earlier version (MERGE, no digests): the first re-sync writes every
    item once, as those versions did, and the next sends nothing."""
    counts = sync_graph(ingested, target, progress=False)
    for label in LABELS:
        rows = [{"id": i, DIGEST: None} for i in target.node_digests(label)]
        target.write_nodes(label, rows)  # the properties are wiped: the re-sync must restore them
    target.flush()
    report = sync(ingested, target, progress=False)
    assert sum(report.written.values()) == sum(counts[label] for label in LABELS) and report.deleted == {}
    assert report.counts == counts and target.household("H0000001").members["name"].notna().all()
    assert sync(ingested, target, progress=False).sent == 0


def test_a_target_the_record_emptied_is_deleted_then_left_alone(ingested, target):
    supplies = sync(ingested, target, progress=False).counts["SUPPLIES"]
    with ingested.begin() as conn:
        conn.execute(sa.text("DELETE FROM supply_chain"))
    emptied = sync(ingested, target, progress=False)
    assert (emptied.written, emptied.deleted) == ({}, {"SUPPLIES (Enterprise)": supplies}) and supplies > 0
    assert "SUPPLIES" not in emptied.counts
    # empty in the record and in the graph: not a first load, and nothing sent
    again = sync(ingested, target, progress=False)
    assert (again.sent, again.written, again.first_load) == (0, {}, [])
