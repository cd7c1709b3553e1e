import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import InvalidInput
from clientstrata.jobs.classification.classify import ENTERPRISE, INDIVIDUAL
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.ingest.load import ingest
from clientstrata.jobs.ingest.sync import sync_graph
from clientstrata.jobs.runs.explain import explained_tags, words
from clientstrata.jobs.runs.pipeline import TAGS_WRITTEN, classify

STD = load_standard()
BERKA = Path(__file__).resolve().parents[4] / "shared" / "data" / "berka"


def _per_dimension(engine, run_id: int = 1) -> dict[str, tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT dimension, count(DISTINCT customer_id), count(*) FROM tags WHERE run_id = :r GROUP BY dimension"
            ),
            {"r": run_id},
        ).all()
    return {d: (n, m) for d, n, m in rows}


def _distribution(engine, run_id: int = 1) -> dict[str, dict[str, int]]:
    with engine.connect() as conn:
        df = pd.read_sql(
            sa.text("SELECT dimension, value, count(*) AS n FROM tags WHERE run_id = :r GROUP BY dimension, value"),
            conn,
            params={"r": run_id},
        )
    return {d: dict(zip(g["value"], g["n"])) for d, g in df.groupby("dimension")}


def test_run_publishes_one_tag_per_customer_per_dimension(loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        run = conn.execute(sa.text("SELECT run_id, status, standard_version FROM classification_runs")).one()
        enterprises = conn.execute(sa.text("SELECT count(*) FROM enterprises")).scalar()
    assert run.status == "published" and run.standard_version == STD.version
    assert _per_dimension(engine) == {
        **{d: (300, 300) for d in INDIVIDUAL},
        "behaviour_cluster": (300, 300),
        **{d: (enterprises, enterprises) for d in ENTERPRISE},
    }


def test_distributions_on_the_generated_bank_are_sensible(loaded_ro):
    dist = _distribution(loaded_ro[0])
    # every class-like dimension splits the bank; none puts everyone in one class
    for dim in (
        "wealth_tier",
        "household_wealth_tier",
        "risk_preference",
        "risk_consistency",
        "suitability",
        "lifecycle_stage",
        "relationship_stage",
        "cooperation_depth",
        "demand_tier",
        "credit_risk_tier",
        "behaviour_rfm",
        "behaviour_channel",
        "behaviour_loyalty",
        "business_categories",
        "composite_segment",
        "enterprise_industry",
        "enterprise_size",
        "enterprise_ecosystem_role",
    ):
        assert len(dist[dim]) >= 2, (dim, dist[dim])
        assert max(dist[dim].values()) < sum(dist[dim].values()), dim
    assert sorted(dist["value_contribution"]) == sorted(f"D{i}" for i in range(1, 11))
    assert all(27 <= n <= 33 for n in dist["value_contribution"].values())
    assert set(dist["aml_risk"]) <= {"low", "medium", "high"} and dist["aml_risk"]["low"] > 250
    assert dist["wealth_tier"]["mass"] > dist["wealth_tier"].get("private_banking", 0)


def test_a_run_killed_midway_leaves_the_previous_run_intact(loaded, crash_run):
    engine, graph = loaded
    with engine.connect() as conn:
        first = conn.execute(sa.text("SELECT count(*) FROM tags")).scalar()
    with pytest.raises(RuntimeError, match="simulated"):
        classify(engine, graph, progress=False, on_stage=crash_run(TAGS_WRITTEN, rows=300))
    with engine.connect() as conn:
        runs = dict(conn.execute(sa.text("SELECT run_id, status FROM classification_runs")).all())
        tags = dict(conn.execute(sa.text("SELECT run_id, count(*) FROM tags GROUP BY run_id")).all())
    assert runs == {1: "published", 2: "failed"}
    assert tags == {1: first}


def test_classify_refuses_an_unsynced_graph(engine, graph, bundle_dir):
    ingest(bundle_dir, engine=engine, progress=False)
    with pytest.raises(InvalidInput, match="sync-graph"):
        classify(engine, graph, progress=False)


@pytest.mark.skipif(not BERKA.exists(), reason="shared/data/berka is not beside the checkout")
def test_the_berka_bank_classifies_with_real_loan_statuses(engine, graph):
    ingest(BERKA, format="berka", engine=engine, progress=False)
    sync_graph(engine, graph, progress=False)
    report = classify(engine, graph, progress=False)
    clients = pd.read_csv(BERKA / "client.csv")
    assert _per_dimension(engine, report.run_id) == {d: (len(clients), len(clients)) for d in INDIVIDUAL}
    # expected from the source files: owners of accounts whose loan is B (unpaid) or D (in debt)
    loans = pd.read_csv(BERKA / "loan.csv")
    disp = pd.read_csv(BERKA / "disp.csv")
    owners = disp[disp["type"] == "OWNER"].set_index("account_id")["client_id"]
    bad = set(owners.reindex(loans.loc[loans["status"].isin(["B", "D"]), "account_id"]))
    clean = set(owners.reindex(loans.loc[loans["status"].isin(["A", "C"]), "account_id"])) - bad
    with engine.connect() as conn:
        credit = pd.read_sql(
            sa.text("SELECT customer_id, value, rule FROM tags WHERE dimension = 'credit_risk_tier' AND run_id = :r"),
            conn,
            params={"r": report.run_id},
        ).set_index("customer_id")
    assert set(credit.index[credit["value"] == "high_risk"]) == {f"BK-C{c}" for c in bad}
    assert set(credit.index[credit["value"] == "good"]) == {f"BK-C{c}" for c in clean}
    assert (credit["value"] == "no_history").sum() == len(clients) - len(bad) - len(clean)
    with engine.connect() as conn:
        first_bad = f"BK-C{sorted(bad)[0]}"
        tag = next(
            t
            for t in explained_tags(conn, [first_bad], report.run_id)[first_bad]
            if t["dimension"] == "credit_risk_tier"
        )
    assert "loan_in_debt" in words(tag, "en") or "loan_unpaid" in words(tag, "en")
    assert "欠款" in words(tag, "zh") or "未还" in words(tag, "zh")
    dist = _distribution(engine, report.run_id)
    assert set(dist["behaviour_activity"]) == {"unknown"}  # PKDD'99 ships no transactions
    assert len(dist["lifecycle_stage"]) >= 3 and len(dist["behaviour_loyalty"]) >= 1


def test_classify_reads_the_graph_counts_the_last_sync_recorded(loaded):
    """Without a graph handed in, classify does not load the embedded graph: the snapshot's
    graph counts are the ones sync-graph recorded (and an unsynced record is refused)."""
    from clientstrata.jobs.ingest.sync import last_sync

    engine, graph = loaded
    report = classify(engine, None, progress=False)  # no store handed in, none opened
    with engine.connect() as conn:
        snap = conn.execute(
            sa.text("SELECT snapshot FROM classification_runs WHERE run_id = :r"), {"r": report.run_id}
        ).scalar()
        assert last_sync(conn) == graph.counts()
    snap = json.loads(snap) if isinstance(snap, str) else snap
    assert snap["graph"] == graph.counts() and report.tags == _tag_count(engine, report.run_id)


def _tag_count(engine, run_id):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM tags WHERE run_id = :r"), {"r": run_id}).scalar()


def test_partitions_classified_in_worker_processes_equal_one_process(loaded_ro):
    """The publish classifies the next partitions in worker processes while it writes: same
    frames, same order, as classifying them one after another here."""
    from clientstrata.jobs.classification import features as F
    from clientstrata.jobs.runs.tagging import iter_tags

    engine, graph = loaded_ro
    with engine.connect() as conn:
        parts = list(F.iter_individual_features(conn, STD, chunk=41, progress=False))
        runs = {w: [(f, t) for f, t in iter_tags(conn, list(parts), STD, workers=w)[0]] for w in (0, 1, 2)}
    assert len(parts) == 8 and len(runs[0]) == len(runs[1]) == len(runs[2]) == 9 and runs[2][-1][0] is None
    for (f1, t1), (f2, t2), (f3, t3) in zip(runs[0], runs[1], runs[2]):
        assert f1 is f3
        pd.testing.assert_frame_equal(t1, t3)
        assert f1 is f2
        pd.testing.assert_frame_equal(t1, t2)
    assert all(isinstance(i, str) for _, t in runs[2] for i in t["inputs"])  # JSON text, as written
    assert json.loads(runs[2][0][1]["inputs"].iat[0])  # that parses back


def test_a_run_reports_where_its_time_went(loaded):
    engine, graph = loaded
    report = classify(engine, graph, progress=False)
    s = report.seconds
    assert {
        "total",
        "features",
        "classify (waiting for workers)",
        "stage tags",
        "close and open spans",
        "change feed",
        "alerts",
        "household tiers",
    } <= set(s) and all(v >= 0 for v in s.values())
    assert sum(v for k, v in s.items() if k != "total") <= s["total"] + 0.05  # phases do not overlap
    assert report.to_dict()["seconds"] == s
