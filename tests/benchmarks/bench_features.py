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
    args = p.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-features-"))
    work.mkdir(parents=True, exist_ok=True)
    db = _bank(args.customers, args.seed, work, args.database_url)

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
