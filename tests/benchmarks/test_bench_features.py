import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("bench_features.py")


@pytest.mark.slow
def test_features_benchmark_times_every_build_and_writes_json(tmp_path):
    out = tmp_path / "features-300.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--customers",
            "300",
            "--repeat",
            "1",
            "--out",
            str(out),
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    assert set(report["median_seconds"]) == {"old", "new", "baseline"}
    assert report["shapes"]["old"] == report["shapes"]["new"] and report["shapes"]["new"][0] == 300
    assert report["shapes"]["baseline"][0] == 300
    assert report["new_vs_baseline"] == pytest.approx(
        report["median_seconds"]["new"] / report["median_seconds"]["baseline"]
    )
