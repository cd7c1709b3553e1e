"""ClientStrata's API beside its GraphQL-over-Neo4j peer: `@neo4j/graphql` on Apollo Server (from
npm, tests/benchmarks/peer/, its type definitions beside it) over the same Neo4j and the same bank.
Three queries, each checked to give the same answers on both servers before it is timed: a
customer's two-hop ecosystem, one household, and a page of 100 customers at a random place. Each
runs at 1 and 8 concurrent clients on both servers in the same run; the ratio is ours over theirs
(above 1: ClientStrata is ahead). The load generator runs on the same machine: its CPU share is
reported beside each figure, and the machine's load average at start and end.

A script, not a test:
    make neo4j-up NEO4J_PORTS=7604
    (cd tests/benchmarks/peer && npm ci)
    python tests/benchmarks/bench_graphql_peer.py --customers 20000 --neo4j-uri bolt://127.0.0.1:7604

The bank is generated, ingested, synced to that Neo4j and classified once into --workdir (as
bench_api.py does) and reused. `--server-pythonpath DIR` serves ClientStrata from another checkout
(a `clientstrata` folder in DIR pointing at it), to measure an earlier commit in the same session.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import resource
import subprocess
import time
from pathlib import Path

import httpx
from bench_api import CLI, _free_port, _run, load, prepare

from clientstrata.graph.record.queries import encode_cursor

HERE = Path(__file__).resolve().parent
PEER = HERE / "peer"

# (ours, theirs): the same question in each server's own schema
QUERIES = {
    "ecosystem_2hop": (
        """query($id: ID!) { customer(id: $id) {
            ecosystem(hops: 2, first: 100) { hops relations node { kind id name degree } } } }""",
        """query($id: ID!) { individuals(where: {id: {eq: $id}}) {
            ecosystem(first: 100) { hops relations kind id name degree } } }""",
    ),
    "household": (
        """query($id: ID!) { household(id: $id) { id name status
            members { customerId role customer { name } } } }""",
        """query($id: ID!) { households(where: {id: {eq: $id}}) { id name status
            membersConnection { edges { properties { role } node { id name } } } } }""",
    ),
    # the peer's connection pages by offset cursors, which it serves by collecting every row before
    # the cursor: past the first pages of a 20k bank that exceeds Neo4j's transaction memory
    # (`connection_deep_page` in the JSON). Its list query with `offset` is its way to a page.
    "customers_page_100": (
        """query($after: String) { customers(first: 100, after: $after) { edges { node { id name } } } }""",
        """query($offset: Int) { individuals(limit: 100, offset: $offset, sort: [{id: ASC}]) { id name } }""",
    ),
}


def _offset(customer_id: str | None) -> int:
    """The bank's ids are C0000001… in order, so the place after a customer is its number."""
    return 0 if customer_id is None else int(customer_id[1:])


DEEP_PAGE = """query($after: String) { individualsConnection(first: 100, after: $after, sort: [{id: ASC}]) {
    edges { node { id } } } }"""


def connection_deep_page(peer_url: str, customers: int) -> str:
    """What the peer's own cursor paging answers 90% of the way into the bank."""
    at = int(customers * 0.9)
    cursor = base64.b64encode(f"arrayconnection:{at - 1}".encode()).decode()
    body = httpx.post(peer_url, json={"query": DEEP_PAGE, "variables": {"after": cursor}}, timeout=120).json()
    if "errors" in body:
        return f"offset {at}: error: {body['errors'][0]['message'][:160]}"
    return f"offset {at}: {len(body['data']['individualsConnection']['edges'])} rows"


def variables(name: str, customers: int, households: list[str]):
    """(ours, theirs) variable makers drawing the same sequence of subjects for both servers."""
    ids = [f"C{i:07d}" for i in range(1, customers + 1)]
    if name == "household":
        pick = households
        return (lambda r: {"id": r.choice(pick)}), (lambda r: {"id": r.choice(pick)})
    if name == "customers_page_100":
        places = [None, *random.Random(1).sample(ids, 200)]
        return (
            lambda r: {"after": (lambda c: c and encode_cursor(c))(r.choice(places))},
            lambda r: {"offset": _offset(r.choice(places))},
        )
    return (lambda r: {"id": r.choice(ids)}), (lambda r: {"id": r.choice(ids)})


def normalised(name: str, ours: dict, theirs: dict):
    """Both answers in one shape, to be compared."""
    if name == "ecosystem_2hop":
        a = [
            (
                e["hops"],
                sorted(e["relations"]),
                e["node"]["kind"],
                e["node"]["id"],
                e["node"]["name"],
                e["node"]["degree"],
            )
            for e in ours["customer"]["ecosystem"]
        ]
        (ind,) = theirs["individuals"]
        b = [(e["hops"], sorted(e["relations"]), e["kind"], e["id"], e["name"], e["degree"]) for e in ind["ecosystem"]]
        return a, b
    if name == "household":
        h = ours["household"]
        a = (
            h["id"],
            h["name"],
            h["status"].lower(),
            sorted((m["customerId"], m["role"], m["customer"]["name"]) for m in h["members"]),
        )
        (p,) = theirs["households"]
        members = p["membersConnection"]["edges"]
        b = (
            p["id"],
            p["name"],
            p["status"],
            sorted((e["node"]["id"], e["properties"]["role"], e["node"]["name"]) for e in members),
        )
        return a, b
    return [(e["node"]["id"], e["node"]["name"]) for e in ours["customers"]["edges"]], [
        (n["id"], n["name"]) for n in theirs["individuals"]
    ]


def same_answers(ours_url: str, peer_url: str, token: str, name: str, makers, samples: int = 40) -> int:
    """Ask both servers the same `samples` questions; fail on the first that differs."""
    headers = {"Authorization": f"Bearer {token}"}
    (q_ours, q_peer), (v_ours, v_peer) = QUERIES[name], makers
    r1, r2 = random.Random(99), random.Random(99)
    answered = 0
    with httpx.Client(timeout=60) as client:
        for _ in range(samples):
            a = client.post(ours_url, json={"query": q_ours, "variables": v_ours(r1)}, headers=headers).json()
            b = client.post(peer_url, json={"query": q_peer, "variables": v_peer(r2)}).json()
            assert "errors" not in a and "errors" not in b, (a, b)
            x, y = normalised(name, a["data"], b["data"])
            assert x == y, (name, x, y)
            answered += bool(x)
    assert answered >= samples // 2, f"{name}: only {answered} of {samples} answers had anything in them"
    return samples


def measured(url: str, token: str, query: str, make, concurrency: int, requests: int) -> dict:
    """`bench_api.load` with the load generator's own CPU time: its share of one core over the run."""
    rng = random.Random(concurrency)
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter()
    out = asyncio.run(load(url, token, query, lambda: make(rng), concurrency, requests))
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_SELF)
    used = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    return {**out, "load_generator_cpu_share_of_one_core": round(used / wall, 2)}


def _ready(url: str, body: dict, headers: dict | None = None) -> None:
    for _ in range(300):
        try:
            if httpx.post(url, json=body, headers=headers or {}, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--neo4j-uri", default=os.environ.get("CLIENTSTRATA_NEO4J_URI", "bolt://127.0.0.1:7687"))
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--requests", type=int, default=150, help="requests per round, query, server and concurrency")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per level; the median is kept")
    ap.add_argument("--warmup", type=int, default=150, help="requests per query and server before measuring")
    ap.add_argument("--concurrency", default="1,8")
    ap.add_argument("--workers", type=int, default=2, help="ClientStrata API worker processes")
    ap.add_argument("--server-pythonpath", default=None, help="serve ClientStrata from another checkout")
    ap.add_argument("--label", default="", help="suffix of the saved JSON's name (e.g. -before)")
    args = ap.parse_args()
    load_at_start = round(os.getloadavg()[0], 2)
    workdir = args.workdir or Path(f"/tmp/clientstrata-bench-peer-{args.customers}")
    password = os.environ.get("CLIENTSTRATA_NEO4J_PASSWORD", "clientstrata-dev")
    env = {
        **os.environ,
        "CLIENTSTRATA_PROGRESS": "0",
        "CLIENTSTRATA_DATABASE_URL": os.environ.get("CLIENTSTRATA_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}",
        "CLIENTSTRATA_NEO4J_URI": args.neo4j_uri,
        "CLIENTSTRATA_NEO4J_PASSWORD": password,
    }
    print(f"preparing {args.customers:,} customers in {workdir} (Neo4j at {args.neo4j_uri})…", flush=True)
    prep = prepare(workdir, args.customers, env)
    token = _run(env, "token", "create", "--role", "risk_officer", "--name", "peer-benchmark")["token"]
    import sqlalchemy as sa

    with sa.create_engine(env["CLIENTSTRATA_DATABASE_URL"]).connect() as conn:
        households = list(conn.execute(sa.text("SELECT household_id FROM households ORDER BY 1")).scalars())

    ours_port, peer_port = _free_port(), _free_port()
    server_env = dict(env)
    if args.server_pythonpath:
        server_env["PYTHONPATH"] = args.server_pythonpath
    ours = subprocess.Popen(
        [*CLI, "serve", "--port", str(ours_port), "--workers", str(args.workers)],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peer = subprocess.Popen(
        ["node", str(PEER / "server.mjs")],
        env={**os.environ, "PORT": str(peer_port), "NEO4J_URI": args.neo4j_uri, "NEO4J_PASSWORD": password},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    urls = {"clientstrata": f"http://127.0.0.1:{ours_port}/graphql", "peer": f"http://127.0.0.1:{peer_port}/"}
    results: dict = {}
    try:
        _ready(urls["clientstrata"], {"query": "{ __typename }"}, {"Authorization": f"Bearer {token}"})
        _ready(urls["peer"], {"query": "{ __typename }"})
        results["connection_deep_page"] = connection_deep_page(urls["peer"], args.customers)
        print(f"  the peer's cursor paging, {results['connection_deep_page']}", flush=True)
        for name, (q_ours, q_peer) in QUERIES.items():
            makers = variables(name, args.customers, households)
            checked = same_answers(urls["clientstrata"], urls["peer"], token, name, makers)
            results[name] = {"answers_checked_equal": checked, "levels": []}
            for side, query, make in (("clientstrata", q_ours, makers[0]), ("peer", q_peer, makers[1])):
                measured(urls[side], token, query, make, 4, args.warmup)  # pools, caches, JIT
            for c in (int(x) for x in args.concurrency.split(",")):
                # the machine is shared: the two servers take turns, round after round, and each
                # side's figure is its median round, so a burst of someone else's load is not
                # charged to one side only
                rounds = {"clientstrata": [], "peer": []}
                for _ in range(args.rounds):
                    rounds["clientstrata"].append(
                        measured(urls["clientstrata"], token, q_ours, makers[0], c, args.requests)
                    )
                    rounds["peer"].append(measured(urls["peer"], token, q_peer, makers[1], c, args.requests))
                mine, theirs = (sorted(rounds[side], key=lambda r: r["rps"])[args.rounds // 2] for side in rounds)
                ratio = round(mine["rps"] / theirs["rps"], 2)
                results[name]["levels"].append(
                    {"concurrency": c, "clientstrata": mine, "peer": theirs, "ratio": ratio, "rounds": rounds}
                )
                print(
                    f"  {name:<20} c={c:<2} ours {mine['rps']:>7} req/s p99 {mine['p99_ms']:>6} ms  "
                    f"peer {theirs['rps']:>7} req/s p99 {theirs['p99_ms']:>6} ms  ratio {ratio:>5}  "
                    f"load generator {mine['load_generator_cpu_share_of_one_core']:.2f}/"
                    f"{theirs['load_generator_cpu_share_of_one_core']:.2f} of a core  "
                    f"errors {mine['errors']}/{theirs['errors']}",
                    flush=True,
                )
    finally:
        for proc in (ours, peer):
            proc.terminate()
            proc.wait(30)
    versions = json.loads((PEER / "package-lock.json").read_text())["packages"]
    out = {
        "customers": args.customers,
        "database": env["CLIENTSTRATA_DATABASE_URL"].split(":")[0],
        "graph": "neo4j",
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
            "load_avg_1m_at_start": load_at_start,
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
            "shared": "the load generator, both servers and Neo4j share the machine",
        },
        "workers": args.workers,
        "peer": {
            pkg: versions[f"node_modules/{pkg}"]["version"]
            for pkg in ("@neo4j/graphql", "@apollo/server", "graphql", "neo4j-driver")
        },
        "requests_per_round": args.requests,
        "rounds": args.rounds,
        "warmup_requests": args.warmup,
        "served_from": args.server_pythonpath or "this checkout",
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
        ).stdout.strip(),
        "prepare_seconds": prep,
        "results": results,
    }
    dest = HERE / "results" / f"graphql-peer-{args.customers}{args.label}.json"
    dest.write_text(json.dumps(out, indent=2))
    print(f"saved {dest}")


if __name__ == "__main__":
    main()
