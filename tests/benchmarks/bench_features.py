"""Features benchmark: the old per-range SQL + pandas build, the DuckDB features the run uses,
and a hand-written DuckDB baseline, on the same generated bank in the same process. A script:

    .venv/bin/python tests/benchmarks/bench_features.py --customers 20000 [--repeat 3]
    .venv/bin/python tests/benchmarks/bench_features.py --customers 20000 --database-url postgresql+psycopg://…

Generates and ingests a bank of N customers into SQLite (through the CLI, in a work folder that
`--workdir` keeps for another run), then times each build `--repeat` times, alternating, and
reports the medians (seconds, customers/second) and the ratios new/old and new/baseline (target:
new within 1.5x of the baseline). Writes tests/benchmarks/results/features-<N>.json.

old       tests/benchmarks/baselines/per_range_features.py (ranges in worker processes, as before)
new       features.individual_features: Arrow extracts through SQLAlchemy, DuckDB, pandas frame
baseline  tests/benchmarks/baselines/duckdb_features.py: ADBC SQLite (PostgreSQL) into Arrow, the same SQL, Arrow out
cursor    PostgreSQL only: the new build reading the extracts row by row, as it did before COPY

`--phases` times the features build in its two phases instead, each round in a process of its
own, alternating this code (`new`) with another checkout's (`main`: `--main-code DIR`, a folder
holding that checkout's packages as DIR/clientstrata, e.g. `git archive REF --prefix=clientstrata/
api cli graph jobs sdk | tar -x -C DIR`, first on PYTHONPATH for its rounds):

    .venv/bin/python tests/benchmarks/bench_features.py --phases --main-code DIR --workdir W [--repeat 3]

and reports per build the medians of: the fetch (`read_tables`: wall and CPU seconds, its
ADBC child's included), the Arrow bytes of every extract, the DuckDB query (wall and CPU), and
the peak RSS of the build (the process and its children, sampled), and whether both builds gave
the same frame. Writes tests/benchmarks/results/features-phases-<N>[-postgres].json.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "baselines"))
TARGET_RATIO = 1.5


def _bank(n: int, seed: int, work: Path, url: str | None = None) -> Path:
    db = work / "clientstrata.db"
    done = work / "ingested-postgres" if url else db
    if done.exists():
        return db
    env = dict(os.environ, CLIENTSTRATA_DATABASE_URL=url or f"sqlite:///{db}", CLIENTSTRATA_PROGRESS="0")
    cli = [sys.executable, "-m", "clientstrata.cli.main"]
    bundle = work / "bundle"
    for cmd in (
        [*cli, "generate", "--customers", str(n), "--seed", str(seed), "--out", str(bundle), "--json"],
        [*cli, "ingest", str(bundle), "--json"],
    ):
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    if url:
        done.write_text(url.split("@")[-1] + "\n")
    return db


def _phase_child(url: str, frame_out: str | None) -> None:
    """One features build in this process, as `engine.duckdb_raw` does it, timed by phase; prints
    one JSON line. Runs whichever `clientstrata` is first on the path (this code or `--main-code`)."""
    import datetime as dt

    import duckdb

    from clientstrata.graph.config import settings
    from clientstrata.graph.record.db import engine_for
    from clientstrata.jobs.classification.features.engine import conform, feature_query
    from clientstrata.jobs.classification.features.extract import read_tables
    from clientstrata.jobs.classification.standard import load_standard

    def cpu() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def peak_mb() -> float:
        import resource

        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

    engine = engine_for(url)
    out: dict = {}
    with engine.connect() as conn:
        query, as_of, has_txn = feature_query(conn, load_standard())
        since = dt.datetime.combine(as_of - dt.timedelta(days=365), dt.time())
        w, c = time.perf_counter(), cpu()
        tables = read_tables(conn, since)
        out["fetch_seconds"], out["fetch_cpu_seconds"] = time.perf_counter() - w, cpu() - c
        out["peak_rss_after_fetch_mb"] = peak_mb()
        out["arrow_bytes"] = {t: a.get_total_buffer_size() for t, a in tables.items()}
        out["arrow_bytes_total"] = sum(out["arrow_bytes"].values())
        out["rows"] = {t: a.num_rows for t, a in tables.items()}
        out["types"] = {
            t: {f.name: str(f.type) for f in a.schema} for t, a in tables.items() if t in ("transactions", "accounts")
        }
        memory_mb = settings().features_memory_mb
        db = duckdb.connect(
            ":memory:",
            config={
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "memory_limit": f"{memory_mb}MB",
                "temp_directory": tempfile.mkdtemp(prefix="bench-spill-"),
            },
        )
        for name, table in tables.items():
            db.register(name, table)
        w, c = time.perf_counter(), cpu()
        raw = db.execute(query.sql).df()
        out["query_seconds"], out["query_cpu_seconds"] = time.perf_counter() - w, cpu() - c
        db.close()
        w = time.perf_counter()
        frame = conform(raw, query, as_of, has_txn)
        out["conform_seconds"] = time.perf_counter() - w
        out["peak_rss_mb_self"] = peak_mb()
        out["shape"] = list(frame.shape)
        if frame_out:
            frame.to_pickle(frame_out)
    engine.dispose()
    print(json.dumps(out))


def _phases(args, url: str, work: Path) -> int:
    """`--phases`: this code and `--main-code`'s alternating, a process per build (see the docstring)."""
    import pandas as pd
    from bench_pipeline import run_stage

    codes = {"main": str(args.main_code.resolve()), "new": None}
    rounds: dict[str, list[dict]] = {k: [] for k in codes}
    for i in range(args.repeat):
        for label, path in codes.items():
            env = dict(os.environ, CLIENTSTRATA_PROGRESS="0")
            if path:
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [path, env.get("PYTHONPATH")]))
            frame = work / f"frame-{label}.pkl" if i == 0 else None
            cmd = [sys.executable, str(Path(__file__).resolve()), "--phase-child", url]
            cmd += ["--frame-out", str(frame)] if frame else []
            got = run_stage(f"features-{label}", cmd, env, work / f"phase-{label}-{i}.log", args.customers)
            if got["exit_code"] != 0 or not isinstance(got["output"], dict) or "shape" not in got["output"]:
                raise SystemExit(f"{label} round {i} failed: see {work / f'phase-{label}-{i}.log'}")
            rounds[label].append(got)
            o = got["output"]
            print(
                f"round {i} {label:4s} fetch {o['fetch_seconds']:7.2f} s (cpu {o['fetch_cpu_seconds']:7.2f})  "
                f"arrow {o['arrow_bytes_total'] / 2**20:8.1f} MB  query {o['query_seconds']:6.2f} s  "
                f"peak {got['peak_rss_mb']:7.1f} MB  load {got['load_avg_1m'][1]:.1f}",
                flush=True,
            )
    same = True
    try:
        pd.testing.assert_frame_equal(
            pd.read_pickle(work / "frame-new.pkl"),
            pd.read_pickle(work / "frame-main.pkl"),
            check_exact=False,
            rtol=1e-9,
            atol=1e-6,
        )
    except AssertionError as e:
        same, diff = False, str(e)[:2000]
        print(diff)

    def med(label: str, key: str, inner: bool = True) -> float:
        return statistics.median((r["output"] if inner else r)[key] for r in rounds[label])

    keys = ("fetch_seconds", "fetch_cpu_seconds", "query_seconds", "query_cpu_seconds", "conform_seconds")
    summary = {
        label: {
            **{k: round(med(label, k), 3) for k in keys},
            "peak_rss_mb": med(label, "peak_rss_mb", inner=False),
            "peak_rss_process_mb": med(label, "peak_rss_process_mb", inner=False),
            "build_seconds": round(med(label, "seconds", inner=False), 3),
            "arrow_mb_total": round(rounds[label][0]["output"]["arrow_bytes_total"] / 2**20, 1),
            "arrow_mb": {t: round(b / 2**20, 2) for t, b in rounds[label][0]["output"]["arrow_bytes"].items()},
        }
        for label in codes
    }
    ratios = {
        k: round(summary["main"][k] / summary["new"][k], 2)
        for k in (
            "fetch_seconds",
            "fetch_cpu_seconds",
            "query_seconds",
            "query_cpu_seconds",
            "peak_rss_mb",
            "arrow_mb_total",
            "build_seconds",
        )
        if summary["new"][k]
    }
    report = {
        "customers": args.customers,
        "database": "postgresql" if args.database_url else "sqlite",
        "repeat": args.repeat,
        "main_code": str(args.main_code),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "same_frame": same,
        "median": summary,
        "main_over_new": ratios,
        "rounds": rounds,
    }
    suffix = "-postgres" if args.database_url else ""
    out = args.out or HERE / "results" / f"features-phases-{args.customers}{suffix}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    for label, m in summary.items():
        print(
            f"{label:4s} median: fetch {m['fetch_seconds']:.2f} s (cpu {m['fetch_cpu_seconds']:.2f}), "
            f"arrow {m['arrow_mb_total']:.1f} MB, query {m['query_seconds']:.2f} s, peak {m['peak_rss_mb']:.0f} MB"
        )
    print(f"main/new: {ratios}; same frame: {same}")
    return 0 if same else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--workdir", type=Path)
    p.add_argument("--out", type=Path)
    p.add_argument(
        "--database-url",
        help="a PostgreSQL database (postgresql+psycopg://…) to ingest into and read from instead of SQLite; "
        "the baseline is then ADBC's PostgreSQL driver, and `cursor` times the new build reading row by row",
    )
    p.add_argument("--phases", action="store_true", help="time fetch and query, this code against --main-code")
    p.add_argument("--main-code", type=Path, help="a folder holding another checkout as DIR/clientstrata")
    p.add_argument("--phase-child", metavar="URL", help=argparse.SUPPRESS)
    p.add_argument("--frame-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.phase_child:
        _phase_child(args.phase_child, args.frame_out)
        return 0
    if args.phases and not args.main_code:
        p.error("--phases needs --main-code DIR")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-features-"))
    work.mkdir(parents=True, exist_ok=True)
    db = _bank(args.customers, args.seed, work, args.database_url)
    if args.phases:
        return _phases(args, args.database_url or f"sqlite:///{db}", work)

    import duckdb_features
    import per_range_features

    from clientstrata.graph.record.db import engine_for
    from clientstrata.jobs.classification import features as F
    from clientstrata.jobs.classification.features._sql import scalar
    from clientstrata.jobs.classification.standard import load_standard

    std = load_standard()
    url = args.database_url or f"sqlite:///{db}"
    engine = engine_for(url)
    with engine.connect() as conn:
        as_of = F.reference_date(conn)
        months = F.reference.recent_months(conn, as_of)
        has_txn = scalar(conn, "SELECT 1 FROM transactions LIMIT 1") is not None
        builds = {
            "old": lambda: per_range_features.individual_features(conn, std, as_of, progress=False).shape,
            "new": lambda: F.individual_features(conn, std, as_of, progress=False).shape,
        }
        if args.database_url:
            import sqlalchemy as sa

            from clientstrata.jobs.classification.features import engine as features_engine
            from clientstrata.jobs.classification.features import extract

            def by_cursor():  # the build as it read PostgreSQL before COPY: the driver's rows
                features_engine.read_tables = functools.partial(extract.read_tables, child_min_bytes=None)
                try:
                    return F.individual_features(conn, std, as_of, progress=False).shape
                finally:
                    features_engine.read_tables = extract.read_tables

            libpq = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
            builds["cursor"] = by_cursor
            builds["baseline"] = lambda: (
                duckdb_features.baseline_features_postgres(libpq, std, as_of, months, has_txn).shape
            )
        else:
            builds["baseline"] = lambda: duckdb_features.baseline_features(str(db), std, as_of, months, has_txn).shape
        times: dict[str, list[float]] = {k: [] for k in builds}
        shapes = {}
        for _ in range(args.repeat):
            for name, build in builds.items():
                t = time.perf_counter()
                shapes[name] = list(build())
                times[name].append(time.perf_counter() - t)
    engine.dispose()
    med = {k: statistics.median(v) for k, v in times.items()}
    report = {
        "customers": args.customers,
        "database": "postgresql" if args.database_url else "sqlite",
        "repeat": args.repeat,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
        "seconds": times,
        "median_seconds": med,
        "customers_per_second": {k: args.customers / v for k, v in med.items()},
        "shapes": shapes,
        "new_vs_old": med["old"] / med["new"],
        "new_vs_baseline": med["new"] / med["baseline"],
        "target_new_vs_baseline": TARGET_RATIO,
        "ok": med["new"] <= TARGET_RATIO * med["baseline"],
    }
    suffix = "-postgres" if args.database_url else ""
    out = args.out or HERE / "results" / f"features-{args.customers}{suffix}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    for k, v in med.items():
        print(f"{k:9s} {v:8.2f} s  {args.customers / v:10.0f} customers/s")
    print(f"new is {report['new_vs_old']:.1f}x faster than old; {report['new_vs_baseline']:.2f}x the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
