"""Ingest benchmark: this tree's `clientstrata ingest`, the same command from an earlier commit
(`--before`, default main), and plain sqlite3 into the same schema, on one bundle in one run. A script:

    .venv/bin/python tests/benchmarks/bench_ingest.py --customers 20000 [--repeat 3] [--before main]

Generates a bundle of N customers (or takes `--bundle`), then per round ingests it into a fresh
SQLite file three ways, alternating, each its own process: `new` (this tree), `before` (the
`--before` commit's code, unpacked with `git archive` and put first on PYTHONPATH) and
`baseline` (tests/benchmarks/baselines/sqlite_ingest.py: csv + executemany into the record's
schema, made by the migrations outside its timing). Reports the medians (seconds, input rows per
second) and the ratios; checks that before and new loaded and quarantined the same rows. Writes
tests/benchmarks/results/ingest-<N>.json with the load average, since the machine may be shared.

`--postgres URL` also ingests new and before once each into that PostgreSQL database (emptied
first); `--repeat 0 --postgres URL --out …` measures PostgreSQL alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LAYERS = ("api", "cli", "graph", "jobs", "sdk")
TARGET_SPEEDUP = 2.0


def _env(db: Path | str, pythonpath: Path | None = None) -> dict:
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    env = dict(os.environ, CLIENTSTRATA_DATABASE_URL=url, CLIENTSTRATA_PROGRESS="0")
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def _fresh(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def _checkout(ref: str, work: Path) -> Path:
    """`ref`'s code as an importable `clientstrata` package (a folder to put on PYTHONPATH)."""
    src, pkg = work / "before-src", work / "before-pkg"
    shutil.rmtree(src, ignore_errors=True)
    shutil.rmtree(pkg, ignore_errors=True)
    src.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, *LAYERS], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
    (pkg / "clientstrata").mkdir(parents=True)
    for layer in LAYERS:
        (pkg / "clientstrata" / layer).symlink_to(src / layer)
    found = subprocess.run(
        [sys.executable, "-c", "import clientstrata.jobs.ingest.load as m; print(m.__file__)"],
        env=_env(work / "unused.db", pkg),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert found.startswith(str(pkg)), f"the before code did not shadow this tree's: {found}"
    return pkg


def _empty_postgres(url: str) -> None:
    drop = (
        "import sqlalchemy as sa, sys; e = sa.create_engine(sys.argv[1])\n"
        "with e.begin() as c: c.execute(sa.text('DROP SCHEMA public CASCADE')); c.execute(sa.text('CREATE SCHEMA public'))"
    )
    subprocess.run([sys.executable, "-c", drop, url], check=True)


def _ingest(bundle: Path, db: Path | str, pythonpath: Path | None) -> dict:
    if isinstance(db, str):
        _empty_postgres(db)
    else:
        _fresh(db)
    started, cpu = time.perf_counter(), _children_cpu()
    out = subprocess.run(
        [sys.executable, "-m", "clientstrata.cli.main", "ingest", str(bundle), "--json"],
        env=_env(db, pythonpath),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    seconds = time.perf_counter() - started
    report = json.loads(out.strip().splitlines()[-1])
    return {
        "seconds": seconds,
        "cpu_seconds": _children_cpu() - cpu,
        "read": report["read"],
        "loaded": report["loaded"],
        "quarantined": report["quarantined"],
    }


def _children_cpu() -> float:
    """CPU seconds (user + system, every thread) of the child processes waited for so far: one
    process's own, as the difference around it, whatever else the machine is running."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _baseline(bundle: Path, db: Path) -> dict:
    _fresh(db)
    schema = (
        "from clientstrata.graph.record.db import engine_for, migrate; import sys; migrate(engine_for(sys.argv[1]))"
    )
    subprocess.run([sys.executable, "-c", schema, f"sqlite:///{db}"], check=True, env=_env(db))
    cpu = _children_cpu()
    out = subprocess.run(
        [sys.executable, str(HERE / "baselines" / "sqlite_ingest.py"), str(bundle), str(db)],
        check=True,
        capture_output=True,
        text=True,
        env=_env(db),
    ).stdout
    return {**json.loads(out.strip().splitlines()[-1]), "cpu_seconds": _children_cpu() - cpu}


def _summary(runs: list[dict]) -> dict:
    seconds = statistics.median(r["seconds"] for r in runs)
    rows = runs[0].get("read", runs[0].get("rows"))
    cpu = [r["cpu_seconds"] for r in runs if "cpu_seconds" in r]
    return {
        "runs_seconds": [round(r["seconds"], 2) for r in runs],
        "median_seconds": round(seconds, 2),
        **(
            {"runs_cpu_seconds": [round(c, 2) for c in cpu], "median_cpu_seconds": round(statistics.median(cpu), 2)}
            if cpu
            else {}
        ),
        "rows": rows,
        "rows_per_second": round(rows / seconds),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--before", default="main", help="the commit whose ingest is the 'before' (default main)")
    p.add_argument("--bundle", type=Path, help="an existing bundle of --customers customers")
    p.add_argument("--workdir", type=Path)
    p.add_argument("--out", type=Path)
    p.add_argument(
        "--postgres",
        metavar="URL",
        help="also ingest new and before once each into this PostgreSQL database (emptied first: DROP SCHEMA public)",
    )
    args = p.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    bundle = args.bundle or work / "bundle"
    if not bundle.exists():
        cli = [sys.executable, "-m", "clientstrata.cli.main", "generate", "--customers", str(args.customers)]
        cmd = [*cli, "--seed", str(args.seed), "--out", str(bundle), "--json"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=_env(work / "unused.db"))
    before_pkg = _checkout(args.before, work)
    before_commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", args.before], check=True, capture_output=True, text=True
    ).stdout.strip()
    new_commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    edited = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", *LAYERS], check=True, capture_output=True, text=True
    ).stdout.strip()
    new_commit += "+edits" if edited else ""  # the tree measured is not that commit's code

    runs: dict[str, list[dict]] = {"new": [], "before": [], "baseline": []}
    load = [os.getloadavg()]
    for i in range(args.repeat):
        runs["new"].append(_ingest(bundle, work / "new.db", None))
        runs["before"].append(_ingest(bundle, work / "before.db", before_pkg))
        runs["baseline"].append(_baseline(bundle, work / "baseline.db"))
        load.append(os.getloadavg())
        shown = (f"{k} {v[-1]['seconds']:.1f} s ({v[-1]['cpu_seconds']:.1f} s CPU)" for k, v in runs.items())
        print(f"round {i + 1}: " + ", ".join(shown), flush=True)
    pg_runs: dict[str, dict] = {}
    if args.postgres:  # one round: the server is shared with the other backends' work
        for name, pkg in (("new", None), ("before", before_pkg)):
            pg_runs[name] = _ingest(bundle, args.postgres, pkg)
            print(f"postgres {name}: {pg_runs[name]['seconds']:.1f} s", flush=True)
        load.append(os.getloadavg())
    counted = runs["new"] + runs["before"] + list(pg_runs.values())
    same = all(r[k] == counted[0][k] for r in counted for k in ("read", "loaded", "quarantined"))
    assert same, "before and new disagree on what was read, loaded or quarantined"

    results = {name: _summary(r) for name, r in runs.items() if r}
    result = {
        "customers": args.customers,
        "seed": args.seed,
        "repeat": args.repeat,
        "rows": counted[0]["read"],
        "commits": {"new": new_commit, "before": before_commit},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m_per_round": [round(x[0], 2) for x in load],
        },
        "results": results,
        "target_speedup": TARGET_SPEEDUP,
        "same_rows_loaded_and_quarantined": same,
    }
    if results:
        speedup = results["before"]["median_seconds"] / results["new"]["median_seconds"]
        result["new_vs_before_speedup"] = round(speedup, 2)
        result["within_target"] = speedup >= TARGET_SPEEDUP
        result["new_vs_before_cpu_ratio"] = round(
            results["before"]["median_cpu_seconds"] / results["new"]["median_cpu_seconds"], 2
        )
        result["baseline_vs_new_rows_per_second"] = round(
            results["baseline"]["rows_per_second"] / results["new"]["rows_per_second"], 2
        )
        result["baseline_vs_before_rows_per_second"] = round(
            results["baseline"]["rows_per_second"] / results["before"]["rows_per_second"], 2
        )
    if pg_runs:
        pg = {name: _summary([r]) for name, r in pg_runs.items()}
        pg["new_vs_before_speedup"] = round(pg["before"]["median_seconds"] / pg["new"]["median_seconds"], 2)
        result["postgres"] = pg
    out = args.out or HERE / "results" / f"ingest-{args.customers}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    for name, r in results.items():
        print(
            f"{name:8s} {r['median_seconds']:8.2f} s  {r['median_cpu_seconds']:8.2f} s CPU  "
            f"{r['rows_per_second']:>9,} rows/s"
        )
    for key in ("new_vs_before_speedup", "new_vs_before_cpu_ratio", "baseline_vs_new_rows_per_second", "postgres"):
        if key in result:
            print(f"{key}: {result[key]}")
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
