import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("bench_pipeline.py")
STAGES = ["generate", "ingest", "sync-graph", "features", "classify", "clusters"]


@pytest.mark.slow
def test_benchmark_runs_every_stage_and_writes_json(tmp_path):
    out = tmp_path / "pipeline-300.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--customers", "300", "--out", str(out), "--workdir", str(tmp_path / "work")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    assert report["ok"] and report["customers"] == 300
    assert [s["stage"] for s in report["stages"]] == STAGES
    for s in report["stages"]:
        assert s["exit_code"] == 0 and s["seconds"] > 0 and s["peak_rss_mb"] > 20
        assert s["customers_per_second"] == pytest.approx(300 / s["seconds"], rel=0.01)
    by = {s["stage"]: s for s in report["stages"]}
    assert by["generate"]["output"]["rows"]["individuals"] == 300
    assert by["ingest"]["output"]["quarantined"] == 0 and by["classify"]["output"]["customers"] == 300
    assert set(report["extrapolated_1m_seconds_linear"]) == set(STAGES)
    assert (tmp_path / "work" / "classify.log").exists()  # a chosen work dir is kept
    assert "classify, extrapolated to 1M" in done.stdout
    strategy = report["strategy_stage"]  # what the strategy stage adds to a run, from the run's own phases
    assert set(strategy["phases"]) == {"strategy", "next-best actions", "points"}
    assert all(v is not None and v >= 0 for v in strategy["phases"].values())
    assert strategy["seconds"] == pytest.approx(sum(strategy["phases"].values()), abs=0.02)
    assert strategy["extrapolated_1m_seconds"] == pytest.approx(strategy["seconds"] * 1_000_000 / 300, rel=0.01)
    assert "strategy stage (packages, next-best actions, points)" in done.stdout


def test_pytest_does_not_collect_the_script():
    assert not SCRIPT.name.startswith("test_")


@pytest.mark.slow
def test_stages_run_in_parts_add_to_one_json(tmp_path):
    """At 1M customers the stages run as separate invocations on one kept work dir."""
    out, work = tmp_path / "pipeline-200.json", tmp_path / "work"
    base = [sys.executable, str(SCRIPT), "--customers", "200", "--out", str(out), "--workdir", str(work)]
    for extra in (["--stages", "generate"], ["--stages", "ingest", "sync-graph", "--merge"]):
        done = subprocess.run(base + extra, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    assert [s["stage"] for s in report["stages"]] == ["generate", "ingest", "sync-graph"] and report["ok"]
    ingest = report["stages"][1]
    assert ingest["rows_read"] == sum(report["rows"].values()) and ingest["rows_per_second"] > 0
    assert report["disk"]["database_mb"] > 0 and report["disk"]["graph_file_mb"] > 0
