"""API load benchmark: the customer-360 query and a 100-row customers page, over real HTTP against
`clientstrata serve`, at concurrency 1 / 8 / 32. Prints requests per second and p50/p99 latency
and saves them as JSON; also counts SQL statements per request as the page grows (dataloaders
must keep that flat).

A script, not a test:
    python tests/benchmarks/bench_api.py --customers 100000            # Neo4j from make neo4j-up
    python tests/benchmarks/bench_api.py --customers 20000 --graph embedded
PostgreSQL: set CLIENTSTRATA_DATABASE_URL (else SQLite in --workdir). The load generator shares
the machine with the server, so the figures are a floor for a dedicated API host.
The bank is generated, ingested, synced and classified once into --workdir and reused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from clientstrata.graph.record.queries import encode_cursor

HERE = Path(__file__).resolve().parent
CLI = [sys.executable, "-m", "clientstrata.cli.main"]

QUERIES = {
    "customer_360": """query($id: ID!) { customer(id: $id) { id name idNumber phone rmId
        tags { dimension value label labelZh score explanation }
        holdings { family balance holdings { accountId accountNumber productName riskLevel balance } }
        relationshipManager { name branch { name } }
        household { id aum members { role aum customer { id name tier } } }
        ecosystem(hops: 2) { hops relations node { kind id name degree } } } }""",
    "customers_page_100": """query($after: String) { customers(first: 100, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { id name tier cooperationDepth branchId rmId } } } }""",
}


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


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def load(url: str, token: str, query: str, variables, concurrency: int, requests: int) -> dict:
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits, headers=headers) as client:
        queue = list(range(requests))

        async def worker():
            nonlocal errors
            while queue:
                queue.pop()
                t = time.perf_counter()
                r = await client.post(url, json={"query": query, "variables": variables()})
                latencies.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200 or "errors" in r.json():
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
    return {
        "concurrency": concurrency,
        "requests": requests,
        "errors": errors,
        "rps": round(requests / wall, 1),
        "p50_ms": round(_pct(latencies, 50), 1),
        "p99_ms": round(_pct(latencies, 99), 1),
        "mean_ms": round(statistics.fmean(latencies), 1),
    }


def statements_per_request(env: dict, token: str) -> dict:
    """SQL statements for one customers page of growing size, counted in-process."""
    os.environ.update(env)
    import sqlalchemy as sa
    from starlette.testclient import TestClient

    from clientstrata.api.app import create_app
    from clientstrata.graph.record.db import get_engine

    engine = get_engine()
    page = (
        "query($n: Int!) { customers(first: $n) { edges { node { id tier tags { dimension value } "
        "holdings { family } household { id members { customer { id } } } } } } }"
    )
    out = {}
    with TestClient(create_app(engine)) as client:
        for n in (10, 100, 1000):
            count = 0

            def counter(*_):
                nonlocal count
                count += 1

            sa.event.listen(engine, "before_cursor_execute", counter)
            client.post(
                "/graphql", json={"query": page, "variables": {"n": n}}, headers={"Authorization": f"Bearer {token}"}
            )
            sa.event.remove(engine, "before_cursor_execute", counter)
            out[str(n)] = count
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--graph", choices=("neo4j", "embedded"), default="neo4j")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--requests", type=int, default=400, help="requests per query and concurrency level")
    ap.add_argument("--concurrency", default="1,8,32")
    ap.add_argument("--workers", type=int, default=2, help="API worker processes (`clientstrata serve --workers`)")
    ap.add_argument("--warmup", type=int, default=300, help="requests per query before measuring")
    args = ap.parse_args()
    load_at_start = round(os.getloadavg()[0], 2)  # the machine may be shared: say how busy it was
    workdir = args.workdir or Path(f"/tmp/clientstrata-bench-api-{args.customers}-{args.graph}")
    env = {
        **os.environ,
        "CLIENTSTRATA_PROGRESS": "0",
        "CLIENTSTRATA_DATABASE_URL": os.environ.get("CLIENTSTRATA_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}",
    }
    if args.graph == "neo4j":
        env.setdefault("CLIENTSTRATA_NEO4J_URI", "bolt://127.0.0.1:7687")
    else:
        env.pop("CLIENTSTRATA_NEO4J_URI", None)
    print(f"preparing {args.customers:,} customers in {workdir} ({args.graph} graph)…", flush=True)
    prep = prepare(workdir, args.customers, env)
    token = _run(env, "token", "create", "--role", "risk_officer", "--name", "benchmark")["token"]

    port = _free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        ids = [f"C{i:07d}" for i in range(1, args.customers + 1)]
        cursors = [None] + [encode_cursor(c) for c in random.Random(1).sample(ids, 200)]
        variables = {
            "customer_360": lambda: {"id": random.choice(ids)},
            "customers_page_100": lambda: {"after": random.choice(cursors)},
        }
        results = {}
        for name, query in QUERIES.items():
            # warm the pools and the caches (SQLite pages, Neo4j's page cache and JIT) first
            asyncio.run(load(url, token, query, variables[name], 4, args.warmup))
            results[name] = []
            for c in (int(x) for x in args.concurrency.split(",")):
                r = asyncio.run(load(url, token, query, variables[name], c, args.requests))
                results[name].append(r)
                print(
                    f"  {name:<20} c={c:<3} {r['rps']:>7} req/s  p50 {r['p50_ms']:>7} ms  "
                    f"p99 {r['p99_ms']:>7} ms  errors {r['errors']}",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(30)
    stmts = statements_per_request(env, token)
    print(f"  SQL statements per customers request by page size: {stmts}")
    out = {
        "customers": args.customers,
        "graph": args.graph,
        "database": env["CLIENTSTRATA_DATABASE_URL"].split(":")[0],
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_1m_at_start": load_at_start,
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "workers": args.workers,
        "warmup_requests": args.warmup,
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
        ).stdout.strip(),
        "prepare_seconds": prep,
        "results": results,
        "sql_statements_per_request": stmts,
    }
    dest = HERE / "results" / f"api-{args.customers}-{args.graph}.json"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(out, indent=2))
    print(f"saved {dest}")


if __name__ == "__main__":
    main()
