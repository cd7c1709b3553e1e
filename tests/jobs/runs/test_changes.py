import threading

import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record.models import ClassificationRun
from clientstrata.graph.record.queries import tags_by_customer
from clientstrata.jobs.governance.overrides import approve_override, propose_override, revoke_override
from clientstrata.jobs.runs.changes import changes_after
from clientstrata.jobs.runs.pipeline import classify


def _poll(engine, cursor=0, limit=7):
    """Everything after `cursor`, in small pages, the way an integration polls."""
    out = []
    with engine.connect() as conn:
        while page := changes_after(conn, cursor, limit):
            out += page
            cursor = page[-1]["seq"]
    return out


def _replay(feed):
    state = {}
    for r in feed:
        if r["new_value"] is None:
            state.pop((r["customer_id"], r["dimension"]), None)
        else:
            state[(r["customer_id"], r["dimension"])] = r["new_value"]
    return state


def _effective(engine):
    with engine.connect() as conn:
        ids = (
            conn.execute(sa.text("SELECT customer_id FROM individuals UNION ALL SELECT enterprise_id FROM enterprises"))
            .scalars()
            .all()
        )
        tags = tags_by_customer(conn, ids)
    return {(c, t["dimension"]): t["value"] for c, ts in tags.items() for t in ts}


def test_feed_is_complete_ordered_and_replays_to_what_readers_see(loaded, set_aum, customer_in):
    engine, graph = loaded
    first = _poll(engine)
    with engine.connect() as conn:
        tags = conn.execute(sa.text("SELECT count(*) FROM tags WHERE run_id = 1")).scalar_one()
    assert (
        len(first) == tags > 300
        and {r["source"] for r in first} == {"run"}
        and {r["old_value"] for r in first} == {None}
    )
    assert _replay(first) == _effective(engine)
    cursor = first[-1]["seq"]

    riser, pinned = customer_in("wealth_tier", "mass")[:2]
    set_aum(riser, 2_000_000)
    set_aum(pinned, 2_000_000)  # computed mass → wealth, but an override pins it to affluent
    with engine.begin() as conn:
        pin = propose_override(conn, "mei", pinned, "wealth_tier", "affluent", "assets pledged")
        approve_override(conn, "li", pin.override_id)
        conn.execute(
            sa.text(
                "DELETE FROM balances_monthly WHERE account_id IN "
                "(SELECT account_id FROM accounts WHERE owner_id = 'C0000009')"
            )
        )
        ov = propose_override(conn, "mei", "C0000010", "cooperation_depth", "comprehensive", "card-linked brokerage")
    report = classify(engine, graph, progress=False)
    with engine.begin() as conn:
        was = next(t for t in tags_by_customer(conn, ["C0000010"])["C0000010"] if t["dimension"] == "cooperation_depth")
        approve_override(conn, "li", ov.override_id)
    after_run = _poll(engine, cursor)
    run_rows = [r for r in after_run if r["source"] == "run"]
    assert report.changes == len(run_rows) >= 1
    assert {
        (r["customer_id"], r["old_value"], r["new_value"]) for r in run_rows if r["dimension"] == "wealth_tier"
    } >= {(riser, "mass", "wealth")}
    # readers saw affluent before and after (its AUM still moves value and composite dimensions)
    assert not [r for r in run_rows if r["customer_id"] == pinned and r["dimension"] == "wealth_tier"]
    ov_rows = [
        (r["override_id"], r["customer_id"], r["old_value"], r["new_value"])
        for r in after_run
        if r["source"] == "override"
    ]
    assert ov_rows[0] == (pin.override_id, pinned, "mass", "affluent")  # approved before the run
    if was["value"] != "comprehensive":
        assert ov_rows[1:] == [(ov.override_id, "C0000010", was["value"], "comprehensive")]
    with engine.begin() as conn:
        revoke_override(conn, "zhao", ov.override_id, "brokerage closed")
        revoke_override(conn, "zhao", pin.override_id, "pledge released")
    assert [(r["customer_id"], r["old_value"], r["new_value"]) for r in _poll(engine, after_run[-1]["seq"])][-1] == (
        pinned,
        "affluent",
        "wealth",
    )
    feed = _poll(engine)
    seqs = [r["seq"] for r in feed]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))  # ordered, no duplicates
    assert _replay(feed) == _effective(engine)  # complete: replaying gives exactly what readers see
    # a run that changes nothing appends nothing
    assert classify(engine, graph, progress=False).changes == 0 and _poll(engine, seqs[-1]) == []
    with engine.connect() as conn, pytest.raises(InvalidInput, match="limit"):
        changes_after(conn, 0, 0)


def _open_approval(engine, override_id):
    conn = engine.connect()
    tx = conn.begin()
    approve_override(conn, "li", override_id)  # appends a change: holds the feed lock until commit
    return conn, tx


def test_feed_writers_wait_for_each_other(loaded):
    engine, _ = loaded
    with engine.begin() as conn:
        a = propose_override(conn, "mei", "C0000011", "wealth_tier", "private_banking", "review a")
        b = propose_override(conn, "mei", "C0000012", "wealth_tier", "private_banking", "review b")
    cursor = _poll(engine)[-1]["seq"]
    conn_a, tx_a = _open_approval(engine, a.override_id)
    errors = []

    def approve_b():
        try:
            with engine.begin() as conn:
                approve_override(conn, "li", b.override_id)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    t = threading.Thread(target=approve_b)
    t.start()
    try:
        t.join(1.5)
        assert t.is_alive(), "a second writer must wait for the feed lock"
        assert _poll(engine, cursor) == []  # a poller sees nothing yet, so it cannot skip past a's row
        tx_a.commit()
    finally:
        conn_a.close()  # rolls back if the assertions failed, releasing the lock
        t.join(30)
    assert not t.is_alive() and errors == []
    feed = _poll(engine, cursor)
    assert [r["override_id"] for r in feed] == [a.override_id, b.override_id]


def test_a_publisher_commits_after_an_open_feed_writer(loaded):
    engine, graph = loaded
    with engine.begin() as conn:
        a = propose_override(conn, "mei", "C0000013", "wealth_tier", "private_banking", "review a")
        conn.execute(
            sa.text("INSERT INTO individuals (customer_id, name, birth_date) VALUES ('C9000002', 'New', '1991-02-02')")
        )
    cursor = _poll(engine)[-1]["seq"]
    conn_a, tx_a = _open_approval(engine, a.override_id)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("report", classify(engine, graph, progress=False)))
    t.start()
    # PostgreSQL: the run is reserved and classified, then waits at the publish lock;
    # SQLite (one writer): it waits already to reserve its number. Either way it cannot commit.
    try:
        t.join(3)
        assert t.is_alive(), "the publisher must wait for the open feed writer"
        assert _poll(engine, cursor) == []
        tx_a.commit()
    finally:
        conn_a.close()
        t.join(60)
    assert result["report"].run_id == 2
    feed = _poll(engine, cursor)
    assert feed[0]["override_id"] == a.override_id and feed[0]["seq"] > cursor
    assert {(r["source"], r["customer_id"]) for r in feed[1:]} == {("run", "C9000002")}


def test_a_run_diffed_range_by_range_appends_exactly_the_whole_diff(loaded, set_aum, customer_in, monkeypatch):
    """Many small ranges: every old tag lands in exactly one range — customers gone between two
    ranges and after the last, a retired dimension, an enterprise gone — and the feed holds
    exactly `run_diff` (the reference, in Python), overrides included, each range in order."""
    from clientstrata.jobs.classification.features import individual
    from clientstrata.jobs.runs.changes import run_diff

    engine, graph = loaded
    monkeypatch.setattr(individual, "CHUNK", 37)  # 300 customers: 9 ranges
    with engine.begin() as conn:
        ids = conn.execute(sa.text("SELECT customer_id FROM individuals ORDER BY customer_id")).scalars().all()
        gone = [ids[36] + "-left", ids[-1] + "-left", ids[0][:-1] + "-left"]  # between ranges, last, first
        for cid in gone:
            conn.execute(
                sa.text(
                    "INSERT INTO tag_spans (from_seq, customer_id, dimension, value, label_zh, label_en, rule, "
                    "inputs, standard_version) SELECT from_seq, :c, dimension, value, label_zh, label_en, "
                    "rule, inputs, standard_version FROM tag_spans WHERE from_seq = 1 AND customer_id = :src"
                ),
                {"c": cid, "src": ids[5]},
            )
        conn.execute(
            sa.text(
                "INSERT INTO tag_spans (from_seq, customer_id, dimension, value, label_zh, label_en, rule, inputs, "
                "standard_version) VALUES (1, :c, 'retired_dimension', 'x', 'x', 'x', 'r', '{}', 'old'), "
                "(1, 'E999999', 'enterprise_size', 'large', '大型', 'large', 'r', '{}', 'old')"
            ),
            {"c": ids[40]},
        )
        # a publish writes each subject's digest with its spans (jobs/runs/digests.py): these were
        # put in by hand, so their subjects get a digest no content makes, as migration 0018 gives
        conn.execute(
            sa.text("DELETE FROM tag_digests WHERE scope = 0 AND customer_id = :c"),
            {"c": ids[40]},
        )
        conn.execute(
            sa.text("INSERT INTO tag_digests (scope, customer_id, digest) VALUES (:s, :c, 0)"),
            [{"s": 0, "c": c} for c in [*gone, ids[40]]] + [{"s": 1, "c": "E999999"}],
        )
        pinned = customer_in("wealth_tier", "mass")[0]
        pin = propose_override(conn, "mei", pinned, "wealth_tier", "affluent", "assets pledged")
        approve_override(conn, "li", pin.override_id)
    cursor = _poll(engine)[-1]["seq"]
    for cid in customer_in("wealth_tier", "mass")[1:4] + [pinned]:
        set_aum(cid, 2_000_000)
    report = classify(engine, graph, progress=False)
    feed = [r for r in _poll(engine, cursor) if r["source"] == "run"]
    with engine.connect() as conn:
        at = conn.execute(sa.select(ClassificationRun.published_at).where(ClassificationRun.run_id == 2)).scalar()
        ref = run_diff(conn, 1, 2, at)
    got = [(r["customer_id"], r["dimension"], r["old_value"], r["new_value"]) for r in feed]
    ref = ref[["customer_id", "dimension", "old_value", "new_value"]].astype(object)
    want = list(ref.where(ref.notna(), None).itertuples(index=False, name=None))
    assert report.changes == len(got) == len(want) and sorted(got, key=str) == sorted(want, key=str)
    assert {(c, d) for c, d, _, n in got if n is None} >= {
        (gone[0], "wealth_tier"),
        (gone[1], "wealth_tier"),
        (gone[2], "wealth_tier"),
        (ids[40], "retired_dimension"),
        ("E999999", "enterprise_size"),
    }
    assert not [r for r in got if r[0] == pinned and r[1] == "wealth_tier"]  # the override held it still
    individual = [(c, d) for c, d, *_ in got if not d.startswith("enterprise_")]
    assert individual == sorted(individual)  # ranges in order, each in (customer, dimension) order
