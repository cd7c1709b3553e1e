"""Ingest's floor: a bundle's CSV files into the record's own schema with plain sqlite3.

    python tests/benchmarks/baselines/sqlite_ingest.py BUNDLE DB

DB must already hold the schema (the benchmark creates it with the record's migrations, outside
the timing). Each file in the bundle's load order is read with the csv module and written with
one `executemany` of a plain INSERT per 100,000 rows, in one transaction, foreign keys off (the
sqlite3 default), the record's indexes in place. No validation, no typing, no quarantine, no
report: what loading the same rows costs when nothing is checked. Prints one JSON line
(rows, seconds).
"""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
import time
from pathlib import Path

BATCH = 100_000


def load(bundle: Path, db: Path, order: list[str]) -> dict:
    started = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-1048576")  # as the ingest's load tuning: 1 GiB
    rows = 0
    for table in order:
        path = bundle / f"{table}.csv"
        if not path.exists():
            continue
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader)
            cols = ", ".join(f'"{c}"' for c in header)
            sql = f'INSERT INTO "{table}" ({cols}, ingest_id) VALUES ({", ".join("?" * len(header))}, 1)'
            batch: list[tuple] = []
            for rec in reader:
                batch.append(tuple(v if v != "" else None for v in rec))
                if len(batch) == BATCH:
                    conn.executemany(sql, batch)
                    rows += len(batch)
                    batch = []
            conn.executemany(sql, batch)
            rows += len(batch)
    conn.commit()
    conn.close()
    return {"rows": rows, "seconds": time.perf_counter() - started}


if __name__ == "__main__":
    order = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    if order is None:
        from clientstrata.jobs.ingest.bundle import TABLES

        order = [t.name for t in TABLES]
    print(json.dumps(load(Path(sys.argv[1]), Path(sys.argv[2]), order)))
