"""Classification runs: numbered, atomic (published whole or not at all), kept as history.

`classify` runs four stages: reserve (claim or number the run, snapshot its inputs), features
(read them and set up the tags), publish (every partition's tags, change-feed rows and service
packages, the alerts detected) and finish (outbox, alerts, status flip, household tiers). Publish and finish
share one transaction, so readers see all of a run or none of it; a failure anywhere marks the
run failed and leaves the previous one live."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import ClientStrataError, InvalidInput, StoreUnavailable
from clientstrata.graph.record import audit
from clientstrata.graph.record.db import NoRecord, count_rows, get_engine, has_customers, migrate
from clientstrata.graph.record.models import ClassificationRun, IngestRun
from clientstrata.graph.record.queries import latest_run_id
from clientstrata.graph.stores import GraphStore, open_graph
from clientstrata.jobs.classification import features as F
from clientstrata.jobs.classification.classify import ENTERPRISE
from clientstrata.jobs.classification.standard import Standard, load_standard, parse_standard
from clientstrata.jobs.errors import InvalidState
from clientstrata.jobs.governance.adoption import check_live
from clientstrata.jobs.governance.overrides import expire_overrides
from clientstrata.jobs.governance.standards import governance_of, live_standard, register_standard, standard_text
from clientstrata.jobs.ingest.rollups import HOUSEHOLD_TIER_DIMENSION, refresh_after_publish
from clientstrata.jobs.progress import Stopwatch, bar
from clientstrata.jobs.strategies.nba import action_stage
from clientstrata.jobs.strategies.packages import assign_packages
from clientstrata.jobs.strategies.playbook import Playbook, playbook_of
from clientstrata.jobs.strategies.points import post_points
from clientstrata.jobs.strategies.store import package_payload, run_packages, write_packages
from clientstrata.jobs.strategies.tag_grid import TagCodes, pivot_tags
from clientstrata.jobs.tracking.alerts import write_run_alerts
from clientstrata.jobs.tracking.detection import alert_detector
from clientstrata.jobs.tracking.settings import alert_settings

from .changes import RunChanges, lock_feed
from .current_values import feed_position, refresh_current_values
from .digests import ENTERPRISE_SCOPE, INDIVIDUAL, Touched
from .external import read_external
from .lease import Heartbeat, LeaseLost, lease_values
from .notify import notification_rows, write_notifications
from .publish import publish_pragmas
from .spans import SpanWriter, dimension_condition
from .tagging import iter_tags

__all__ = [
    "classify",
    "queue_run",
    "run_queued",
    "queued_runs",
    "RunNotQueued",
    "RunReport",
    "RunHook",
    "TAGS_WRITTEN",
    "BEFORE_COMMIT",
    "latest_run_id",
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
    "purchases",
    "card_spend",
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
    spans_opened: int = 0  # tag spans written: new or changed tags (an unchanged tag writes nothing)
    spans_closed: int = 0  # tag spans ended: tags changed or gone
    staged: int = 0  # tags compared exactly: those of the subjects whose digest moved (jobs/runs/digests.py)
    notifications: int = 0  # outbox rows the publish wrote
    alerts: int = 0  # new alerts the publish raised (repeats in the same period are not counted)
    packages: dict = field(default_factory=dict)  # service package -> customers (the playbook's)
    seconds: dict = field(default_factory=dict)  # wall seconds per phase: where the run's time went

    def to_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "standard_version": self.standard_version,
            "kind": self.kind,
            "customers": self.customers,
            "tags": self.tags,
            "changes": self.changes,
            "spans_opened": self.spans_opened,
            "spans_closed": self.spans_closed,
            "staged": self.staged,
            "notifications": self.notifications,
            "alerts": self.alerts,
            "packages": self.packages,
            "seconds": self.seconds,
            "distribution": {
                d: dict(zip(g["value"], g["customers"].astype(int))) for d, g in self.distribution.groupby("dimension")
            },
        }

    def __repr__(self) -> str:
        return f"RunReport(run_id={self.run_id}, customers={self.customers}, tags={self.tags})"


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


# The named points where `classify(on_stage=…)` calls the caller back, inside the publish
# transaction, with the tag rows written so far: after each partition's tags are written, and
# once everything is written, just before the commit. A hook that raises fails the run there
# (tests kill a run mid-publish this way); the previous run stays live.
TAGS_WRITTEN, BEFORE_COMMIT = "tags written", "before commit"
RunHook = Callable[[str, int], None]


def classify(
    engine: Engine | None = None,
    graph: GraphStore | None = None,
    standard: str | Path | Standard | None = None,
    progress: bool | None = None,
    kind: str = "on_demand",
    requested_by: str | None = None,
    refit_clusters: bool = False,
    run_id: int | None = None,
    on_stage: RunHook | None = None,
    adopt: bool = False,
    tags_from: str | Path | None = None,
) -> RunReport:
    """Run every dimension over every customer and publish the run atomically.

    One transaction publishes the tags, the change-feed rows (effective values that differ from
    the previous published run), the notification outbox rows and the status flip; a failure
    anywhere leaves the previous run, the feed and the outbox as they were. The standard's
    full text is registered by sha256 and the snapshot records the inputs read, so the run can
    be reproduced. `graph` is only asked whether it is synced (its counts go in the snapshot):
    the features are read from the record.

    `run_id` names a run `queue_run` recorded: it is claimed (queued → running) instead of a new
    number being reserved; a run that is no longer queued is refused (`InvalidState`).
    `on_stage` is called at the named points of the publish (`TAGS_WRITTEN`, `BEFORE_COMMIT`).

    The standard is the live one (`live_standard`) unless one is given; one that is not live is
    refused (`StandardNotAdopted`) unless `adopt` makes it live, audited as adopted by
    `requested_by`, in the transaction that starts the run. While it runs, the run holds a lease
    its heartbeat renews (`jobs.runs.lease`): if the process dies, the run is reaped as failed.

    `tags_from` names a folder of features and individual tags a Spark job made (`external`):
    they are checked and published instead of being computed here. A folder that does not fit
    is refused (`InvalidInput`) before the run is numbered, as a standard that is not live is."""
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    std = None if standard is None else _standard(standard)  # a bad file is refused before anything else
    engine = engine or get_engine()
    migrate(engine)
    if std is None:
        with engine.connect() as conn:
            std = live_standard(conn)
    text = standard_text(None, std)
    gov = governance_of(std)
    alerts = alert_settings(std)
    if run_id is None:
        _require_customers(engine)
    run = _Run(
        engine,
        std,
        text,
        gov,
        alerts,
        kind=kind,
        requested_by=requested_by,
        progress=progress,
        on_stage=on_stage,
        playbook=playbook_of(std),
    )
    external = None if tags_from is None else _external(run, Path(tags_from), queued=run_id)
    _reserve(run, queued=run_id, adopt=adopt)
    try:
        with Heartbeat(engine, _RUNS, "run_id", run.run_id):  # the lease: a run whose process dies is reaped
            tags, as_of = _features(run, graph, refit_clusters, tags_from, external)
            with engine.begin() as conn:  # one transaction: readers see all of the run or none
                published = _publish(conn, run, tags, as_of)
                finished = _finish(conn, run, published)
    except BaseException as exc:
        _fail(run, exc)
        raise
    return _report(run, published, finished)


_RUNS = ClassificationRun.__table__


def _require_customers(engine: Engine) -> None:
    # a run over nobody would publish, and notify, that every customer lost every tag
    with engine.connect() as conn:
        if not has_customers(conn):
            raise NoRecord("the record has no customers: load a bundle with `clientstrata ingest BUNDLE` first")


@dataclass
class _Run:
    """What a run's stages share: set up by `classify`; `_reserve` gives it its number and snapshot."""

    engine: Engine
    std: Standard
    text: str  # the standard's full text, registered by sha256
    gov: Any  # the standard's governance block (`governance_of`)
    alerts: Any  # its alert settings (`alert_settings`)
    kind: str
    requested_by: str | None
    progress: bool | None
    on_stage: RunHook | None
    playbook: Playbook | None = None  # the standard's playbook: the strategy stage's packages
    run_id: int | None = None
    snapshot: dict = field(default_factory=dict)
    watch: Stopwatch = field(default_factory=Stopwatch)  # wall seconds per phase: the report's `seconds`
    started: float = field(default_factory=time.perf_counter)

    @property
    def actor(self) -> str:
        return self.requested_by or "system"

    def reached(self, stage: str, written: int) -> None:
        """A named point of the publish: the caller's hook, if any, is called there."""
        if self.on_stage is not None:
            self.on_stage(stage, written)


def _reserve(run: _Run, queued: int | None, adopt: bool = False) -> None:
    """Stage 1, committed at once: the standard checked live (or adopted), registered, the inputs
    counted, and the run numbered (or the queued one claimed), visible as "running" with its lease.
    A queued run whose standard is no longer live is recorded failed, and refused."""
    std = run.std
    with run.engine.begin() as conn:
        refused = check_live(conn, std, run.text, adopted_by=run.requested_by, adopt=adopt)
        if refused is not None and queued is None:
            raise refused  # nothing written
        if refused is not None:  # committed as failed, then raised below
            _refuse_queued(conn, queued, run.actor, refused)
        else:
            _claim(conn, run, queued)
    if refused is not None:
        raise refused


def _external(run: _Run, folder: Path, queued: int | None) -> tuple[list[pd.DataFrame], Callable]:
    """A Spark job's output read and checked before the run is numbered: a folder that does not
    fit is refused as a standard that is not live is — nothing written, or, for a queued run
    (which already has its number), the run recorded failed with the reason."""
    try:
        with run.engine.connect() as conn, run.watch("features"):
            return read_external(conn, folder, run.std)
    except InvalidInput as refused:
        if queued is not None:
            with run.engine.begin() as conn:
                _refuse_queued(conn, queued, run.actor, refused)
        raise


def _refuse_queued(conn: Connection, run_id: int, actor: str, refused: Exception) -> None:
    reason = failure_reason(refused)
    if (
        conn.execute(
            sa.update(_RUNS)
            .where(_RUNS.c.run_id == run_id, _RUNS.c.status == "queued")
            .values(status="failed", error=reason[:2000])
        ).rowcount
        != 1
    ):
        raise RunNotQueued(f"run {run_id} is not queued: another worker took it, or it has finished")
    audit.record(conn, actor, "run.failed", "classification_run", run_id, {"error": reason[:500]})


def _claim(conn: Connection, run: _Run, queued: int | None) -> None:
    """The run numbered (or the queued one claimed) with its snapshot and lease, in `_reserve`'s transaction."""
    std = run.std
    register_standard(conn, std, run.text)
    with run.watch("input snapshot"):
        run.snapshot = _snapshot(conn)
    run.snapshot["individuals"] = run.snapshot["rows"]["individuals"]
    values = dict(
        status="running",
        standard_version=std.version,
        standard_sha256=std.sha256,
        kind=run.kind,
        requested_by=run.requested_by,
        snapshot=run.snapshot,
        started_at=utcnow(),
        **lease_values(),
    )
    if queued is None:
        run.run_id = conn.execute(sa.insert(_RUNS).values(**values)).inserted_primary_key[0]
    elif (
        conn.execute(
            sa.update(_RUNS).where(_RUNS.c.run_id == queued, _RUNS.c.status == "queued").values(**values)
        ).rowcount
        != 1
    ):  # conditional: two workers cannot both claim it
        raise RunNotQueued(f"run {queued} is not queued: another worker took it, or it has finished")
    else:
        run.run_id = queued
    audit.record(
        conn,
        run.actor,
        "run.started",
        "classification_run",
        run.run_id,
        {"kind": run.kind, "standard_version": std.version, "standard_sha256": std.sha256},
    )


def _features(
    run: _Run,
    graph: GraphStore | None,
    refit_clusters: bool,
    tags_from: str | Path | None = None,
    external: tuple[list[pd.DataFrame], Callable] | None = None,
) -> tuple[Iterator, dt.date | None]:
    """Stage 2: the graph checked synced, the wide features read (or a Spark job's, with its
    tags: `external`, read from `tags_from` by `_external`), and the tags set up (population
    parameters, cluster model, enterprise features): a generator of (features, tags) per
    partition, enterprises last, and the date the data describes (None without individuals)."""
    given = None
    with run.engine.connect() as conn:
        run.snapshot["graph"] = graph_counts(conn, graph)
        require_synced(conn, graph, run.snapshot["graph"])
        with run.watch("features"):
            if external is None:
                parts = list(F.iter_individual_features(conn, run.std, progress=run.progress))
            else:
                parts, given = external
                run.snapshot["tags_from"] = str(tags_from)  # where the individual tags were made
        with run.watch("population parameters, clusters, enterprise features"):
            tags, model, why_not = iter_tags(conn, parts, run.std, refit_clusters, given=given)
        run.snapshot["behaviour_clusters"] = model.to_dict() if model else {"skipped": why_not}  # to reproduce the run
    as_of = next((pd.Timestamp(p["as_of"].iloc[0]).date() for p in parts if len(p)), None)
    return tags, as_of


@dataclass
class _Published:
    """What the publish stage leaves for `_finish`, in the run's open transaction."""

    previous: int | None  # the run that was live
    at: dt.datetime  # when the run publishes: its feed, outbox and alert rows carry it
    feed: RunChanges
    spans: SpanWriter
    detect: Callable | None  # the alert detector; None when alerts are off or there are no individuals
    feed_from: int | None  # the feed's position before this run's rows (None: a first run)
    written: int = 0  # tags the run holds (only those of subjects whose digest moved are staged and diffed)
    actions: int = 0  # next-best-action rows (held-out control rows included)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (dimension, value) -> customers
    packages: dict[str, int] = field(default_factory=dict)  # service package -> customers
    found: list[pd.DataFrame] = field(default_factory=list)  # alerts detected per partition
    hh_tiers: list[pd.Series] = field(default_factory=list)  # customer -> household tier, per partition
    package_of: list[pd.DataFrame] = field(default_factory=list)  # customer_id, package, per partition (points)
    cross_sell_rules: dict | None = None  # the rules the actions were decided with: key, mined or reused, rules

    def count(self, part: pd.DataFrame) -> None:
        for key, n in part.groupby(["dimension", "value"]).size().items():
            self.counts[key] = self.counts.get(key, 0) + int(n)
        hh = part[part["dimension"] == HOUSEHOLD_TIER_DIMENSION]  # for the household refresh in `_finish`
        self.hh_tiers.append(
            pd.Series(hh["value"].to_numpy(dtype=object), index=hh["customer_id"].to_numpy(dtype=object))
        )


def _publish(conn: Connection, run: _Run, tags: Iterator, as_of: dt.date | None) -> _Published:
    """Stage 3, in the run's transaction: each partition's tags written as the workers hand
    them over (never all in memory at once), the change feed diffed range by range right behind
    the writes (while those pages are warm), and the alerts detected. The feed lock comes first
    so publishers commit in sequence order."""
    watch = run.watch
    with watch("waiting for the feed lock"):
        lock_feed(conn)
    publish_pragmas(conn)
    previous = latest_run_id(conn)
    feed_from = feed_position(conn) if previous is not None else None  # where this run's feed rows begin
    seq = _take_publish_seq(conn, run.run_id)
    with watch("alerts"):
        detect = (
            alert_detector(conn, run.std, run.alerts, previous, as_of)
            if as_of is not None and run.alerts.enabled
            else None
        )
    at = utcnow()
    with watch("next-best actions"):  # the strategy stage: written per partition with the tags
        act = action_stage(conn, run.std, run.run_id, at) if as_of is not None else None
    expire_overrides(conn, today=at.date(), run_id=previous)
    feed = RunChanges(conn, previous, run.run_id, at, run.gov.notify_dimensions, ENTERPRISE)
    spans, touched = SpanWriter(conn, seq), Touched(conn)
    individual, enterprise = (dimension_condition(list(ENTERPRISE), negate) for negate in (True, False))
    out, after = _Published(previous, at, feed, spans, detect, feed_from), None
    out.cross_sell_rules = act.rules_used if act is not None else None
    tags = iter(tags)
    with bar(
        int(run.snapshot["individuals"]),
        desc=f"classify and publish run {run.run_id}",
        unit="customers",
        progress=run.progress,
    ) as pbar:
        while True:
            with watch("classify (waiting for workers)"):
                features, part = next(tags, (None, None))
            if part is None:
                break
            # only the subjects whose digest moved (changed, new or gone) are staged, diffed and
            # written; the feed diffs the stage against their open spans, then the spans move
            with watch("stage tags"):
                out.written += len(part)
                if features is None:  # the enterprises come last: the individuals' last range too
                    touched.mark(part.iloc[:0], INDIVIDUAL, after, None)
                    spans.stage(touched.mark(part, ENTERPRISE_SCOPE))
                    ranges = [(after, None, False), (None, None, True)]
                elif len(features):
                    hi = features["customer_id"].iloc[-1]
                    spans.stage(touched.mark(part, INDIVIDUAL, after, hi))
                    ranges, after = [(after, hi, False)], hi
                else:
                    ranges = []
            with watch("change feed"):
                for lo, to, ent in ranges if touched.count else ():
                    feed.append(lo, to, enterprise=ent, only=touched.condition)
            with watch("close and open spans"):
                if touched.count:
                    for lo, to, ent in ranges:
                        spans.close(lo, to, _and(enterprise if ent else individual, touched.condition))
                    spans.open()
                    spans.clear()
                    touched.clear()
            out.count(part)
            if features is not None:
                with watch("strategy"):
                    grid = pivot_tags(part)  # one pivot of the partition: its packages and its actions
                    _strategy(conn, run, grid, out)
                found = None
                if detect is not None and len(features):
                    with watch("alerts"):
                        found = detect(features, part)
                        out.found.append(found)
                if act is not None and len(features):
                    with watch("next-best actions"):
                        out.actions += act(grid, found)
                pbar.update(len(features))
            run.reached(TAGS_WRITTEN, out.written)
    spans.done()
    touched.done()
    return out


def _and(*conditions: str) -> str:
    return " AND ".join(c for c in conditions if c)


def _take_publish_seq(conn: Connection, run_id: int) -> int:
    """The run's place in publication order (under the feed lock, so publishers take 1, 2, 3…
    in commit order; rolled back with a publish that fails): the clock of its tag spans, and
    what makes its tags visible in the `tags` view to its own transaction."""
    seq = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(_RUNS.c.publish_seq), 0))).scalar()) + 1
    conn.execute(sa.update(_RUNS).where(_RUNS.c.run_id == run_id).values(publish_seq=seq))
    return seq


def _strategy(conn: Connection, run: _Run, grid: TagCodes, out: _Published) -> None:
    """The strategy stage, per partition in the publish transaction: each individual's service
    package from the partition's tags (`assign_packages`, on their grid), stored with its
    selector and why."""
    packages = assign_packages(grid, run.playbook)
    write_packages(conn, packages, run.run_id)
    out.package_of.append(packages[["customer_id", "package"]])
    for name, n in packages["package"].value_counts().items():
        out.packages[name] = out.packages.get(name, 0) + int(n)


def _new_packages(conn: Connection, run: _Run, diff: pd.DataFrame) -> dict[str, dict]:
    """customer -> the new package's name and entitlements, for the notices of `diff`."""
    if diff.empty:
        return {}
    ids = diff.loc[diff["dimension"].isin(run.gov.notify_dimensions), "customer_id"].unique().tolist()
    found = run_packages(conn, run.run_id, ids) if ids else run_packages(conn, None)
    by_value = {p.value: package_payload(p) for p in run.playbook.packages}
    return {c: by_value[p] for c, p in zip(found["customer_id"], found["package"]) if p in by_value}


class _Finished(NamedTuple):
    changes: int  # change-feed rows
    notifications: int  # outbox rows
    alerts: int  # new alerts


def _finish(conn: Connection, run: _Run, p: _Published) -> _Finished:
    """Stage 4, in the same transaction: the feed closed, the outbox and the alerts written, the
    run flipped to published with its snapshot, household tiers moved with it, the audit entry."""
    watch = run.watch
    changed, diff = p.feed.close()
    notes = notification_rows(diff, run.gov, run.run_id, p.at, run.std, _new_packages(conn, run, diff))
    with watch("notifications"):
        write_notifications(conn, notes)
    with watch("alerts"):
        new_alerts = int(write_run_alerts(conn, p.found, run.run_id, p.at).attrs.get("written", 0)) if p.detect else 0
    flipped = conn.execute(
        sa.update(_RUNS)
        .where(_RUNS.c.run_id == run.run_id, _RUNS.c.status == "running")
        .values(
            status="published",
            published_at=p.at,
            customer_count=int(run.snapshot["individuals"]),
            snapshot=run.snapshot,
            lease_until=None,
        )
    ).rowcount
    if flipped != 1:  # reaped: its lease lapsed while this process was held up; publishing now would be a zombie
        raise LeaseLost(f"run {run.run_id} was declared dead (its lease lapsed) before it could publish; run again")
    with watch("current values"):  # the bulk read's wide rows of what the run changed
        refresh_current_values(conn, run.run_id, p.feed_from, p.at)
    with watch("household tiers"):  # they move with the run, in its transaction
        tiers = pd.concat(p.hh_tiers) if p.hh_tiers else pd.Series(dtype=object)
        refresh_after_publish(conn, tiers, run.std.fx_to_cny)
    with watch("points"):  # 积分 on the events not yet posted, times this run's packages; then expiry
        packages = pd.concat(p.package_of, ignore_index=True) if p.package_of else None  # no read back
        points = post_points(conn, run.playbook, run.run_id, run.actor, p.at, packages)
    audit.record(
        conn,
        run.actor,
        "run.published",
        "classification_run",
        run.run_id,
        {
            "previous_run": p.previous,
            "changes": changed,
            "notifications": len(notes),
            "alerts": new_alerts,
            "points": points,
            "cross_sell_rules": p.cross_sell_rules,
        },
        at=p.at,
    )
    run.reached(BEFORE_COMMIT, p.written)
    return _Finished(changed, len(notes), new_alerts)


def _fail(run: _Run, exc: BaseException) -> None:
    """The run recorded as failed, with what to fix (`failure_reason`), in a transaction of its own."""
    reason = failure_reason(exc)
    with run.engine.begin() as conn:
        conn.execute(
            sa.update(_RUNS)
            .where(_RUNS.c.run_id == run.run_id)
            .values(status="failed", error=reason[:2000], lease_until=None)
        )
        audit.record(conn, run.actor, "run.failed", "classification_run", run.run_id, {"error": reason[:500]})


def _report(run: _Run, p: _Published, f: _Finished) -> RunReport:
    dist = pd.DataFrame(
        [(d, v, n) for (d, v), n in sorted(p.counts.items())], columns=["dimension", "value", "customers"]
    )
    seconds = {
        "total": round(time.perf_counter() - run.started, 2),
        **run.watch.rounded(),
    }  # the rest: commit, bookkeeping
    return RunReport(
        run.run_id,
        run.std.version,
        int(run.snapshot["individuals"]),
        p.written,
        dist,
        kind=run.kind,
        changes=f.changes,
        spans_opened=p.spans.opened,
        spans_closed=p.spans.closed,
        staged=p.spans.staged,
        notifications=f.notifications,
        alerts=f.alerts,
        packages=dict(sorted(p.packages.items())),
        seconds=seconds,
    )


def queue_run(
    engine: Engine | None = None,
    standard: str | Path | Standard | None = None,
    kind: str = "on_demand",
    requested_by: str | None = None,
) -> int:
    """Record a run to be done (status `queued`) and return its number at once; `run_queued`
    (a background worker: `jobs.runs.worker.RunWorker`) does it. The standard — by default the live
    one (`live_standard`) — is checked and registered now, so a bad one is
    refused before anything is queued; so is one that is not live (`StandardNotAdopted`)."""
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    engine = engine or get_engine()
    migrate(engine)
    _require_customers(engine)
    with engine.begin() as conn:
        std = live_standard(conn) if standard is None else _standard(standard)
        text = standard_text(None, std)
        refused = check_live(conn, std, text)
        if refused is not None:
            raise refused
        register_standard(conn, std, text)
        runs = ClassificationRun.__table__
        run_id = conn.execute(
            sa.insert(runs).values(
                status="queued",
                standard_version=std.version,
                standard_sha256=std.sha256,
                kind=kind,
                requested_by=requested_by,
                started_at=utcnow(),
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
