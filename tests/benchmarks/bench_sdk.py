"""SDK bulk-pull benchmark: rows per second of full pulls through `clientstrata.sdk.Client` over real
HTTP against `clientstrata serve` — `customers()`, `changes()` (the `classificationChangeTable` bulk
path) and the change feed as the SDK pulled it before, one GraphQL object per change
(`classificationChanges`, pages of 9,999). Each is the median of `--repeats` pulls.

A script, not a test:
    python tests/benchmarks/bench_sdk.py --customers 20000
PostgreSQL: set CLIENTSTRATA_DATABASE_URL (else SQLite in --workdir). The bank is generated with
`clientstrata generate`, ingested, synced (embedded graph) and classified once into --workdir and
reused. The client shares the machine with the server, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from gql import gql

from clientstrata.sdk import Client

TARGET_SECONDS_PER_100K = 4.0  # issue 15: customers() and the change feed, 100,000 rows each
HERE = Path(__file__).resolve().parent
CLI = [sys.executable, "-m", "clientstrata.cli.main"]
OBJECTS = gql("""query($first: Int!, $after: String) { classificationChanges(first: $first, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { node { seq at source runId overrideId customerId dimension oldValue newValue } } } }""")


def _run(env: dict, *args: str) -> dict:
    out = subprocess.run([*CLI, *args, "--json"], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def prepare(workdir: Path, customers: int, env: dict) -> dict:
    """Generate, ingest, sync and classify once; later runs reuse the database."""
    marker = workdir / "prepared.json"
    if marker.exists():
        return json.loads(marker.read_text())
    workdir.mkdir(parents=True, exist_ok=True)
    timings = {}
    for name, args in [
        ("generate", ("generate", "--customers", str(customers), "--seed", "7", "--out", str(workdir / "bundle"))),
        ("ingest", ("ingest", str(workdir / "bundle"))),
        ("sync_graph", ("sync-graph",)),
        ("classify", ("classify",)),
    ]:
        t = time.perf_counter()
        _run(env, *args)
        timings[name] = round(time.perf_counter() - t, 1)
        print(f"  {name}: {timings[name]} s", flush=True)
    marker.write_text(json.dumps(timings))
    return timings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _object_pull(client: Client) -> int:
    """The change feed as `changes()` pulled it before the bulk path: nodes, then a frame."""
    import pandas as pd

    nodes, _ = client._nodes(OBJECTS, "classificationChanges", 9_999, "changes")
    df = pd.DataFrame([list(n.values()) for n in nodes])
    return len(df)


def measure(name: str, pull, repeats: int) -> dict:
    seconds, rows = [], 0
    for _ in range(repeats):
        t = time.perf_counter()
        rows = pull()
        seconds.append(time.perf_counter() - t)
    median = statistics.median(seconds)
    out = {
        "rows": rows,
        "repeats": repeats,
        "seconds": [round(s, 2) for s in seconds],
        "median_seconds": round(median, 2),
        "rows_per_second": round(rows / median),
    }
    print(f"  {name:<22} {rows:>9,} rows  median {median:6.2f} s  {out['rows_per_second']:>9,} rows/s", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--page-size", type=int, default=10_000, help="the Client's page_size (its default)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--object-path-repeats",
        type=int,
        default=None,
        help="pulls of the old object path (default: --repeats; 0 skips it, as it takes minutes at 100k)",
    )
    args = ap.parse_args()
    object_repeats = args.repeats if args.object_path_repeats is None else args.object_path_repeats
    load_at_start = round(os.getloadavg()[0], 2)  # the machine may be shared: say how busy it was
    workdir = args.workdir or Path(f"/tmp/clientstrata-bench-sdk-{args.customers}")
    env = {
        **os.environ,
        "CLIENTSTRATA_PROGRESS": "0",
        "CLIENTSTRATA_DATABASE_URL": os.environ.get("CLIENTSTRATA_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}",
    }
    env.pop("CLIENTSTRATA_NEO4J_URI", None)  # the embedded graph: these pulls never read it
    print(f"preparing {args.customers:,} customers in {workdir}…", flush=True)
    prep = prepare(workdir, args.customers, env)
    token = _run(env, "token", "create", "--role", "marketing_analyst", "--name", "sdk benchmark")["token"]
    port = _free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        client = Client(url, token, progress=False, page_size=args.page_size, timeout=300)
        client.customers(dimensions=[])  # warm the server's pools and the database's pages
        results = {
            "customers": measure("customers()", lambda: len(client.customers()), args.repeats),
            "changes": measure("changes()", lambda: len(client.changes()), args.repeats),
        }
        if object_repeats:
            results["changes_object_path"] = measure(
                "changes, object path", lambda: _object_pull(client), object_repeats
            )
    finally:
        server.terminate()
        server.wait(30)
    ratio = results["changes"]["rows_per_second"] / results["customers"]["rows_per_second"]
    speedup = (
        results["changes"]["rows_per_second"] / results["changes_object_path"]["rows_per_second"]
        if "changes_object_path" in results
        else None
    )
    # the target: 100,000 rows of either in under 4 s
    per_100k = {k: round(100_000 / r["rows_per_second"], 2) for k, r in results.items()}
    print(f"  changes() rows/s ÷ customers() rows/s = {ratio:.2f}; ÷ object path = {speedup or float('nan'):.1f}")
    print(f"  seconds per 100,000 rows: {per_100k} (target: under {TARGET_SECONDS_PER_100K} s)")
    out = {
        "customers": args.customers,
        "database": env["CLIENTSTRATA_DATABASE_URL"].split(":")[0],
        "page_size": args.page_size,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_1m_at_start": load_at_start,
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
        ).stdout.strip(),
        "prepare_seconds": prep,
        "results": results,
        "changes_vs_customers_rows_per_second": round(ratio, 2),
        "changes_vs_object_path_speedup": round(speedup, 1) if speedup else None,
        "seconds_per_100k_rows": per_100k,
        "target_seconds_per_100k_rows": TARGET_SECONDS_PER_100K,
    }
    dest = args.out or HERE / "results" / f"sdk-{args.customers}.json"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(out, indent=2))
    print(f"saved {dest}")


if __name__ == "__main__":
    main()
