"""SDK bulk-pull benchmark: full pulls through `clientstrata.sdk.Client` over real HTTP against
`clientstrata serve` — `customers()`, `changes()` (the `classificationChangeTable` bulk path) and,
optionally, the change feed as the SDK pulled it before the bulk path, one GraphQL object per
change (`classificationChanges`, pages of 9,999). Each figure is the median of `--repeats` pulls.

A script, not a test:
    python tests/benchmarks/bench_sdk.py --customers 20000
    python tests/benchmarks/bench_sdk.py --customers 100000 --workdir /work/bank \\
        --baseline-tree /work/wt-main --out tests/benchmarks/results/sdk-100000-bulk.json

PostgreSQL: set CLIENTSTRATA_DATABASE_URL (else SQLite in --workdir). The bank is generated with
`clientstrata generate`, ingested, synced (embedded graph) and classified once into --workdir and
reused. The client shares the machine with the server, so the figures are a floor.

`--baseline-tree DIR` measures another checkout of the code (its own `.venv`, e.g. main's) beside
this one on the same bank in the same run: a server of each, each pulled by its own SDK in a
worker process, the two alternating round by round so a change in the machine's load falls on
both. Each round also reads the same customer table plainly with pandas
(tests/benchmarks/baselines/customer_table_frames.py: `pandas.read_sql` of the tables, no HTTP),
the floor `customers()` is compared with. The load average is recorded beside every pull.
"""

from __future__ import annotations

import argparse
import contextlib
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

TARGET_SECONDS_PER_100K = 4.0  # issue 15: customers() and the change feed, 100,000 rows each
HERE = Path(__file__).resolve().parent
PLAIN = HERE / "baselines" / "customer_table_frames.py"
OBJECTS = """query($first: Int!, $after: String) { classificationChanges(first: $first, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { node { seq at source runId overrideId customerId dimension oldValue newValue } } } }"""


def _cli(python: str) -> list[str]:
    return [python, "-m", "clientstrata.cli.main"]


def _run(env: dict, *args: str) -> dict:
    out = subprocess.run([*_cli(sys.executable), *args, "--json"], env=env, check=True, capture_output=True, text=True)
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


def _load() -> float:
    return round(os.getloadavg()[0], 2)


# --- the worker: one pull with whichever SDK the interpreter running it imports ------------------


def _object_pull(client) -> int:
    """The change feed as `changes()` pulled it before the bulk path: nodes, then a frame."""
    import pandas as pd
    from gql import gql

    nodes, _ = client._nodes(gql(OBJECTS), "classificationChanges", 9_999, "changes")
    return len(pd.DataFrame([list(n.values()) for n in nodes]))


def worker(url: str, token: str, what: str, page_size: int) -> None:
    """Time one pull (`customers`, `customers_json`: the JSON pages, as without pyarrow; `changes`,
    `objects`) and print {rows, seconds} as JSON."""
    from clientstrata.sdk import Client

    json_pages = {"arrow": False} if what == "customers_json" else {}  # the branch's SDK only
    client = Client(url, token, progress=False, page_size=page_size, timeout=600, **json_pages)
    pull = {
        "customers": lambda: len(client.customers()),
        "customers_json": lambda: len(client.customers()),
        "changes": lambda: len(client.changes()),
        "objects": lambda: _object_pull(client),
    }[what]
    t = time.perf_counter()
    rows = pull()
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - t}))


# --- the driver -----------------------------------------------------------------------------------


@contextlib.contextmanager
def serving(python: str, cwd: Path, env: dict):
    """`clientstrata serve` of the checkout at `cwd` (its interpreter `python`) on a free port."""
    port = _free_port()
    server = subprocess.Popen(
        [*_cli(python), "serve", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.terminate()
        server.wait(30)


def _pull(python: str, cwd: Path, env: dict, url: str, token: str, what: str, page_size: int) -> dict:
    load = _load()
    args = [python, str(Path(__file__).resolve()), "--worker", url, token, what, str(page_size)]
    out = subprocess.run(args, env=env, cwd=cwd, check=True, capture_output=True, text=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    return {**got, "load_avg_1m": load}


def _plain(env: dict, db_url: str) -> dict:
    load = _load()
    out = subprocess.run([sys.executable, str(PLAIN), db_url], env=env, check=True, capture_output=True, text=True)
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "load_avg_1m": load}


def summary(name: str, pulls: list[dict]) -> dict:
    seconds = [p["seconds"] for p in pulls]
    median = statistics.median(seconds)
    rows = pulls[-1]["rows"]
    out = {
        "rows": rows,
        "repeats": len(pulls),
        "seconds": [round(s, 2) for s in seconds],
        "load_avg_1m": [p["load_avg_1m"] for p in pulls],
        "median_seconds": round(median, 2),
        "rows_per_second": round(rows / median),
        "seconds_per_100k_rows": round(median * 100_000 / rows, 2),
    }
    print(
        f"  {name:<30} {rows:>9,} rows  median {median:6.2f} s  {out['rows_per_second']:>9,} rows/s  "
        f"{out['seconds_per_100k_rows']:5.2f} s/100k  loads {out['load_avg_1m']}",
        flush=True,
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--workdir", type=Path, default=None, help="where the bank is built and reused")
    ap.add_argument("--repeats", type=int, default=3, help="rounds; each pulls every tree once")
    ap.add_argument("--page-size", type=int, default=10_000, help="the Client's page_size (its default)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--baseline-tree",
        type=Path,
        default=None,
        help="another checkout (with its .venv) measured beside this one, alternating (e.g. main)",
    )
    ap.add_argument(
        "--object-path-repeats",
        type=int,
        default=None,
        help="pulls of the old object path (default: --repeats; 0 skips it, as it takes minutes at 100k)",
    )
    ap.add_argument("--plain-repeats", type=int, default=None, help="pandas reads of the table (default: --repeats)")
    ap.add_argument("--worker", nargs=4, metavar=("URL", "TOKEN", "WHAT", "PAGE_SIZE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        url, token, what, page_size = args.worker
        worker(url, token, what, int(page_size))
        return
    object_repeats = args.repeats if args.object_path_repeats is None else args.object_path_repeats
    plain_repeats = args.repeats if args.plain_repeats is None else args.plain_repeats
    load_at_start = _load()  # the machine may be shared: say how busy it was
    workdir = args.workdir or Path(f"/tmp/clientstrata-bench-sdk-{args.customers}")
    db_url = os.environ.get("CLIENTSTRATA_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}"
    env = {**os.environ, "CLIENTSTRATA_PROGRESS": "0", "CLIENTSTRATA_DATABASE_URL": db_url}
    env.pop("CLIENTSTRATA_NEO4J_URI", None)  # the embedded graph: these pulls never read it
    print(f"preparing {args.customers:,} customers in {workdir}…", flush=True)
    prep = prepare(workdir, args.customers, env)
    token = _run(env, "token", "create", "--role", "marketing_analyst", "--name", "sdk benchmark")["token"]
    trees = {"branch": (sys.executable, HERE.parents[1])}
    if args.baseline_tree:
        base = args.baseline_tree.resolve()
        trees["baseline_tree"] = (str(base / ".venv" / "bin" / "python"), base)
    pulls: dict[str, list[dict]] = {}
    with contextlib.ExitStack() as stack:
        urls = {name: stack.enter_context(serving(py, cwd, env)) for name, (py, cwd) in trees.items()}
        for name, (py, cwd) in trees.items():  # warm each server's pools and the database's pages
            _pull(py, cwd, env, urls[name], token, "customers", args.page_size)
        for i in range(max(args.repeats, object_repeats, plain_repeats)):
            order = list(trees) if i % 2 == 0 else list(reversed(trees))
            for name in order:
                py, cwd = trees[name]
                for what in ("customers", "changes") if i < args.repeats else ():
                    pulls.setdefault(f"{name}.{what}", []).append(
                        _pull(py, cwd, env, urls[name], token, what, args.page_size)
                    )
                if name == "branch" and i < args.repeats:  # the fallback without pyarrow
                    pulls.setdefault("branch.customers_json", []).append(
                        _pull(py, cwd, env, urls[name], token, "customers_json", args.page_size)
                    )
                if name == "branch" and i < object_repeats:
                    pulls.setdefault("branch.changes_object_path", []).append(
                        _pull(py, cwd, env, urls[name], token, "objects", args.page_size)
                    )
            if i < plain_repeats:
                pulls.setdefault("plain.customer_table_frames", []).append(_plain(env, db_url))
            print(f"  round {i + 1} done (load {_load()})", flush=True)
    results: dict[str, dict] = {}
    for key, got in pulls.items():
        tree, what = key.split(".")
        results.setdefault(tree, {})[what] = summary(key, got)
    branch = results["branch"]
    out = {
        "customers": args.customers,
        "database": db_url.split(":")[0],
        "page_size": args.page_size,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_1m_at_start": load_at_start,
            "load_avg_1m_at_end": _load(),
        },
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
        ).stdout.strip(),
        "prepare_seconds": prep,
        "results": results,
        "seconds_per_100k_rows": {k: v["seconds_per_100k_rows"] for k, v in branch.items()},
        "target_seconds_per_100k_rows": TARGET_SECONDS_PER_100K,
    }
    if "baseline_tree" in results:
        base = results["baseline_tree"]
        out["baseline_tree"] = {
            "path": str(args.baseline_tree),
            "commit": subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=args.baseline_tree
            ).stdout.strip(),
        }
        out["baseline_tree_over_branch"] = {
            k: round(base[k]["median_seconds"] / branch[k]["median_seconds"], 2) for k in branch if k in base
        }
    if "plain" in results:
        plain = results["plain"]["customer_table_frames"]
        out["customers_vs_plain_pandas"] = round(branch["customers"]["median_seconds"] / plain["median_seconds"], 2)
    if "changes_object_path" in branch:
        out["changes_vs_object_path_speedup"] = round(
            branch["changes"]["rows_per_second"] / branch["changes_object_path"]["rows_per_second"], 1
        )
    print(f"  seconds per 100,000 rows: {out['seconds_per_100k_rows']} (target: under {TARGET_SECONDS_PER_100K} s)")
    for key in ("baseline_tree_over_branch", "customers_vs_plain_pandas", "changes_vs_object_path_speedup"):
        if key in out:
            print(f"  {key}: {out[key]}")
    dest = args.out or HERE / "results" / f"sdk-{args.customers}.json"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(out, indent=2))
    print(f"saved {dest}")


if __name__ == "__main__":
    main()
