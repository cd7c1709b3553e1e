"""Graph sync's floor: `neo4j-admin database import full` of the same nodes and relationships.

    python tests/benchmarks/baselines/neo4j_admin_import.py DATABASE_URL WORKDIR

Exports what `sync-graph` would write (the same plan of queries, the same typed values, the AUM
on each individual, no digests) as the import tool's CSV files, outside the timing; then runs
the tool from the Neo4j Community jars that tests/servers/neo4j.sh assembles from Maven Central
(`org.neo4j.cli.AdminTool database import full`, as `neo4j-admin` runs it) into an empty
database of a scratch Neo4j home, and times the whole process (JVM start included: it is what
an operator pays). The tool builds its stores offline, with no transactions, no constraints
and no server: a floor, not an alternative for a live graph. Prints one JSON line.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[3]
LIB = ROOT / "tests" / "servers" / "neo4j" / "target" / "lib"
_TYPES = {"balance": "float", "share": "float", "annual_volume": "float", "aum": "float", "payroll": "boolean"}


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def export(url: str, out: Path) -> dict:
    """The plan's rows as CSV files with the import tool's headers; (nodes, relationships) args."""
    from clientstrata.graph.record.db import engine_for
    from clientstrata.graph.stores.base import RELATIONSHIPS
    from clientstrata.jobs.classification.features import current_aum, monthly_aum
    from clientstrata.jobs.classification.standard import load_standard
    from clientstrata.jobs.ingest.sync import _PLAN
    from clientstrata.jobs.ingest.sync_rows import records, typed

    out.mkdir(parents=True, exist_ok=True)
    engine = engine_for(url)
    args: list[str] = []
    items = 0
    with engine.connect() as conn:
        aum = current_aum(monthly_aum(conn, load_standard().fx_to_cny)).round(2).astype("float64")
        for n, (kind, target, sql) in enumerate(_PLAN):
            df = pd_read(conn, sql)
            if target == "Individual":
                df = df.assign(aum=df["id"].map(aum))
            df = typed(df)
            props = [c for c in df.columns if c not in ("id", "start", "end")]
            typed_props = [f"{c}:{_TYPES[c]}" if c in _TYPES else c for c in props]
            if kind == "node":
                header = [f"id:ID({target})", *typed_props]
                cols = ["id", *props]
                args.append(f"--nodes={target}={out / f'{n:02d}.csv'}")
            else:
                rel, start = target
                header = [f":START_ID({start})", f":END_ID({RELATIONSHIPS[rel][1]})", *typed_props]
                cols = ["start", "end", *props]
                args.append(f"--relationships={rel}={out / f'{n:02d}.csv'}")
            with (out / f"{n:02d}.csv").open("w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(header)
                w.writerows([_cell(r[c]) for c in cols] for r in records(df))
            items += len(df)
    engine.dispose()
    return {"args": args, "items": items}


def pd_read(conn, sql: str):
    import pandas as pd

    return pd.read_sql(sa.text(sql), conn)


def admin_import(args: list[str], home: Path) -> dict:
    """The import tool into an empty database of a scratch Neo4j home, timed as a process."""
    shutil.rmtree(home, ignore_errors=True)
    (home / "conf").mkdir(parents=True)
    (home / "conf" / "neo4j.conf").write_text("", encoding="utf-8")
    env = {"NEO4J_HOME": str(home), "NEO4J_CONF": str(home / "conf"), "PATH": "/usr/bin:/bin"}
    cmd = ["java", "-Xmx1g", "-cp", f"{LIB}/*", "org.neo4j.cli.AdminTool", "database", "import", "full"]
    cmd += [
        *args,
        "--skip-bad-relationships=true",
        "--overwrite-destination=true",
        f"--report-file={home / 'import.report'}",
    ]
    cmd.append("neo4j")
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"neo4j-admin import failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    # "IMPORT DONE in 2s 563ms." : the tool's own account, without the JVM's start
    m = re.search(r"IMPORT DONE in (?:(\d+)m )?(?:(\d+)s )?(\d+)ms", done.stdout)
    own = None if not m else int(m[1] or 0) * 60 + int(m[2] or 0) + int(m[3]) / 1000
    found = {k: int(v.replace(",", "")) for v, k in re.findall(r"([\d,]+) (nodes|relationships)\n", done.stdout)}
    return {"seconds": seconds, "tool_reported_seconds": own, "imported": found}


if __name__ == "__main__":
    work = Path(sys.argv[2])
    exported = export(sys.argv[1], work / "csv")
    result = admin_import(exported["args"], work / "home")
    print(json.dumps({"items": exported["items"], **result}))
