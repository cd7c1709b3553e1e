"""What-ifs queued for the background: refused at once when the draft is bad, claimed once,
done with the same code as the CLI's synchronous what-if, the report kept; a failure says why
without driver text; nothing is published; every step is audited."""

import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record.audit import audit_trail
from clientstrata.graph.stores.networkx_store import NetworkxGraph
from clientstrata.jobs.classification.standard import InvalidStandard
from clientstrata.jobs.runs.whatif import whatif
from clientstrata.jobs.runs.whatif_requests import get_whatif, queue_whatif, queued_whatifs, run_queued_whatif
from clientstrata.jobs.runs.worker import RunWorker

AFFLUENT_AT_60K = {"label_en: Affluent, min: 50000,": "label_en: Affluent, min: 60000,"}
PUBLISHED = ("classification_runs", "tags", "classification_changes", "notifications", "standards")


def _counts(engine, tables=PUBLISHED):
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}


def test_a_bad_draft_is_refused_before_anything_is_queued(loaded, write_standard):
    engine, _ = loaded
    before = _counts(engine, ("whatifs", "audit_log"))
    overlap = write_standard(replace={"min: 500000,": "min: 40000,"}).read_text("utf-8")
    bad_governance = write_standard(extra="governance: {retag_every_months: quarterly}\n", name="g.yaml")
    bad_alerts = write_standard(extra="alerts: {nope: {}}\n", name="a.yaml")
    with engine.begin() as conn:
        with pytest.raises(InvalidStandard, match=r"draft, line \d+: dimensions.wealth_tier.bands\[2\]") as err:
            queue_whatif(conn, "ana", overlap)
        assert err.value.key == "dimensions.wealth_tier.bands[2]" and err.value.line
        with pytest.raises(InvalidStandard, match="retag_every_months"):
            queue_whatif(conn, "ana", bad_governance.read_text("utf-8"))
        with pytest.raises(InvalidStandard, match="unknown alert type"):
            queue_whatif(conn, "ana", bad_alerts.read_text("utf-8"))
        with pytest.raises(InvalidInput, match="`sample`"):
            queue_whatif(conn, "ana", overlap.replace("min: 40000,", "min: 500000,"), sample=201)
        with pytest.raises(InvalidInput, match="who is asking"):
            queue_whatif(conn, " ", overlap.replace("min: 40000,", "min: 500000,"))
    assert _counts(engine, ("whatifs", "audit_log")) == before


def test_a_queued_whatif_is_done_once_and_reports_what_the_cli_reports(loaded, write_standard):
    engine, graph = loaded
    draft = write_standard(replace=AFFLUENT_AT_60K)
    before = _counts(engine)
    with engine.begin() as conn:
        wid = queue_whatif(conn, "ana", draft.read_text("utf-8"), sample=3)
    with engine.connect() as conn:
        queued = get_whatif(conn, wid)
        assert queued_whatifs(conn) == [wid]
    assert (queued["status"], queued["requested_by"], queued["report"], queued["started_at"]) == (
        "queued",
        "ana",
        None,
        None,
    )
    done = run_queued_whatif(engine, graph, wid)
    assert run_queued_whatif(engine, graph, wid) is None  # a second worker finds nothing to do
    assert done["status"] == "done" and done["base_run_id"] == 1 and done["error"] is None
    assert done["requested_at"] <= done["started_at"] <= done["finished_at"]
    # the same answer as the synchronous what-if the CLI prints
    sync = whatif(engine, graph, draft)
    assert done["report"]["dimensions"] == sync.movements(3)
    tiers = next(d for d in done["report"]["dimensions"] if d["dimension"] == "wealth_tier")
    assert tiers["moved"] > 0 and len(tiers["sample"]) == min(3, tiers["moved"])
    assert done["report"]["moved"] == int(sync.moves.shape[0])
    with engine.connect() as conn:
        assert get_whatif(conn, wid) == done  # kept: another process reads the same report
        assert queued_whatifs(conn) == []
        with pytest.raises(NotFound):
            get_whatif(conn, wid + 1)
        trail = audit_trail(conn, entity_type="whatif", entity_id=wid)
    assert _counts(engine) == before  # no run, no tags, no feed, no outbox, no register entry
    assert list(zip(trail["action"], trail["actor"])) == [("whatif.queued", "ana"), ("whatif.done", "ana")]
    assert trail["details"].iloc[1] == {"base_run_id": 1, "moved": done["report"]["moved"]}


def test_a_failed_whatif_says_why_and_the_worker_resumes_queued_ones(loaded, write_standard, tmp_path):
    engine, graph = loaded
    text = write_standard(replace=AFFLUENT_AT_60K).read_text("utf-8")
    # a server whose graph was never synced: the what-if fails with what to do about it
    empty = NetworkxGraph(tmp_path / "empty.pkl")
    worker = RunWorker(engine, empty)
    failed = worker.start_whatif("ana", text)
    worker.close(wait=True)
    with engine.connect() as conn:
        row = get_whatif(conn, failed)
        trail = audit_trail(conn, entity_type="whatif", entity_id=failed)
    assert row["status"] == "failed" and row["report"] is None and row["finished_at"] is not None
    assert row["error"] == "the customer graph is empty: run `clientstrata sync-graph` first"
    assert trail["action"].tolist() == ["whatif.queued", "whatif.failed"]
    # a what-if queued by a server that stopped before doing it is done by the next one
    with engine.begin() as conn:
        left = queue_whatif(conn, "ana", text)
    worker = RunWorker(engine, graph)
    assert worker.resume_whatifs() == [left]
    worker.close(wait=True)
    with engine.connect() as conn:
        assert get_whatif(conn, left)["status"] == "done"
