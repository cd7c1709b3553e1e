"""The strategy stage alone, in one process, on a bank a run has already classified. A script:

    .venv/bin/python tests/benchmarks/bench_strategy.py --db /work/b100k/clientstrata.db [--profile]

Reads the latest published run's tags (the individuals': enterprises get no package and no action)
and the open alerts once, then times what a run's publish does per partition of 50,000 customers,
in CPU and wall seconds (the machine is shared: CPU compares better) — packages (the partition's
tag grid, `assign_packages` + `write_packages`), next-best actions (`action_stage` and its step) —
and the points job (`post_points`), inside one transaction that is rolled back, so the bank is
left as it was and the script can run again. `--profile` profiles only those phases.
For iterating on the stage quickly; the figures quoted in docs/benchmarks.md come from
`bench_pipeline.py`, which times a whole classification run.

`--alerts N` times the run's alerts phase instead (issue 15): the detector's reads, its call per
partition and the write, as a re-run (the previous run's tags compared, every alert raised before)
and as a first run (no previous run, no alert on record), main's code (baselines/alert_rows.py)
and this one alternating, N rounds, in one rolled-back transaction each; CPU and wall seconds,
medians and ratios, the load average around each. The partitions' features and tags are made once
(`--parts FILE` keeps them between invocations) as a run hands them over.

`--household-tiers PRISTINE` times instead the publish's household tiers phase of a bank's first
run (issue 15): on `--db` (a bank after its first run), the rollups put back as `PRISTINE` (the same
bank before it) holds them, then `refresh_after_publish` with the run's tiers, in a transaction
rolled back; main's functions (baselines/household_rollups.py) and this code's in alternating
rounds, CPU and wall seconds, medians and their ratio:

    bench_strategy.py --db AFTER.sqlite --household-tiers PRISTINE.sqlite --rounds 5 --out results/X.json
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import inspect
import json
import os
import pstats
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from clientstrata.graph.clock import utcnow
from clientstrata.graph.record.models import Alert, Tag
from clientstrata.graph.record.queries import latest_run_id
from clientstrata.jobs.governance.standards import live_standard
from clientstrata.jobs.runs.publish import publish_pragmas
from clientstrata.jobs.strategies.nba import action_stage
from clientstrata.jobs.strategies.packages import assign_packages
from clientstrata.jobs.strategies.playbook import playbook_of
from clientstrata.jobs.strategies.points import post_points
from clientstrata.jobs.strategies.store import write_packages

try:  # the code measured may predate the tag grid (main's, to compare with)
    from clientstrata.jobs.strategies.tag_grid import pivot_tags
except ImportError:
    pivot_tags = None

sys.path.insert(0, str(Path(__file__).resolve().parent / "baselines"))

PART = 50_000
# what a bank's first run has not written yet (the tables that exist in the code measured)
_FIRST_RUN_EMPTY = ("points_postings", "points_accounts", "points_scans", "cross_sell_rules")


def _read(conn, run_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    t, a = Tag.__table__, Alert.__table__
    cols = ["customer_id", "dimension", "value", "label_zh", "inputs"]
    tags = pd.DataFrame(
        [
            tuple(r)
            for r in conn.execute(
                # the inputs as the run hands them over: encoded JSON text
                sa.select(*[t.c[c] for c in cols[:-1]], sa.type_coerce(t.c.inputs, sa.Text)).where(t.c.run_id == run_id)
            )
        ],
        columns=cols,
    )
    tags = tags[tags["customer_id"].notna()].sort_values("customer_id", kind="stable").reset_index(drop=True)
    alerts = pd.DataFrame(
        [tuple(r) for r in conn.execute(sa.select(a.c.customer_id, a.c.alert_type, a.c.reason))],
        columns=["customer_id", "alert_type", "reason"],
    )
    return tags, alerts


# what a dump holds: the stage's rows of the run, and the whole ledger (a first run posts it)
_DUMPED = {
    "customer_packages": "SELECT * FROM customer_packages WHERE run_id = :r ORDER BY customer_id",
    "next_best_actions": "SELECT * FROM next_best_actions WHERE run_id = :r ORDER BY nba_id",
    "points_postings": "SELECT * FROM points_postings ORDER BY customer_id, source",  # the ledger's key
    "points_accounts": "SELECT * FROM points_accounts ORDER BY customer_id",
}


class _Clock:
    """CPU and wall seconds per phase, and the profiler (when given) on only while a phase runs:
    the reads that set the stage up are not the stage."""

    def __init__(self, prof: cProfile.Profile | None = None):
        self.cpu = {"strategy": 0.0, "next-best actions": 0.0, "points": 0.0}
        self.wall = dict.fromkeys(self.cpu, 0.0)
        self.prof = prof

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        if self.prof is not None:
            self.prof.enable()
        c0, w0 = time.process_time(), time.perf_counter()
        try:
            yield
        finally:
            self.cpu[phase] += time.process_time() - c0
            self.wall[phase] += time.perf_counter() - w0
            if self.prof is not None:
                self.prof.disable()


def run(
    engine: sa.Engine,
    dump: str | Path | None = None,
    first: bool = False,
    prof: cProfile.Profile | None = None,
    at: dt.datetime | None = None,
    reference: bool = False,
    part: int = PART,
) -> dict:
    """Time the stage on `engine`'s bank (see the module's doc). `reference`: with main's
    functions from before the tag grid (baselines/strategy_rows.py) in place of this code's."""
    if reference:
        import strategy_rows  # on the path from baselines/, like the other baselines

        assign, pivot, code = strategy_rows.assign_packages, None, strategy_rows.main_code()
    else:
        assign, pivot, code = assign_packages, pivot_tags, nullcontext()
    with code:
        return _run(engine, dump, first, prof, at, assign, pivot, part)


def _run(engine, dump, first, prof, at, assign_packages, pivot_tags, part_size) -> dict:
    with engine.connect() as conn:
        run_id = latest_run_id(conn)
        std = live_standard(conn)
        tags, alerts = _read(conn, run_id)
        people = conn.execute(sa.text("SELECT customer_id FROM individuals")).scalars().all()
    individuals = len(people)
    playbook = playbook_of(std)
    # the individuals' tags: a run gives enterprises no package and no action
    tags = tags[tags["customer_id"].isin(set(people))].reset_index(drop=True)
    ids = tags["customer_id"].unique()
    parts = [tags[tags["customer_id"].isin(ids[i : i + part_size])] for i in range(0, len(ids), part_size)]
    # each partition's alerts picked out before the clock starts: the run's detector hands them over
    found = [alerts[alerts["customer_id"].isin(part["customer_id"].unique())] for part in parts]
    clock = _Clock(prof)
    rows = {"packages": 0, "actions": 0}
    at = at or utcnow()
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            publish_pragmas(conn)  # the page cache a run's publish sets
            conn.execute(sa.text("DELETE FROM customer_packages WHERE run_id = :r"), {"r": run_id})
            conn.execute(sa.text("DELETE FROM next_best_actions WHERE run_id = :r"), {"r": run_id})
            if first:  # the bank's first run: nothing posted, no event read yet, no rules mined
                for table in _FIRST_RUN_EMPTY:
                    if sa.inspect(conn).has_table(table):
                        conn.execute(sa.text(f"DELETE FROM {table}"))
            with clock("next-best actions"):
                step = action_stage(conn, std, run_id, at)
            given = []
            for part, alerted in zip(parts, found):
                with clock("strategy"):
                    if pivot_tags is not None:  # as the run: one pivot for the packages and the actions
                        part = pivot_tags(part)
                    packages = assign_packages(part, playbook)
                    rows["packages"] += write_packages(conn, packages, run_id)
                    given.append(packages[["customer_id", "package"]])  # as the publish keeps them
                with clock("next-best actions"):
                    rows["actions"] += step(part, alerted)
            with clock("points"):
                given = pd.concat(given, ignore_index=True)
                takes = "packages" in inspect.signature(post_points).parameters  # older code reads them back
                points = post_points(conn, playbook, run_id, "bench", at, *([given] if takes else []))
            if dump:  # what the stage wrote, to compare two versions of the code (compare_strategy.py)
                pd.to_pickle({t: pd.read_sql(sa.text(q), conn, params={"r": run_id}) for t, q in _DUMPED.items()}, dump)
        finally:
            tx.rollback()
    return {
        "customers": len(ids),
        "individuals": int(individuals),  # what the 1M extrapolation scales (as bench_pipeline's)
        "first_run": first,
        "seconds": {k: round(v, 2) for k, v in clock.cpu.items()},
        "total": round(sum(clock.cpu.values()), 2),
        "wall": {k: round(v, 2) for k, v in clock.wall.items()},
        "wall_total": round(sum(clock.wall.values()), 2),
        "rows": rows,
        "points": points,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        # the script's own peak (it holds the whole bank's tags; a run holds a partition's)
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _alert_parts(engine: sa.Engine, cache: Path | None) -> list:
    """(features, tags) per partition of 50,000, as `classify` hands them to the alerts phase."""
    if cache is not None and cache.exists():
        return pd.read_pickle(cache)
    from clientstrata.jobs.classification import features as F
    from clientstrata.jobs.runs.tagging import iter_tags

    with engine.connect() as conn:
        std = live_standard(conn)
        feats = list(F.iter_individual_features(conn, std, progress=False))
        tags, _, _ = iter_tags(conn, feats, std, workers=0)
        parts = [(f, t) for f, t in tags if f is not None]
    if cache is not None:
        pd.to_pickle(parts, cache)
    return parts


def alert_rounds(engine: sa.Engine, rounds: int, cache: Path | None = None) -> dict:
    """The alerts phase, main's code and this one alternating (see the module's doc)."""
    import alert_rows  # on the path from baselines/

    from clientstrata.jobs.tracking.alerts import write_run_alerts
    from clientstrata.jobs.tracking.detection import alert_detector
    from clientstrata.jobs.tracking.settings import alert_settings

    parts = _alert_parts(engine, cache)
    code = {"main": (alert_rows.alert_detector, alert_rows.write_run_alerts), "new": (alert_detector, write_run_alerts)}
    runs = []
    for r in range(rounds):
        for kind in ("re-run", "first run"):
            for label in ("main", "new") if r % 2 == 0 else ("new", "main"):
                detector, write = code[label]
                with engine.connect() as conn:
                    tx = conn.begin()
                    publish_pragmas(conn)
                    std = live_standard(conn)
                    run_id = latest_run_id(conn)
                    previous = run_id
                    if kind == "first run":
                        conn.execute(sa.text("DELETE FROM alerts"))
                        previous = None
                    as_of = pd.Timestamp(parts[0][0]["as_of"].iloc[0]).date()
                    load0 = os.getloadavg()[0]
                    c0, w0 = time.process_time(), time.perf_counter()
                    detect = detector(conn, std, alert_settings(std), previous, as_of)
                    found = [detect(f, t) for f, t in parts]
                    written = write(conn, found, run_id, utcnow()).attrs["written"]
                    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
                    tx.rollback()
                runs.append(
                    {
                        "round": r,
                        "kind": kind,
                        "label": label,
                        "cpu_s": round(cpu, 2),
                        "wall_s": round(wall, 2),
                        "found": int(sum(len(x) for x in found)),
                        "written": int(written),
                        "load_avg_1m": [round(load0, 2), round(os.getloadavg()[0], 2)],
                    }
                )
                print(runs[-1], flush=True)
    medians = {}
    for kind in ("re-run", "first run"):
        m = {}
        for label in ("main", "new"):
            mine = [x for x in runs if x["kind"] == kind and x["label"] == label]
            m[label] = {k: round(statistics.median(x[k] for x in mine), 2) for k in ("cpu_s", "wall_s")}
            m[label]["found"], m[label]["written"] = mine[0]["found"], mine[0]["written"]
        m["ratio_cpu"] = round(m["main"]["cpu_s"] / m["new"]["cpu_s"], 2)
        m["ratio_wall"] = round(m["main"]["wall_s"] / m["new"]["wall_s"], 2)
        medians[kind] = m
    customers = int(sum(len(f) for f, _ in parts))
    return {"customers": customers, "rounds": rounds, "medians": medians, "runs": runs}


_ROLLUPS = ("household_rollups", "customer_rollups", "rollup_clock")


def household_tiers(engine: sa.Engine, pristine: str, rounds: int) -> dict:
    """The first run's household tiers phase, main's and this code's in alternating rounds (see
    the module's doc); the rollups each wrote compared, so the figures are of equal work."""
    import household_rollups as before  # on the path from baselines/

    from clientstrata.jobs.ingest import rollups as now

    with sa.create_engine(f"sqlite:///{pristine}").connect() as conn:  # the rollups as the ingest left them
        saved = {t: pd.read_sql(sa.text(f"SELECT * FROM {t}"), conn) for t in _ROLLUPS}
    with engine.connect() as conn:
        run_id, std = latest_run_id(conn), live_standard(conn)
        t = Tag.__table__
        rows = conn.execute(
            sa.select(t.c.customer_id, t.c.value).where(
                t.c.run_id == run_id, t.c.dimension == now.HOUSEHOLD_TIER_DIMENSION
            )
        ).all()
        people = conn.execute(sa.text("SELECT count(*) FROM individuals")).scalar_one()
    tiers = pd.Series([v for _, v in rows], index=[c for c, _ in rows], dtype=object)  # as the publish holds them
    runs, written = [], {}
    for i in range(rounds):
        for label, module in (("main", before), ("new", now)) if i % 2 == 0 else (("new", now), ("main", before)):
            with engine.connect() as conn:
                tx = conn.begin()
                try:
                    publish_pragmas(conn)
                    for table, frame in saved.items():
                        conn.execute(sa.text(f"DELETE FROM {table}"))
                        conn.execute(sa.table(table, *map(sa.column, frame)).insert(), frame.to_dict("records"))
                    load = os.getloadavg()[0]
                    c0, w0 = time.process_time(), time.perf_counter()
                    report = module.refresh_after_publish(conn, tiers, std.fx_to_cny)
                    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
                    hh = pd.read_sql(
                        sa.text(
                            "SELECT household_id, aum, member_count, tier, fingerprint, version FROM household_rollups"
                        ),
                        conn,
                    ).sort_values("household_id", ignore_index=True)
                finally:
                    tx.rollback()
            written.setdefault(label, hh)
            runs.append(
                {
                    "label": label,
                    "round": i,
                    "cpu": round(cpu, 3),
                    "wall": round(wall, 3),
                    "load_avg_1m": round(load, 2),
                    "households": report.households,
                    "full": report.full,
                }
            )
            print(runs[-1], flush=True)
    pd.testing.assert_frame_equal(written["main"], written["new"], check_dtype=False)
    medians = {
        lab: {k: round(statistics.median(r[k] for r in runs if r["label"] == lab), 3) for k in ("cpu", "wall")}
        for lab in ("main", "new")
    }
    return {
        "phase": "household tiers",
        "first_run": True,
        "individuals": int(people),
        "households_written": int(runs[-1]["households"]),
        "rounds": rounds,
        "runs": runs,
        "medians": medians,
        "cpu_ratio": round(medians["main"]["cpu"] / medians["new"]["cpu"], 1),
        "wall_ratio": round(medians["main"]["wall"] / medians["new"]["wall"], 1),
        "same_rows": True,  # the comparison above passed
        "load_avg_1m": [r["load_avg_1m"] for r in runs],
        "cpus": os.cpu_count(),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", required=True)
    p.add_argument("--household-tiers", metavar="PRISTINE", help="time the first run's household tiers phase instead")
    p.add_argument("--rounds", type=int, default=5, help="with --household-tiers: rounds of main and this code")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--first", action="store_true", help="as the bank's first run: the ledger emptied first")
    p.add_argument("--dump", help="pickle what the stage wrote here (to compare two versions)")
    p.add_argument(
        "--at", help="the run's moment (naive UTC, ISO), so two versions' dumps compare exactly (default: now)"
    )
    p.add_argument(
        "--reference",
        action="store_true",
        help="main's functions from before the tag grid (baselines/strategy_rows.py)",
    )
    p.add_argument("--label", default="new", help="what code this is (e.g. main, new), in --out")
    p.add_argument("--out", type=Path, help="JSON file the run is added to; medians per label are kept")
    p.add_argument("--alerts", type=int, metavar="ROUNDS", help="time the alerts phase instead, main's and this code's")
    p.add_argument("--parts", type=Path, help="with --alerts: keep the partitions' features and tags in this pickle")
    args = p.parse_args()
    if args.alerts or args.household_tiers:
        if args.alerts:
            out = alert_rounds(sa.create_engine(f"sqlite:///{args.db}"), args.alerts, args.parts)
            print(json.dumps(out["medians"], indent=2))
        else:
            out = household_tiers(sa.create_engine(f"sqlite:///{args.db}"), args.household_tiers, args.rounds)
            print({k: out[k] for k in ("medians", "cpu_ratio", "wall_ratio", "households_written")})
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(out, indent=2) + "\n")
        return
    at = dt.datetime.fromisoformat(args.at) if args.at else None
    prof = cProfile.Profile(time.process_time) if args.profile else None  # CPU: the machine is shared
    out = run(sa.create_engine(f"sqlite:///{args.db}"), args.dump, args.first, prof, at, args.reference)
    if prof is not None:
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        pstats.Stats(prof).sort_stats("cumulative").print_stats("strategies|records|bulk", 60)
    print(out)
    if args.out:
        _record(args.out, args.label, out)


def _record(path: Path, label: str, result: dict) -> None:
    """Add a run to `path` and keep, per label, the median of each phase over its runs."""
    found = json.loads(path.read_text()) if path.exists() else {"runs": []}
    found["runs"].append({"label": label, "cpus": os.cpu_count(), **result})
    medians = {}
    for lab in dict.fromkeys(r["label"] for r in found["runs"]):
        mine = [r for r in found["runs"] if r["label"] == lab]
        phases = {k: round(statistics.median(r["seconds"][k] for r in mine), 2) for k in mine[0]["seconds"]}
        medians[lab] = {"runs": len(mine), "seconds": phases, "total": round(sum(phases.values()), 2)}
        walls = [r for r in mine if "wall" in r]  # runs recorded before wall seconds were kept have none
        if walls:
            wall = {k: round(statistics.median(r["wall"][k] for r in walls), 2) for k in walls[0]["wall"]}
            medians[lab]["wall"] = wall
            medians[lab]["wall_total"] = round(statistics.median(r["wall_total"] for r in walls), 2)
    found["medians"] = medians
    # per phase, the labels side by side (for a table of main against this code), and the total
    # extrapolated linearly to 1M individuals
    phases = [*next(iter(medians.values()))["seconds"], "total"]
    found["by_phase"] = {
        p: {lab: m["total"] if p == "total" else m["seconds"][p] for lab, m in medians.items()} for p in phases
    }
    scale = 1_000_000 / found["runs"][-1].get("individuals", result["customers"])
    found["by_phase"]["extrapolated_1m_seconds"] = {lab: round(m["total"] * scale, 1) for lab, m in medians.items()}
    found["by_phase"]["wall_total"] = {lab: m["wall_total"] for lab, m in medians.items() if "wall_total" in m}
    found["by_phase"]["wall_extrapolated_1m_seconds"] = {
        lab: round(m["wall_total"] * scale, 1) for lab, m in medians.items() if "wall_total" in m
    }
    found["load_avg_1m"] = [r["load_avg_1m"] for r in found["runs"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(found, indent=2) + "\n")


if __name__ == "__main__":
    main()
