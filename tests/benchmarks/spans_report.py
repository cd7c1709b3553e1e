"""Tags as spans, before and after, on one bank: gathers two `bench_pipeline.py` work dirs
(main's code and this branch's, each classified from the same ingested record: a first run,
then re-runs of unchanged data) into one results file, with what each record stores:

    spans_report.py --before /work/b20k-base --after /work/b20k --runs first rerun2 \
        --out tests/benchmarks/results/pipeline-20000-spans.json

A script, not a test. The machine may be shared: each stage keeps its load average and CPU
seconds, and CPU seconds compare better than wall seconds when the load differs."""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
from pathlib import Path

__all__ = ["main"]


def _stored(db: Path) -> dict:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        table = "tag_spans" if "tag_spans" in tables else "tags"
        pages = con.execute(f"SELECT sum(pgsize) FROM dbstat WHERE name LIKE '%{table}%'").fetchone()[0]
        return {
            "table": table,
            "rows": con.execute(f"SELECT count(*) FROM {table}").fetchone()[0],
            "mb_with_indexes": round((pages or 0) / 1e6, 1),
            "runs_published": con.execute(
                "SELECT count(*) FROM classification_runs WHERE status = 'published'"
            ).fetchone()[0],
        }
    except sqlite3.OperationalError:  # a SQLite built without dbstat
        return {"table": table, "rows": con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]}
    finally:
        con.close()


_TAG_PHASES = ("stage tags", "write tags", "change feed", "close and open spans")


def _side(work: Path, runs: list[str], medians: list[str]) -> dict:
    out = {}
    for name in runs:
        if not (work / f"{name}.json").exists():  # a run measured on one side only
            continue
        stage = json.loads((work / f"{name}.json").read_text())["stages"][0]
        o = stage.get("output") or {}
        out[name] = {
            "seconds": stage["seconds"],
            "cpu_s": round(stage["cpu_user_s"] + stage["cpu_system_s"], 1),
            "load_avg_1m": stage["load_avg_1m"],
            "peak_rss_mb": stage["peak_rss_mb"],
            "tags": o.get("tags"),
            "changes": o.get("changes"),
            "tag_rows_written": o.get("spans_opened", o.get("tags")),  # before: every tag is a row
            # tags compared in SQL (before subject digests: every tag) and the seconds that took
            "tags_staged": o.get("staged", o.get("tags")),
            "tag_publish_s": round(sum((o.get("seconds") or {}).get(k, 0) for k in _TAG_PHASES), 2),
            "phases": o.get("seconds"),
        }
    measured = [out[r] for r in runs if r in out and r in medians]
    if measured:  # alternating rounds on a shared machine: the medians compare
        out["median"] = {
            k: statistics.median(m[k] for m in measured) for k in ("seconds", "cpu_s", "tag_publish_s", "tags_staged")
        }
    out["stored"] = _stored(work / "clientstrata.db")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", type=Path, required=True)
    p.add_argument("--after", type=Path, required=True)
    p.add_argument("--runs", nargs="+", default=["first", "rerun"])
    p.add_argument("--median", nargs="*", default=[], help="runs (rounds of the same re-run) to take medians over")
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    report = {
        "customers": args.customers,
        "backend": "sqlite",
        "before": _side(args.before, args.runs, args.median),
        "after": _side(args.after, args.runs, args.median),
    }
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    for side in ("before", "after"):
        for run in [r for r in args.runs if r in report[side]]:
            r = report[side][run]
            print(
                f"{side:<6} {run:<7} {r['seconds']:>7.1f} s  cpu {r['cpu_s']:>6.1f} s  load {r['load_avg_1m']}  "
                f"tag rows written {r['tag_rows_written']:>9,}  changes {r['changes']:>9,}  "
                f"staged {r['tags_staged']:>9,}  tag publish {r['tag_publish_s']:>6.2f} s"
            )
        if "median" in report[side]:
            print(f"{side:<6} median  {report[side]['median']}")
        print(f"{side:<6} stored  {report[side]['stored']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
