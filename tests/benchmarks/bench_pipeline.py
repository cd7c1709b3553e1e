"""Pipeline benchmark on the embedded default (SQLite + networkx). A script, not a test:

    .venv/bin/python tests/benchmarks/bench_pipeline.py --customers 100000 [--profile classify]

Generates a bank of N customers (twelve months of transactions) in a temporary folder and
times each stage as its own process through the CLI — generate, ingest, sync-graph,
features, classify (features + every dimension + publish) and clusters (behaviour features,
k-means fit and assignment) — so every stage's peak RSS is its own. Peak RSS is the larger
of the kernel's figure for the stage's process and its reaped children (os.wait4) and the
summed RSS of the whole process tree sampled every 0.1 s (psutil, when installed).

Writes tests/benchmarks/results/pipeline-<N>.json and prints a table with seconds,
customers/second and peak RSS per stage, against the targets (classification of 1M
customers in under 5 minutes and 8 GB). The 1M figures are linear extrapolations. The machine
may be shared: every stage records the load average before and after and its own CPU seconds,
and ingest its input rows per second (wall and CPU).

At 1M customers the stages take long; run them in parts on one kept work dir and let each part
add to the same JSON:

    bench_pipeline.py --customers 1000000 --workdir /data/b1m --stages generate
    bench_pipeline.py --customers 1000000 --workdir /data/b1m --stages ingest sync-graph --merge

With --postgres the record goes to the PostgreSQL database named by the environment variable
CLIENTSTRATA_BENCH_POSTGRES_URL (a secret, so never an argument); the graph stays networkx in the
work dir. The database must be empty or hold only this bank: ingest adds to what is there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_CLASSIFY_1M_SECONDS = 300
TARGET_PEAK_RSS_GB = 8.0
TARGET_STRATEGY_1M_SECONDS = 60  # what the strategy stage may add to a run at 1M (issue 13)
# the run's phases that are its strategy stage: packages, next-best actions, points (积分)
STRATEGY_PHASES = ("strategy", "next-best actions", "points")

# The feature build alone (what classify does before any dimension: the wide features in keyset
# ranges of customers, the enterprise features), plus the behaviour features of the segments.
_FEATURES = """
import json, sys
from clientstrata.graph.record.db import get_engine
from clientstrata.jobs.classification import features as F
from clientstrata.jobs.classification.segments import behaviour_features
from clientstrata.jobs.classification.standard import load_standard
engine, std = get_engine(), load_standard()
with engine.connect() as conn:  # the ecosystem counts come from SQL: the graph is not read
    rows = cols = behaviour = 0
    for part in F.iter_individual_features(conn, std, progress=False):
        rows, cols = rows + len(part), part.shape[1]
        behaviour = behaviour_features(part).shape[1]
    shape = {"features": [rows, cols], "enterprises": list(F.enterprise_features(conn, std).shape)}
    shape["behaviour"] = [rows, behaviour]
print(json.dumps(shape))
"""


def _stages(n: int, seed: int, work: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "clientstrata.cli.main"]
    return {
        "generate": [
            *cli,
            "generate",
            "--customers",
            str(n),
            "--seed",
            str(seed),
            "--out",
            str(work / "bundle"),
            "--json",
        ],
        "ingest": [*cli, "ingest", str(work / "bundle"), "--json"],
        "sync-graph": [*cli, "sync-graph", "--json"],
        "features": [sys.executable, "-c", _FEATURES],
        "classify": [*cli, "classify", "--json"],
        "clusters": [*cli, "report", "clusters", "--fit", "--json"],
    }


STAGES = ("generate", "ingest", "sync-graph", "features", "classify", "clusters")


class _TreeSampler(threading.Thread):
    """Peak of the summed RSS of a process and all its descendants."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self._halt = pid, every, 0, threading.Event()

    def run(self) -> None:
        try:
            import psutil

            root = psutil.Process(self.pid)
        except Exception:  # psutil missing or the process already gone
            return
        while not self._halt.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            except Exception:
                pass
            self._halt.wait(self.every)

    def stop(self) -> int:
        self._halt.set()
        self.join(timeout=2)
        return self.peak


def _size_mb(path: Path) -> float:
    if path.is_file():
        return round(path.stat().st_size / 2**20, 1)
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1) if path.exists() else 0.0


def _postgres_mb(env: dict) -> float | None:
    """The PostgreSQL database's size on disk (tables, indexes, TOAST), as the server counts it."""
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(env["CLIENTSTRATA_DATABASE_URL"])
        with engine.connect() as conn:
            size = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
        engine.dispose()
        return round(size / 2**20, 1)
    except Exception:  # the server is gone: the figure is missing, the timings stand
        return None


def run_stage(name: str, cmd: list[str], env: dict, log: Path, n: int) -> dict:
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = _TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)  # rusage of this child and its reaped children
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    tree = sampler.stop()
    maxrss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)  # Linux reports KiB
    lines = log.read_text(errors="replace").strip().splitlines()
    try:
        output = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        output = {"last_line": lines[-1][:500]}
    cpu = usage.ru_utime + usage.ru_stime
    rows = (output or {}).get("read") if name == "ingest" and isinstance(output, dict) else None
    extra = (
        {
            "rows_read": rows,
            "rows_per_second": round(rows / seconds, 1),
            "rows_per_cpu_second": round(rows / cpu, 1) if cpu else None,
        }
        if rows
        else {}
    )
    return {
        "stage": name,
        "seconds": round(seconds, 2),
        "customers_per_second": round(n / seconds, 1),
        **extra,
        "peak_rss_mb": round(max(maxrss, tree) / 2**20, 1),
        "peak_rss_process_mb": round(maxrss / 2**20, 1),
        "peak_rss_tree_sampled_mb": round(tree / 2**20, 1) if tree else None,
        "cpu_user_s": round(usage.ru_utime, 2),
        "cpu_system_s": round(usage.ru_stime, 2),
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # shared machine: context
        "exit_code": proc.returncode,
        "output": output,
    }


def profile_stage(name: str, cmd: list[str], env: dict, work: Path, top: int = 25) -> str:
    """Run the stage again under cProfile and return its top functions by own time."""
    prof = work / f"{name}.prof"
    if cmd[1] == "-m":
        pcmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", *cmd[2:]]
    else:
        script = work / f"{name}.py"
        script.write_text(cmd[2])
        pcmd = [sys.executable, "-m", "cProfile", "-o", str(prof), str(script)]
    subprocess.run(pcmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, check=False)
    from io import StringIO

    buf = StringIO()
    stats = pstats.Stats(str(prof), stream=buf)
    stats.sort_stats("tottime").print_stats(top)
    buf.write("\n--- by cumulative time ---\n")
    stats.sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--stages",
        nargs="+",
        choices=STAGES,
        default=list(STAGES),
        help="stages to run (each needs the ones before it; default: all)",
    )
    p.add_argument("--out", type=Path, help="JSON result file (default: results/pipeline-<N>.json)")
    p.add_argument("--workdir", type=Path, help="where the bundle and database go; kept (default: a temp dir, removed)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir")
    p.add_argument("--profile", choices=STAGES, help="afterwards, re-run this stage under cProfile")
    p.add_argument(
        "--postgres",
        action="store_true",
        help="the record in PostgreSQL at $CLIENTSTRATA_BENCH_POSTGRES_URL instead of SQLite",
    )
    p.add_argument(
        "--merge",
        action="store_true",
        help="keep the other stages' results already in the JSON file (stages run in parts)",
    )
    args = p.parse_args(argv)

    n = args.customers
    work = Path(args.workdir or tempfile.mkdtemp(prefix=f"clientstrata-bench-{n}-"))
    args.keep = args.keep or args.workdir is not None
    work.mkdir(parents=True, exist_ok=True)
    out = args.out or HERE / "results" / f"pipeline-{n}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIENTSTRATA_")}
    env.update(CLIENTSTRATA_DATABASE_URL=f"sqlite:///{work / 'clientstrata.db'}", CLIENTSTRATA_PROGRESS="0")
    backend = "sqlite+networkx"
    if args.postgres:
        url = os.environ.get("CLIENTSTRATA_BENCH_POSTGRES_URL")
        if not url:
            p.error("--postgres needs CLIENTSTRATA_BENCH_POSTGRES_URL in the environment")
        env.update(CLIENTSTRATA_DATABASE_URL=url, CLIENTSTRATA_GRAPH_PATH=str(work / "clientstrata.graph.pkl"))
        backend = "postgresql+networkx"
    cmds = _stages(n, args.seed, work)
    results: list[dict] = []
    print(f"benchmark: {n:,} customers in {work} ({backend})", flush=True)
    try:
        for name in args.stages:
            r = run_stage(name, cmds[name], env, work / f"{name}.log", n)
            results.append(r)
            rows = f"  {r['rows_per_second']:>9,.0f} rows/s" if r.get("rows_per_second") else ""
            print(
                f"  {name:<11} {r['seconds']:>9.1f} s  {r['customers_per_second']:>10,.0f} customers/s  "
                f"peak RSS {r['peak_rss_mb']:>8,.0f} MB  cpu {r['cpu_user_s'] + r['cpu_system_s']:>8.1f} s  "
                f"load {r['load_avg_1m'][1]:.1f}  exit {r['exit_code']}{rows}",
                flush=True,
            )
            if r["exit_code"] != 0:
                print(f"stage {name} failed; see {work / (name + '.log')}", file=sys.stderr)
                args.keep = True
                break
        profile = profile_stage(args.profile, cmds[args.profile], env, work) if args.profile else None
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    disk = (
        {
            "bundle_mb": _size_mb(work / "bundle"),
            "database_mb": _postgres_mb(env) if args.postgres else _size_mb(work / "clientstrata.db"),
            "graph_file_mb": _size_mb(
                work / ("clientstrata.graph.pkl" if args.postgres else "clientstrata.db.graph.pkl")
            ),
        }
        if args.keep
        else None
    )
    if args.merge and out.exists():  # stages run in parts: the earlier parts' results stay
        ran = {r["stage"] for r in results}
        earlier = [r for r in json.loads(out.read_text()).get("stages", []) if r["stage"] not in ran]
        results = sorted(earlier + results, key=lambda r: STAGES.index(r["stage"]))
    factor = 1_000_000 / n
    by = {r["stage"]: r for r in results}
    extrapolated = {r["stage"]: round(r["seconds"] * factor, 1) for r in results}
    classify_1m = extrapolated.get("classify")
    phases = ((by.get("classify") or {}).get("output") or {}).get("seconds") or {}
    strategy_s = round(sum(float(phases.get(p, 0.0)) for p in STRATEGY_PHASES), 2) if phases else None
    strategy_1m = round(strategy_s * factor, 1) if strategy_s is not None else None
    rss = max((r["peak_rss_mb"] for r in results), default=0) / 1024
    report = {
        "customers": n,
        "seed": args.seed,
        "backend": backend,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "disk": disk,
        "rows": (by.get("generate", {}).get("output") or {}).get("rows"),
        "stages": results,
        "targets": {
            "classify_1m_seconds": TARGET_CLASSIFY_1M_SECONDS,
            "strategy_stage_1m_seconds": TARGET_STRATEGY_1M_SECONDS,
            "peak_rss_gb": TARGET_PEAK_RSS_GB,
        },
        "strategy_stage": {
            "phases": {p: phases.get(p) for p in STRATEGY_PHASES},
            "seconds": strategy_s,
            "extrapolated_1m_seconds": strategy_1m,
            "within_target": strategy_1m is not None and strategy_1m <= TARGET_STRATEGY_1M_SECONDS,
        },
        "extrapolated_1m_seconds_linear": extrapolated,
        "classify_peak_rss_gb": round(by["classify"]["peak_rss_mb"] / 1024, 3) if "classify" in by else None,
        "classify_1m_within_target": (classify_1m is not None and classify_1m < TARGET_CLASSIFY_1M_SECONDS),
        "max_peak_rss_gb": round(rss, 3),
        "ok": all(r["exit_code"] == 0 for r in results) and {r["stage"] for r in results} >= set(args.stages),
    }
    if profile:
        report["profile_stage"] = args.profile
        prof_file = out.with_name(f"profile-{args.profile}-{n}.txt")
        prof_file.parent.mkdir(parents=True, exist_ok=True)
        prof_file.write_text(profile)
        report["profile_file"] = str(prof_file.name)
        print(f"\nprofile of {args.profile} (top by own time) in {prof_file}")
        print("\n".join(profile.splitlines()[:45]))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    if classify_1m is not None:
        print(
            f"classify, extrapolated to 1M: {classify_1m:,.0f} s (target < {TARGET_CLASSIFY_1M_SECONDS} s); "
            f"its peak RSS {report['classify_peak_rss_gb']:.2f} GB at {n:,} (target < {TARGET_PEAK_RSS_GB} GB at 1M)"
        )
    if strategy_s is not None:
        print(
            f"strategy stage (packages, next-best actions, points): {strategy_s:,.1f} s at {n:,}, "
            f"extrapolated to 1M: {strategy_1m:,.0f} s (target <= {TARGET_STRATEGY_1M_SECONDS} s)"
        )
    print(f"wrote {out}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
