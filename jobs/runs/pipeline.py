"""Classification runs: numbered, atomic (published whole or not at all), kept as history."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from clientstrata.graph.errors import ClientStrataError, InvalidInput, StoreUnavailable
from clientstrata.graph.record import audit
from clientstrata.graph.record.db import count_rows, get_engine, migrate
from clientstrata.graph.record.models import ClassificationRun, IngestRun
from clientstrata.graph.record.queries import latest_run_id
from clientstrata.graph.stores import GraphStore, open_graph
from clientstrata.jobs.classification import features as F
from clientstrata.jobs.classification.classify import (
    ENTERPRISE,
    classify_enterprises,
    classify_partition,
    population_parameters,
)
from clientstrata.jobs.classification.segments import (
    assign_clusters,
    behaviour_of,
    cluster_model_for_run,
    live_cluster_model,
)
from clientstrata.jobs.classification.standard import Standard, load_standard, parse_standard
from clientstrata.jobs.errors import InvalidState
from clientstrata.jobs.governance.overrides import expire_overrides
from clientstrata.jobs.governance.standards import governance_of, live_standard, register_standard, standard_text
from clientstrata.jobs.ingest.rollups import HOUSEHOLD_TIER_DIMENSION, refresh_after_publish
from clientstrata.jobs.progress import Stopwatch, bar
from clientstrata.jobs.tracking.alerts import write_run_alerts
from clientstrata.jobs.tracking.detection import alert_detector
from clientstrata.jobs.tracking.settings import alert_settings

from .changes import RunChanges, lock_feed
from .notify import notification_rows, write_notifications
from .publish import encode_inputs, publish_pragmas, write_tags

__all__ = [
    "classify",
    "queue_run",
    "run_queued",
    "queued_runs",
    "RunNotQueued",
    "RunReport",
    "latest_run_id",
    "build_tags",
    "iter_tags",
    "require_synced",
    "graph_counts",
    "failure_reason",
    "KINDS",
    "SNAPSHOT_TABLES",
]

KINDS = ("scheduled", "on_demand")
# The inputs a run read, counted in its snapshot (with the latest ingest id and the graph's counts).
SNAPSHOT_TABLES = (
    "individuals",
    "enterprises",
    "households",
    "household_members",
    "employment",
    "enterprise_control",
    "supply_chain",
    "products",
    "accounts",
    "account_holders",
    "balances_monthly",
    "loans",
    "cards",
    "standing_orders",
    "transactions",
    "risk_questionnaires",
)


class RunNotQueued(InvalidState):
    """A queued run was claimed by another worker, or is done, before this one came to it."""


@dataclass
class RunReport:
    run_id: int
    standard_version: str
    customers: int
    tags: int
    distribution: pd.DataFrame  # dimension, value, customers
    kind: str = "on_demand"
    changes: int = 0  # change-feed rows the publish appended
    notifications: int = 0  # outbox rows the publish wrote
    alerts: int = 0  # new alerts the publish raised (repeats in the same period are not counted)
    seconds: dict = field(default_factory=dict)  # wall seconds per phase: where the run's time went

    def to_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "standard_version": self.standard_version,
            "kind": self.kind,
            "customers": self.customers,
            "tags": self.tags,
            "changes": self.changes,
            "notifications": self.notifications,
            "alerts": self.alerts,
            "seconds": self.seconds,
            "distribution": {
                d: dict(zip(g["value"], g["customers"].astype(int))) for d, g in self.distribution.groupby("dimension")
            },
        }

    def __repr__(self) -> str:
        return f"RunReport(run_id={self.run_id}, customers={self.customers}, tags={self.tags})"


def build_tags(
    conn,
    graph: GraphStore | None,
    std,
    progress: bool | None = None,
    refit_clusters: bool = False,
    features: list | None = None,
) -> pd.DataFrame:
    """Every tag of a run in one frame (what-if diffs it whole; `classify` streams `iter_tags`).
    Pass a list as `features` to get the partitions back (the alerts read them)."""
    parts = list(F.iter_individual_features(conn, graph, std, progress=progress))
    if features is not None:
        features.extend(parts)
    tags, model, why_not = iter_tags(conn, parts, std, refit_clusters)
    out = pd.concat([t for _, t in tags], ignore_index=True)
    out["score"] = out["score"].astype(object).where(out["score"].notna(), None)  # NULL, not NaN, in the record
    out["inputs"] = [orjson.loads(i) for i in out["inputs"].tolist()]  # analysts read them as dicts
    out.attrs["behaviour_clusters"] = model.to_dict() if model else {"skipped": why_not}
    return out


def iter_tags(conn, parts: list[pd.DataFrame], std, refit_clusters: bool = False, workers: int | None = None):
    """Population parameters once over every partition and the behaviour-cluster model (the live
    run's, fitted anew only when there is none or `refit_clusters`); then a generator of
    (features, tags) per partition — every individual dimension and the cluster, `inputs` as
    JSON text, as the record keeps them — and last (None, enterprise tags). The generator
    empties `parts` as it goes.
    Returns (generator, model, why_not).

    With more than one partition, `workers` processes (default: one per core but the one the
    caller writes with; 0: none) classify the next partitions while the caller writes this one: the
    dimensions are pandas, which holds a core, and a publish is a single writer. At most
    `workers + 1` partitions are in flight, so memory stays bounded by the window, not by the run."""
    params = population_parameters(parts, std)
    live = None if refit_clusters else live_cluster_model(conn)
    model, why_not = cluster_model_for_run(parts, live)
    enterprises = F.enterprise_features(conn, std)
    workers = min(max(1, (os.cpu_count() or 1) - 1) if workers is None else workers, len(parts) - 1)

    def drained():  # each partition is let go once handed over: the caller's writes get its memory
        while parts:
            yield parts.pop(0)

    def tags():
        if workers < 1:  # one partition, or asked to stay in this process
            for p in drained():
                yield p, _classified(p, std, params, model)
        else:
            with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
                window = deque()
                for p in drained():
                    window.append((p, pool.submit(_classified, p, std, params, model)))
                    if len(window) > workers:
                        done, future = window.popleft()
                        yield done, future.result()
                while window:
                    done, future = window.popleft()
                    yield done, future.result()
        yield None, _in_key_order(encode_inputs(classify_enterprises(enterprises, std)))

    return tags(), model, why_not


def _classified(part: pd.DataFrame, std, params: dict, model) -> pd.DataFrame:
    """One partition's individual tags (a worker process runs this: arguments and result pickle),
    in (customer, dimension) order: the primary key's, so the writes append to its index and a
    range's rows lie together for the change-feed diff (dimension by dimension cost a third
    more per write at 1M)."""
    frames = [classify_partition(part, std, params)]
    if model is not None:
        frames.append(assign_clusters(behaviour_of(part), model, std.version))
    return _in_key_order(encode_inputs(pd.concat(frames, ignore_index=True)))


def _in_key_order(tags: pd.DataFrame) -> pd.DataFrame:
    return tags.sort_values(["customer_id", "dimension"], ignore_index=True)


def graph_counts(conn, graph: GraphStore | None) -> dict[str, int]:
    """The graph's node and relationship counts: the store's own answer when one is open, else
    what the last sync-graph recorded (opening the embedded graph would load all of it)."""
    if graph is not None:
        return graph.counts()
    from clientstrata.jobs.ingest.sync import last_sync

    found = last_sync(conn)
    if found is not None:
        return found
    with open_graph() as g:  # a record synced before syncs were recorded
        return g.counts()


def require_synced(conn, graph: GraphStore | None, counts: dict[str, int] | None = None) -> None:
    counts = graph_counts(conn, graph) if counts is None else counts
    if count_rows(conn, sa.table("individuals")) and not counts.get("Individual"):
        raise InvalidInput("the customer graph is empty: run `clientstrata sync-graph` first")


def _snapshot(conn) -> dict:
    return {
        "ingest_id": conn.execute(sa.select(sa.func.max(IngestRun.ingest_id))).scalar(),
        "rows": {t: count_rows(conn, sa.table(t)) for t in SNAPSHOT_TABLES},
    }


def failure_reason(exc: BaseException) -> str:
    """What a failed run records as its error, for everyone who can list runs: our own errors say
    what to fix; anything else (driver, SQL, a bug) is named by type only — its text may carry
    SQL or hosts, and it is in the log of the process that ran the run."""
    if isinstance(exc, ClientStrataError) and not isinstance(exc, StoreUnavailable):
        return str(exc)
    return f"unexpected failure ({type(exc).__name__}); the details are in the log of the process that ran it"


def _standard(standard: str | Path | Standard | None) -> Standard:
    return standard if isinstance(standard, Standard) else load_standard(standard)


def classify(
    engine: Engine | None = None,
    graph: GraphStore | None = None,
    standard: str | Path | Standard | None = None,
    progress: bool | None = None,
    kind: str = "on_demand",
    requested_by: str | None = None,
    refit_clusters: bool = False,
    run_id: int | None = None,
    _fail_after_rows: int | None = None,
    _fail_before_commit: bool = False,
) -> RunReport:
    """Run every dimension over every customer and publish the run atomically.

    One transaction publishes the tags, the change-feed rows (effective values that differ from
    the previous published run), the notification outbox rows and the status flip; a failure
    anywhere leaves the previous run, the feed and the outbox as they were. The standard's
    full text is registered by sha256 and the snapshot records the inputs read, so the run can
    be reproduced.

    `run_id` names a run `queue_run` recorded: it is claimed (queued → running) instead of a new
    number being reserved; a run that is no longer queued is refused (`InvalidState`)."""
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    std = _standard(standard)
    text = standard_text(None, std)
    gov = governance_of(std, text)
    alert_cfg = alert_settings(std)  # a bad `alerts:` block is refused before the run starts
    actor = requested_by or "system"
    engine = engine or get_engine()
    migrate(engine)
    runs = ClassificationRun.__table__
    queued = run_id
    watch, started = Stopwatch(), time.perf_counter()
    with engine.begin() as conn:  # reserve the run number (or claim the queued one); it is visible as "running"
        register_standard(conn, std, text)
        with watch("input snapshot"):
            snapshot = _snapshot(conn)
        snapshot["individuals"] = snapshot["rows"]["individuals"]
        values = dict(
            status="running",
            standard_version=std.version,
            standard_sha256=std.sha256,
            kind=kind,
            requested_by=requested_by,
            snapshot=snapshot,
            started_at=dt.datetime.now(),
        )
        if queued is None:
            run_id = conn.execute(sa.insert(runs).values(**values)).inserted_primary_key[0]
        elif (
            conn.execute(
                sa.update(runs).where(runs.c.run_id == queued, runs.c.status == "queued").values(**values)
            ).rowcount
            != 1
        ):  # conditional: two workers cannot both claim it
            raise RunNotQueued(f"run {queued} is not queued: another worker took it, or it has finished")
        audit.record(
            conn,
            actor,
            "run.started",
            "classification_run",
            run_id,
            {"kind": kind, "standard_version": std.version, "standard_sha256": std.sha256},
        )
    try:
        with engine.connect() as conn:
            snapshot["graph"] = graph_counts(conn, graph)
            require_synced(conn, graph, snapshot["graph"])
            with watch("features"):
                parts = list(F.iter_individual_features(conn, graph, std, progress=progress))
            with watch("population parameters, clusters, enterprise features"):
                tags, model, why_not = iter_tags(conn, parts, std, refit_clusters)
            snapshot["behaviour_clusters"] = model.to_dict() if model else {"skipped": why_not}  # to reproduce the run
        # Tags, feed, outbox, alerts and the status flip share one transaction: readers see all
        # of the run or none. The feed lock comes first so publishers commit in sequence order.
        # Tags are classified and written a partition at a time, never all in memory at once.
        counts: dict[tuple[str, str], int] = {}
        written = 0
        with (
            engine.begin() as conn,
            bar(
                int(snapshot["individuals"]),
                desc=f"classify and publish run {run_id}",
                unit="customers",
                progress=progress,
            ) as pbar,
        ):
            with watch("waiting for the feed lock"):
                lock_feed(conn)
            publish_pragmas(conn)
            previous = latest_run_id(conn)
            live = next((p for p in parts if len(p)), None)  # not a list: the parts are let go as written
            with watch("alerts"):
                detect = (
                    alert_detector(conn, std, alert_cfg, previous, pd.Timestamp(live["as_of"].iloc[0]).date())
                    if live is not None and alert_cfg.enabled
                    else None
                )
            del live
            at = dt.datetime.now()
            expire_overrides(conn, today=at.date(), run_id=previous)
            # the feed is diffed range by range right behind the writes, while those pages are warm
            feed = RunChanges(conn, previous, run_id, at, gov.notify_dimensions, ENTERPRISE)
            found, after, hh_tiers = [], None, []
            tags = iter(tags)
            while True:
                with watch("classify (waiting for workers)"):
                    features, part = next(tags, (None, None))
                if part is None:
                    break
                with watch("write tags"):
                    written += write_tags(conn, part, run_id)
                with watch("change feed"):
                    if features is None:  # the enterprises come last: close the individuals' last range
                        feed.append(after, None)
                        feed.append(enterprise=True)
                    elif len(features):
                        hi = features["customer_id"].iloc[-1]
                        feed.append(after, hi)
                        after = hi
                for key, n in part.groupby(["dimension", "value"]).size().items():
                    counts[key] = counts.get(key, 0) + int(n)
                hh = part[part["dimension"] == HOUSEHOLD_TIER_DIMENSION]  # for the household refresh below
                hh_tiers.append(
                    pd.Series(hh["value"].to_numpy(dtype=object), index=hh["customer_id"].to_numpy(dtype=object))
                )
                if features is not None:
                    if detect is not None and len(features):
                        with watch("alerts"):
                            found.append(detect(features, part))
                    pbar.update(len(features))
                if _fail_after_rows is not None and written >= _fail_after_rows:
                    raise RuntimeError("simulated failure mid-publish")  # tests: tags written, not published
            changed, diff = feed.close()
            notes = notification_rows(diff, gov, run_id, at)
            with watch("notifications"):
                write_notifications(conn, notes)
            with watch("alerts"):
                new_alerts = int(write_run_alerts(conn, found, run_id, at).attrs.get("written", 0)) if detect else 0
            if _fail_before_commit:
                raise RuntimeError("simulated failure before commit")  # tests: everything written, not published
            conn.execute(
                sa.update(runs)
                .where(runs.c.run_id == run_id)
                .values(
                    status="published", published_at=at, customer_count=int(snapshot["individuals"]), snapshot=snapshot
                )
            )
            with watch("household tiers"):  # they move with the run, in its transaction
                tiers = pd.concat(hh_tiers) if hh_tiers else pd.Series(dtype=object)
                refresh_after_publish(conn, tiers, std.fx_to_cny)
            audit.record(
                conn,
                actor,
                "run.published",
                "classification_run",
                run_id,
                {"previous_run": previous, "changes": changed, "notifications": len(notes), "alerts": new_alerts},
                at=at,
            )
    except BaseException as exc:
        reason = failure_reason(exc)
        with engine.begin() as conn:
            conn.execute(sa.update(runs).where(runs.c.run_id == run_id).values(status="failed", error=reason[:2000]))
            audit.record(conn, actor, "run.failed", "classification_run", run_id, {"error": reason[:500]})
        raise
    dist = pd.DataFrame(
        [(d, v, n) for (d, v), n in sorted(counts.items())], columns=["dimension", "value", "customers"]
    )
    seconds = {"total": round(time.perf_counter() - started, 2), **watch.rounded()}  # the rest: commit, bookkeeping
    return RunReport(
        run_id,
        std.version,
        int(snapshot["individuals"]),
        written,
        dist,
        kind=kind,
        changes=changed,
        notifications=len(notes),
        alerts=new_alerts,
        seconds=seconds,
    )


def queue_run(
    engine: Engine | None = None,
    standard: str | Path | Standard | None = None,
    kind: str = "on_demand",
    requested_by: str | None = None,
) -> int:
    """Record a run to be done (status `queued`) and return its number at once; `run_queued`
    (a background worker: `jobs.worker.RunWorker`) does it. The standard — by default the live
    one, that of the latest published run — is checked and registered now, so a bad one is
    refused before anything is queued."""
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    engine = engine or get_engine()
    migrate(engine)
    with engine.begin() as conn:
        std = live_standard(conn) if standard is None else _standard(standard)
        text = standard_text(None, std)
        governance_of(std, text)
        alert_settings(std)
        register_standard(conn, std, text)
        runs = ClassificationRun.__table__
        run_id = conn.execute(
            sa.insert(runs).values(
                status="queued",
                standard_version=std.version,
                standard_sha256=std.sha256,
                kind=kind,
                requested_by=requested_by,
                started_at=dt.datetime.now(),
            )
        ).inserted_primary_key[0]
        audit.record(
            conn,
            requested_by or "system",
            "run.queued",
            "classification_run",
            run_id,
            {"kind": kind, "standard_version": std.version, "standard_sha256": std.sha256},
        )
    return int(run_id)


def queued_runs(conn) -> list[int]:
    runs = ClassificationRun.__table__
    return list(
        conn.execute(sa.select(runs.c.run_id).where(runs.c.status == "queued").order_by(runs.c.run_id)).scalars()
    )


def run_queued(
    engine: Engine, graph: GraphStore | None, run_id: int, progress: bool | None = False
) -> RunReport | None:
    """Do a queued run with the standard it was queued with. None when it is no longer queued
    (another worker claimed it); a run that fails is recorded as failed and the error raised."""
    from clientstrata.graph.record.models import StandardVersion

    runs, stds = ClassificationRun.__table__, StandardVersion.__table__
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(runs.c.status, runs.c.kind, runs.c.requested_by, stds.c.text)
            .select_from(runs.outerjoin(stds, stds.c.sha256 == runs.c.standard_sha256))
            .where(runs.c.run_id == run_id)
        ).first()
    if row is None or row.status != "queued":
        return None
    try:
        std = parse_standard(row.text, f"(run {run_id}) standard")
    except Exception as exc:  # registered when queued, so this is damage, not a caller's mistake
        with engine.begin() as conn:
            conn.execute(
                sa.update(runs)
                .where(runs.c.run_id == run_id, runs.c.status == "queued")
                .values(status="failed", error=str(exc)[:2000])
            )
        raise
    try:
        return classify(
            engine, graph, std, progress=progress, kind=row.kind, requested_by=row.requested_by, run_id=run_id
        )
    except RunNotQueued:
        return None
