"""Runs over the API: what-if drafts, runs started on demand in the background, migration, segments
and the change feed polled across runs and an approved override without a gap or a repeat."""

import datetime as dt
import threading
import time
from importlib import resources

import sqlalchemy as sa
from starlette.testclient import TestClient

from clientstrata.api.app import create_app
from clientstrata.graph.record.models import AuditEntry, ClassificationChange, Enterprise
from clientstrata.graph.stores.networkx_store import NetworkxGraph
from clientstrata.jobs.runs.pipeline import classify


def _default_text():
    return resources.files("clientstrata.jobs.classification").joinpath("standards", "default.yaml").read_text("utf-8")


WHATIF = """mutation($s: String!) { whatIf(standard: $s, sample: 3) { __typename
  ... on WhatIf { id status requestedBy report { published } }
  ... on InvalidStandard { code message line key } ... on Error { code } } }"""
WHATIF_BY_ID = """query($id: Int!) { whatIf(id: $id) { id status requestedBy requestedAt startedAt finishedAt
  standardVersion sample error report { published baseRunId moved dimensions { dimension customers moved
      fromTo { fromValue toValue customers } sample { customerId fromValue toValue } } } } }"""


def _at(text):
    return dt.datetime.fromisoformat(text)


def _finished_whatif(gql, app, token, whatif_id, limit=300):
    deadline = time.time() + limit
    while True:
        w = gql(app, token, WHATIF_BY_ID, id=whatif_id)["data"]["whatIf"]
        if w["status"] in ("done", "failed") or time.time() > deadline:
            return w
        time.sleep(0.3)


CHANGES = """query($after: String) { classificationChanges(after: $after, first: 700) {
  edges { cursor node { seq source customerId dimension oldValue newValue } } pageInfo { hasNextPage endCursor } } }"""


def test_whatif_runs_migration_segments_and_the_change_feed(
    app, loaded, make_token, tmp_path, gql, rm_book, propose_override, approve_override
):
    engine, graph = loaded
    rm, mine, _ = rm_book
    analyst, admin, risk = make_token("marketing_analyst"), make_token("admin"), make_token("risk_officer")
    rm_token = make_token("relationship_manager", rm)
    text = _default_text()

    # what-if: typed refusals with the line, at once; a valid draft is queued, done in the
    # background, and its report (movers) kept; nothing is published
    overlap = text.replace("label_en: Wealth, min: 500000,", "label_en: Wealth, min: 40000,")
    bad = gql(app, analyst, WHATIF, s=overlap)["data"]["whatIf"]
    line = next(i for i, t in enumerate(overlap.splitlines(), 1) if "min: 40000" in t)
    assert bad["__typename"] == "InvalidStandard" and bad["code"] == "INVALID_STANDARD"
    assert bad["line"] == line and bad["key"] == "dimensions.wealth_tier.bands[2]" and f"line {line}" in bad["message"]
    broken = gql(app, analyst, WHATIF, s="version: 1\ndimensions: [a\n")["data"]["whatIf"]
    assert broken["__typename"] == "InvalidStandard" and broken["line"] == 3 and "not valid YAML" in broken["message"]
    assert gql(app, rm_token, WHATIF, s=text)["data"]["whatIf"]["__typename"] == "NotAllowed"
    too_many = gql(
        app,
        analyst,
        "mutation($s: String!) { whatIf(standard: $s, sample: 500) { __typename ... on Error { code message } } }",
        s=text,
    )["data"]["whatIf"]
    assert too_many == {
        "__typename": "InvalidInput",
        "code": "INVALID_INPUT",
        "message": "`sample` must be between 0 and 200",
    }
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM whatifs")).scalar() == 0  # refusals queue nothing
    draft = text.replace("label_en: Affluent, min: 50000,", "label_en: Affluent, min: 60000,")
    queued = gql(app, analyst, WHATIF, s=draft)["data"]["whatIf"]
    assert queued["__typename"] == "WhatIf" and queued["requestedBy"] == "test marketing_analyst"
    assert queued["status"] in ("queued", "running", "done")
    assert (queued["status"] == "done") == (queued["report"] is not None)
    w = _finished_whatif(gql, app, analyst, queued["id"])
    assert w["status"] == "done" and w["error"] is None and w["sample"] == 3
    assert _at(w["requestedAt"]) <= _at(w["startedAt"]) <= _at(w["finishedAt"])
    report = w["report"]
    tiers = next(d for d in report["dimensions"] if d["dimension"] == "wealth_tier")
    assert report["published"] is False and report["baseRunId"] == 1 and tiers["customers"] == 300
    assert tiers["moved"] == sum(c["customers"] for c in tiers["fromTo"]) > 0
    assert len(tiers["sample"]) == min(3, tiers["moved"]) and {m["toValue"] for m in tiers["sample"]} == {"mass"}
    assert report["moved"] == sum(d["moved"] for d in report["dimensions"])
    assert gql(app, risk, WHATIF_BY_ID, id=queued["id"])["data"]["whatIf"] == w  # any role with `whatif` reads it
    refused = gql(app, rm_token, WHATIF_BY_ID, id=queued["id"])
    assert refused["data"] == {"whatIf": None} and refused["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"
    assert gql(app, analyst, WHATIF_BY_ID, id=queued["id"] + 1)["data"]["whatIf"] is None
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM classification_runs")).scalar() == 1
        asked = conn.execute(
            sa.select(AuditEntry.actor, AuditEntry.action)
            .where(AuditEntry.entity_type == "whatif")
            .order_by(AuditEntry.audit_id)
        ).all()
    assert [tuple(a) for a in asked] == [
        ("test marketing_analyst", "whatif.queued"),
        ("test marketing_analyst", "whatif.done"),
    ]

    # the feed from the start, polled in small pages while a second run publishes concurrently
    seen: list[int] = []
    cursor = None

    def poll(token=analyst, after=None, sink=None):
        while True:
            page = gql(app, token, CHANGES, after=after)["data"]["classificationChanges"]
            (sink if sink is not None else seen).extend(e["node"]["seq"] for e in page["edges"])
            after = page["pageInfo"]["endCursor"] or after
            if not page["pageInfo"]["hasNextPage"]:
                return after

    draft_file = tmp_path / "draft.yaml"
    draft_file.write_text(draft, encoding="utf-8")
    publisher = threading.Thread(
        target=classify,
        args=(engine, graph, draft_file),
        kwargs={"progress": False, "adopt": True, "requested_by": "chair"},
    )
    publisher.start()
    while publisher.is_alive():
        cursor = poll(after=cursor)
        time.sleep(0.2)
    publisher.join()
    cursor = poll(after=cursor)

    # a run started over the API: queued at once, done in the background with the live standard
    assert gql(app, analyst, "mutation { startRun { __typename } }")["data"]["startRun"]["__typename"] == "NotAllowed"
    started = gql(
        app,
        admin,
        "mutation { startRun { __typename ... on ClassificationRun { id status kind requestedBy standardVersion } } }",
    )["data"]["startRun"]
    assert started["__typename"] == "ClassificationRun" and started["status"] in ("queued", "running", "published")
    assert (started["kind"], started["requestedBy"]) == ("on_demand", "test admin")
    deadline = time.time() + 300
    while True:
        run = gql(app, analyst, "query($id: Int!) { run(id: $id) { status error } }", id=started["id"])["data"]["run"]
        if run["status"] in ("published", "failed") or time.time() > deadline:
            break
        time.sleep(0.5)
    assert run == {"status": "published", "error": None}
    assert gql(app, analyst, "{ run(id: 999) { id } }")["data"]["run"] is None

    # an approved override is a change too
    oid = propose_override(
        app,
        analyst,
        customerId=mine[0],
        dimension="cooperation_depth",
        value="ecosystem_synergy",
        reason="group payroll",
    )["id"]
    approve_override(app, risk, oid)
    cursor = poll(after=cursor)
    assert poll(after=cursor) == cursor  # nothing new: the cursor stays, nothing repeats
    with engine.connect() as conn:
        feed = conn.execute(
            sa.select(
                ClassificationChange.seq,
                ClassificationChange.source,
                ClassificationChange.run_id,
                ClassificationChange.customer_id,
            ).order_by(ClassificationChange.seq)
        ).all()
        managed = set(conn.execute(sa.select(Enterprise.enterprise_id).where(Enterprise.rm_id == rm)).scalars())
    assert seen == [f.seq for f in feed]  # every change, once, in order
    assert {f.source for f in feed} == {"run", "override"} and {1, 2} <= {f.run_id for f in feed}
    book: list[int] = []
    poll(token=rm_token, sink=book)
    assert book == [f.seq for f in feed if f.customer_id in set(mine) | managed]  # their people and enterprises

    # run history, newest first, in pages
    runs = gql(app, analyst, "{ runs(first: 2) { edges { node { id status } } pageInfo { hasNextPage endCursor } } }")
    page = runs["data"]["runs"]
    assert [e["node"]["id"] for e in page["edges"]] == [started["id"], started["id"] - 1] and page["pageInfo"][
        "hasNextPage"
    ]
    rest = gql(
        app,
        analyst,
        "query($a: String) { runs(first: 5, after: $a) { edges { node { id } } } }",
        a=page["pageInfo"]["endCursor"],
    )["data"]["runs"]["edges"]
    assert [e["node"]["id"] for e in rest] == list(range(started["id"] - 2, 0, -1))

    # migration between the first and the draft's run: the band moved affluent customers to mass
    mig = gql(
        app,
        analyst,
        '{ migration(fromRun: 1, toRun: 2, dimension: "wealth_tier") { customers moved '
        "cells { fromValue toValue customers } } }",
    )["data"]["migration"]
    assert mig["customers"] == 300 == sum(c["customers"] for c in mig["cells"])
    assert mig["moved"] == tiers["moved"] == sum(c["customers"] for c in mig["cells"] if c["fromValue"] != c["toValue"])
    mine_only = gql(app, rm_token, '{ migration(fromRun: 1, toRun: 2, dimension: "wealth_tier") { customers } }')
    assert mine_only["data"]["migration"]["customers"] == len(mine)
    unknown = gql(app, analyst, '{ migration(fromRun: 1, toRun: 2, dimension: "zodiac") { customers } }')
    assert "zodiac" in unknown["errors"][0]["message"]

    # segments: counts and AUM per value; clusters described
    q = "query($d: String!) { segments(dimension: $d) { value customers share aumTotal aumAvg description } }"
    tiers_now = gql(app, analyst, q, d="wealth_tier")["data"]["segments"]
    assert sum(s["customers"] for s in tiers_now) == 300 and abs(sum(s["share"] for s in tiers_now) - 1) < 0.01
    assert all(s["aumTotal"] >= 0 and s["description"] is None for s in tiers_now)
    assert sum(s["customers"] for s in gql(app, rm_token, q, d="wealth_tier")["data"]["segments"]) == len(mine)
    clusters = gql(app, analyst, q, d="behaviour_cluster")["data"]["segments"]
    assert clusters and all(s["description"] for s in clusters)


def test_a_failed_whatif_says_why_without_a_stack_trace(loaded, make_token, tmp_path, gql):
    """A server whose graph was never synced: the draft is valid, so it is queued; doing it
    fails, and the what-if says what to do — no traceback, SQL or driver text (`gql` checks)."""
    engine, _ = loaded
    analyst = make_token("marketing_analyst")
    with TestClient(create_app(engine, NetworkxGraph(tmp_path / "never-synced.pkl"))) as app:
        queued = gql(app, analyst, WHATIF, s=_default_text())["data"]["whatIf"]
        assert queued["__typename"] == "WhatIf"
        w = _finished_whatif(gql, app, analyst, queued["id"])
    assert (w["status"], w["report"]) == ("failed", None) and w["finishedAt"]
    assert w["error"] == "the customer graph is empty: run `clientstrata sync-graph` first"
