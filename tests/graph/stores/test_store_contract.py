"""One contract for every graph store. Neo4j joins when CLIENTSTRATA_TEST_NEO4J_URI is set."""

import pandas as pd
import pytest

from clientstrata.graph.errors import NotFound
from clientstrata.graph.stores.networkx_store import NetworkxGraph
from clientstrata.jobs.ingest.load import ingest
from clientstrata.jobs.ingest.sync import sync_graph


@pytest.fixture(scope="module")
def synced(loaded_ro, store):
    """Each store synced once from the module's shared bank (an ingested record: the graph holds
    nothing the classification wrote)."""
    counts = sync_graph(loaded_ro[0], store, progress=False)
    return store, counts


def test_sync_is_idempotent(loaded_ro, synced):
    store, first = synced
    assert first["Individual"] == 300 and first["MEMBER_OF"] > 0 and first["EMPLOYED_BY"] > 0
    assert sync_graph(loaded_ro[0], store, progress=False) == first


def test_household_view(synced):
    store, _ = synced
    members = store.ecosystem_features()
    hid = "H0000001"
    view = store.household(hid)
    assert len(view.members) >= 2 and set(view.members["role"]) >= {"head"}
    assert view.aum == pytest.approx(view.members["aum"].sum())
    assert view.aum > 0 and len(members) > 0
    with pytest.raises(NotFound):
        store.household("H-none")


def test_ecosystem_within_hops(synced):
    store, _ = synced
    view = store.household("H0000001")
    head = view.members.loc[view.members["role"] == "head", "customer_id"].iloc[0]
    one = store.ecosystem(head, hops=1)
    two = store.ecosystem(head, hops=2)
    assert ("Household", "H0000001") in set(zip(one["label"], one["id"]))
    others = set(view.members["customer_id"]) - {head}
    assert others <= set(two.loc[two["hops"] == 2, "id"])
    assert (two["hops"] <= 2).all() and len(two) >= len(one)
    with pytest.raises(NotFound):
        store.ecosystem("C-none")


def test_bounded_walk_is_the_head_of_the_full_one(synced):
    """`first` is pushed into each hop, yet the answer is exactly the first rows of the walk
    without it, on every store and at every cut, hubs included."""
    store, _ = synced
    walks = {cid: store.ecosystem(cid, 3) for cid in (f"C{i:07d}" for i in range(1, 61))}
    cid, full = max(walks.items(), key=lambda kv: len(kv[1]))
    assert len(full) > 20 and full["hops"].nunique() == 3
    for first in (1, 2, 3, 5, 8, 13, len(full) // 2, len(full) - 1, len(full), len(full) + 5):
        cut = store.ecosystem(cid, 3, first=first)
        assert cut.equals(full.head(first)), first
    # the bound holds per source node: a hub sends only its first customers and enterprises
    hubs = full.loc[full["label"] == "Enterprise", "id"]
    sizes = {e: store.neighbours("Enterprise", [e]) for e in hubs}
    hub, everyone = max(sizes.items(), key=lambda kv: len(kv[1]))
    assert everyone["id"].nunique() > 3
    few = store.neighbours("Enterprise", [hub], limit=3)
    entities = few[few["label"] != "Account"]
    assert entities["id"].nunique() == 3
    expected = sorted(set(zip(everyone["label"], everyone["id"])) - {("Account", a) for a in everyone["id"]})[:3]
    assert sorted(set(zip(entities["label"], entities["id"]))) == expected


def test_hubs_are_listed_but_not_walked_through(synced):
    store, _ = synced
    cid = next(
        c for c in (f"C{i:07d}" for i in range(1, 301)) if (store.ecosystem(c, 1)["label"] == "Enterprise").any()
    )
    full = store.ecosystem(cid, 2, hub_degree=None)
    near = store.neighbours("Individual", [cid])
    # every degree is the node's own count of ecosystem relationships
    for label, node, degree in zip(near["label"], near["id"], near["degree"]):
        assert degree == len(store.neighbours(label, [node]))
    hub_degree = int(near.loc[near["label"] == "Enterprise", "degree"].max()) - 1
    walk = store.ecosystem(cid, 2, hub_degree=hub_degree)
    assert walk[walk["hops"] == 1].equals(full[full["hops"] == 1])
    hubs = near[near["degree"] > hub_degree]
    assert not hubs.empty and set(hubs["id"]) <= set(walk["id"]) | set(near.loc[near["label"] == "Account", "id"])
    through = near[near["degree"] <= hub_degree]
    step = pd.concat([store.neighbours(lbl, list(part["id"].unique())) for lbl, part in through.groupby("label")])
    reached = set(zip(step["label"], step["id"])) - set(zip(near["label"], near["id"])) - {("Individual", cid)}
    expected = sorted((lbl, i) for lbl, i in reached if lbl != "Account")
    assert sorted(zip(walk.loc[walk["hops"] == 2, "label"], walk.loc[walk["hops"] == 2, "id"])) == expected
    assert len(walk) < len(full)


def test_stores_agree(loaded_ro, tmp_path, synced):
    """Whatever the store under test says, the embedded reference says too."""
    store, _ = synced
    ref = NetworkxGraph(tmp_path / "ref.json.gz")
    sync_graph(loaded_ro[0], ref, progress=False)
    assert store.counts() == ref.counts()
    assert store.ecosystem_features().equals(ref.ecosystem_features())
    for cid in ("C0000001", "C0000002", "C0000050"):
        assert store.ecosystem(cid, 2).equals(ref.ecosystem(cid, 2))
        assert store.ecosystem(cid, 3, first=7).equals(ref.ecosystem(cid, 3, first=7))
    assert store.household("H0000001").members.equals(ref.household("H0000001").members)
    ids = ["H0000001", "H0000004", "H-none", "H0000009"]
    batch, one_by_one = store.households(ids), {h: ref.household(h) for h in ids if h != "H-none"}
    assert sorted(batch) == sorted(k for k in one_by_one if k in ref.households(ids))
    for hid, view in batch.items():
        assert view.aum == one_by_one[hid].aum and view.members.equals(one_by_one[hid].members)


def test_embedded_graph_survives_a_restart(engine, bundle_dir, tmp_path):
    ingest(bundle_dir, engine=engine, progress=False)
    store = NetworkxGraph(tmp_path / "saved.json.gz")
    counts = sync_graph(engine, store, progress=False)
    assert NetworkxGraph(store.path).counts() == counts


def test_embedded_graph_file_round_trips_exactly_and_keeps_the_json_format_readable(engine, bundle_dir, tmp_path):
    import networkx as nx

    ingest(bundle_dir, engine=engine, progress=False)
    legacy = NetworkxGraph(tmp_path / "old.json.gz")
    sync_graph(engine, legacy, progress=False)
    fast = NetworkxGraph(tmp_path / "new.pkl")
    fast.g = NetworkxGraph(legacy.path).g  # read as JSON, written in the batched pickle format
    fast.flush()
    assert not fast.path.read_bytes().startswith(b"\x1f\x8b")
    again = NetworkxGraph(fast.path)
    assert nx.utils.graphs_equal(again.g, legacy.g)
    assert again.ecosystem_features().equals(legacy.ecosystem_features())
    hid = next(i for label, i in again.g.nodes if label == "Household")
    assert again.household(hid).members.equals(legacy.household(hid).members)
    # still a working store after loading: a merge updates the shared successor/predecessor dicts
    member = again.household(hid).members["customer_id"].iloc[0]
    again.merge_relationships("MEMBER_OF", "Individual", [{"start": member, "end": hid, "role": "other"}])
    assert again.household(hid).members.set_index("customer_id").loc[member, "role"] == "other"


def test_embedded_graph_file_never_runs_code_and_a_cut_file_does_not_load(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    bad = tmp_path / "evil.pkl"
    bad.write_bytes(pickle.dumps(("clientstrata-graph", 2)) + pickle.dumps(("nodes", [Evil()])))
    with pytest.raises(ValueError, match="damaged or not a ClientStrata graph"):
        NetworkxGraph(bad)
    assert not (tmp_path / "pwned").exists()

    store = NetworkxGraph(tmp_path / "g.pkl")
    store.merge_nodes("Individual", [{"id": f"C{i}", "name": "x"} for i in range(10)])
    store.flush()
    data = store.path.read_bytes()
    store.path.write_bytes(data[: len(data) - 12])  # the end marker is gone
    with pytest.raises(ValueError):
        NetworkxGraph(store.path)


def test_degrees_are_counted_only_when_asked(synced):
    """Without `degrees` the walk is the same, and the last step's nodes carry no count: nothing
    needs it there (the hub rule only asks it of nodes walked from)."""
    store, _ = synced
    for cid, hops, first in (("C0000001", 2, None), ("C0000050", 3, 7), ("C0000002", 1, None)):
        full = store.walk(cid, hops, first=first)
        bare = store.walk(cid, hops, first=first, degrees=False)
        assert [r[:5] for r in bare] == [r[:5] for r in full] and len(full) > 0
        assert all(r[5] is None for r in bare if r[3] == hops)
        assert all(isinstance(r[5], int) for r in full)
        assert [r[5] for r in bare if r[3] < hops] == [r[5] for r in full if r[3] < hops]
        assert store.ecosystem(cid, hops, first=first).equals(
            pd.DataFrame(full, columns=["label", "id", "name", "hops", "relations", "degree"])
        )
