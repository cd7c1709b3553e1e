"""Explanations as keys: what the dimensions cost per partition when a tag stores a rule key
instead of its words, beside the `--before` commit's code on the same features. A script:

    .venv/bin/python tests/benchmarks/bench_explain.py --customers 20000 [--repeat 5] [--before main]

Generates and ingests a bank, builds its features once with this tree and pickles them; then,
alternating, each tree classifies the same features in its own process (`before`: the commit's
code from `git archive`, first on PYTHONPATH) and reports the CPU seconds of
`classify_partition` (median of `--repeat`) and the mean stored rule length. For this tree it
also times putting the tags into words on read (English and Chinese, µs per tag). Writes
tests/benchmarks/results/explain-<N>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_ingest import ROOT, _checkout, _env

HERE = Path(__file__).resolve().parent

_FEATURES = """
import pickle, sys
import pandas as pd
from clientstrata.graph.record.db import get_engine
from clientstrata.jobs.classification import features as F
from clientstrata.jobs.classification.dimensions import population_parameters
from clientstrata.jobs.classification.standard import load_standard
std = load_standard()
with get_engine().connect() as conn:
    feats = pd.concat(list(F.iter_individual_features(conn, std, progress=False)), ignore_index=True)
pickle.dump({"features": feats, "params": population_parameters(feats, std)}, open(sys.argv[1], "wb"))
"""

_CLASSIFY = """
import json, pickle, statistics, sys, time
from clientstrata.jobs.classification import dimensions as D
from clientstrata.jobs.classification.standard import load_standard
data, std, repeat = pickle.load(open(sys.argv[1], "rb")), load_standard(), int(sys.argv[2])
cpu = []
for _ in range(repeat):
    t = time.process_time()
    tags = D.classify_partition(data["features"], std, data["params"])
    cpu.append(time.process_time() - t)
out = {"cpu_seconds": cpu, "median_cpu_seconds": statistics.median(cpu), "tags": len(tags),
       "mean_rule_chars": float(tags["rule"].str.len().mean()), "module": D.__file__}
if hasattr(D, "explain_frame"):
    sample = tags.sample(n=min(len(tags), 100_000), random_state=0)
    for lang in ("en", "zh"):
        t = time.process_time()
        D.explain_frame(sample, std, lang)
        out[f"words_{lang}_us_per_tag"] = (time.process_time() - t) / len(sample) * 1e6
print(json.dumps(out))
"""


def _run(code: str, args: list[str], env: dict) -> str:
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, check=True, capture_output=True, text=True
    ).stdout


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds of new and before")
    p.add_argument("--before", default="main")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-explain-"))
    work.mkdir(parents=True, exist_ok=True)
    db, feats = work / "bank.db", work / "features.pkl"
    env = _env(db)
    cli = [sys.executable, "-m", "clientstrata.cli.main"]
    if not db.exists():
        subprocess.run(
            [*cli, "generate", "--customers", str(args.customers), "--out", str(work / "bundle")],
            env=env,
            check=True,
            capture_output=True,
        )
        subprocess.run([*cli, "ingest", str(work / "bundle")], env=env, check=True, capture_output=True)
    if not feats.exists():
        _run(_FEATURES, [str(feats)], env)
    before = _checkout(args.before, work)
    runs: dict[str, list[dict]] = {"new": [], "before": []}
    for _ in range(args.rounds):
        for name, pkg in (("new", None), ("before", before)):
            runs[name].append(json.loads(_run(_CLASSIFY, [str(feats), str(args.repeat)], _env(db, pkg))))
    assert "before-pkg" in runs["before"][0]["module"] and "before-pkg" not in runs["new"][0]["module"]
    med = {k: statistics.median(r["median_cpu_seconds"] for r in v) for k, v in runs.items()}
    new = runs["new"][-1]
    result = {
        "customers": args.customers,
        "tags": new["tags"],
        "machine": {"cpus": os.cpu_count(), "load_average_1m": os.getloadavg()[0]},
        "commits": {
            "new": subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
            ).stdout.strip(),
            "before": subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", args.before], capture_output=True, text=True
            ).stdout.strip(),
        },
        "median_cpu_seconds": {k: round(v, 3) for k, v in med.items()},
        "new_vs_before_cpu": round(med["before"] / med["new"], 2),
        "mean_rule_chars": {k: round(v[-1]["mean_rule_chars"], 1) for k, v in runs.items()},
        "words_on_read_us_per_tag": {lang: round(new[f"words_{lang}_us_per_tag"], 2) for lang in ("en", "zh")},
        "runs": runs,
        "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    out = args.out or HERE / "results" / f"explain-{args.customers}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"classify_partition CPU, median s: new {med['new']:.2f}, before {med['before']:.2f} ({result['new_vs_before_cpu']}x)"
    )
    print(
        f"stored rule, mean chars: {result['mean_rule_chars']}; words on read, µs/tag: {result['words_on_read_us_per_tag']}"
    )
    print(f"load average {result['machine']['load_average_1m']:.1f}; wrote {out}")


if __name__ == "__main__":
    main()
