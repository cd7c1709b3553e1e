"""Graph sync benchmark: `clientstrata sync-graph` into Neo4j beside `neo4j-admin database import
full` of the same nodes and relationships, in one run. A script:

    .venv/bin/python tests/benchmarks/bench_graph_sync.py --db BANK.db --neo4j-uri bolt://127.0.0.1:7604 \\
        [--repeat 3] [--before main] [--out tests/benchmarks/results/graph-sync-20000.json]

BANK.db is copied into a scratch folder first (the original is only read). Each round, each its
own process: the `--before` commit's sync into an emptied Neo4j and its re-sync (its code
unpacked with `git archive`, as bench_ingest.py does; skipped with `--before ''`); then (a) this
tree's sync into an emptied Neo4j (cleared outside the timing; its constraints kept, as a sync
makes them first), (b) this tree's re-sync with nothing changed, and (c) the baseline,
tests/benchmarks/baselines/neo4j_admin_import.py (the same rows exported as CSV once, outside
the timing; the tool run from the Maven-assembled Neo4j jars into a scratch home). Then, on the
graph the last round's sync left, one re-sync after a change: 1% of individuals renamed and 1%
of employment rows deleted in the copy. Reports medians, items per second and the ratios; writes
the JSON with the load average, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "baselines"))

from bench_ingest import _checkout  # noqa: E402
from neo4j_admin_import import admin_import, export  # noqa: E402

from clientstrata.graph.stores.base import LABELS  # noqa: E402

TARGET_RATIO = 3.0


def _env(db: Path, uri: str, pythonpath: Path | None = None) -> dict:
    env = dict(
        os.environ,
        CLIENTSTRATA_DATABASE_URL=f"sqlite:///{db}",
        CLIENTSTRATA_NEO4J_URI=uri,
        CLIENTSTRATA_PROGRESS="0",
    )
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def _sync(db: Path, uri: str, pythonpath: Path | None = None) -> dict:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "clientstrata.cli.main", "sync-graph", "--json"],
        env=_env(db, uri, pythonpath),
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"sync-graph failed:\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    items = sum(out["counts"].values())
    sent = sum(out.get("written", {}).values()) + sum(out.get("deleted", {}).values()) if "written" in out else None
    return {"seconds": seconds, "items": items, "items_per_second": items / seconds, "sent": sent, "output": out}


def _clear(uri: str) -> None:
    from clientstrata.graph.stores.neo4j_store import Neo4jGraph

    graph = Neo4jGraph(uri, ("neo4j", os.environ.get("CLIENTSTRATA_NEO4J_PASSWORD", "clientstrata-dev")))
    graph.query_timeout = 600
    try:
        graph.clear()
    finally:
        graph.close()


def _change(db: Path) -> dict:
    """1% of individuals renamed, 1% of employment rows deleted: what a re-sync must send."""
    import sqlite3

    conn = sqlite3.connect(db)
    with conn:
        renamed = conn.execute(
            "UPDATE individuals SET name = name || ' (renamed)' WHERE customer_id IN "
            "(SELECT customer_id FROM individuals ORDER BY customer_id LIMIT (SELECT count(*) / 100 FROM individuals))"
        ).rowcount
        deleted = conn.execute(
            "DELETE FROM employment WHERE rowid IN (SELECT rowid FROM employment ORDER BY customer_id "
            "LIMIT (SELECT count(*) / 100 FROM employment))"
        ).rowcount
    conn.close()
    return {"individuals_renamed": renamed, "employment_deleted": deleted}


def _median(runs: list[dict], key: str = "seconds") -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, required=True, help="a SQLite bank (copied, never written)")
    ap.add_argument("--neo4j-uri", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--before", default="main", help="a commit to time beside this tree ('' to skip)")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-graph-sync-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "bank.db"
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{args.db}{suffix}")
        if src.exists():
            shutil.copyfile(src, f"{db}{suffix}")
    load_start = os.getloadavg()
    before_pkg = _checkout(args.before, work) if args.before else None
    exported = export(f"sqlite:///{db}", work / "csv")  # outside the timing
    runs: dict[str, list[dict]] = {"first": [], "resync": [], "before_first": [], "before_resync": [], "baseline": []}
    for n in range(args.repeat):
        if before_pkg:
            _clear(args.neo4j_uri)
            runs["before_first"].append(_sync(db, args.neo4j_uri, before_pkg))
            runs["before_resync"].append(_sync(db, args.neo4j_uri, before_pkg))
        _clear(args.neo4j_uri)
        runs["first"].append(_sync(db, args.neo4j_uri))
        runs["resync"].append(_sync(db, args.neo4j_uri))
        runs["baseline"].append(admin_import(exported["args"], work / "admin-home"))
        print(
            f"round {n + 1}: first {runs['first'][-1]['seconds']:.1f} s, resync {runs['resync'][-1]['seconds']:.1f} s"
            + (f", before {runs['before_first'][-1]['seconds']:.1f} s" if before_pkg else "")
            + f", admin import {runs['baseline'][-1]['seconds']:.1f} s",
            flush=True,
        )
    # the graph as this tree's sync left it (each round ends with it), a change in the record, a re-sync
    changed = _change(db)
    after_change = _sync(db, args.neo4j_uri)

    items = runs["first"][0]["items"]
    assert all(r["items"] == items for r in runs["first"] + runs["before_first"]), "the syncs disagree"
    counts = runs["first"][0]["output"]["counts"]
    assert runs["baseline"][0]["imported"] == {
        "nodes": sum(v for k, v in counts.items() if k in LABELS),
        "relationships": sum(v for k, v in counts.items() if k not in LABELS),
    }, "the baseline imported other items than the sync wrote"
    first, base = _median(runs["first"]), _median(runs["baseline"])
    base_own = statistics.median(r["tool_reported_seconds"] for r in runs["baseline"])
    report = {
        "benchmark": "graph-sync",
        "items": items,
        "repeat": args.repeat,
        "first_load": {
            "seconds": first,
            "items_per_second": items / first,
            "runs": [r["seconds"] for r in runs["first"]],
        },
        "resync_unchanged": {
            "seconds": _median(runs["resync"]),
            "sent": max(r["sent"] for r in runs["resync"]),
            "runs": [r["seconds"] for r in runs["resync"]],
        },
        "resync_after_change": {
            "change": changed,
            "seconds": after_change["seconds"],
            "sent": after_change["sent"],
            "written": after_change["output"]["written"],
            "deleted": after_change["output"]["deleted"],
        },
        "baseline_admin_import": {
            "seconds": base,
            "items_per_second": items / base,
            "tool_reported_seconds": base_own,
            "runs": [r["seconds"] for r in runs["baseline"]],
        },
        "ratio_first_load_to_admin_import": first / base,
        "ratio_first_load_to_admin_import_tool_time": first / base_own,
        "target_ratio": TARGET_RATIO,
        "within_target": first / base <= TARGET_RATIO,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_1m_at_start": load_start[0],
            "load_avg_1m_at_end": os.getloadavg()[0],
            "shared": "the machine was shared with other sessions' builds and tests",
        },
    }
    if before_pkg:
        bf = _median(runs["before_first"])
        report["before"] = {
            "ref": args.before,
            "first_load_seconds": bf,
            "first_load_items_per_second": items / bf,
            "resync_seconds": _median(runs["before_resync"]),
            "ratio_first_load_to_admin_import": bf / base,
            "runs": [r["seconds"] for r in runs["before_first"]],
        }
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
