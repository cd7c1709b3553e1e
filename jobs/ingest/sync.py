"""Project the relational record into the customer graph, idempotently, sending only what changed.

Each node and relationship carries a digest of its properties (`sync_rows`). A target (a label,
or a relationship type from one start label) the graph holds nothing of is a first load: its
rows are read BATCH at a time (a server-side cursor on PostgreSQL) and created. Otherwise the
target's rows are read whole and their digests compared with the graph's, so a re-sync writes
the new and changed items, deletes the gone ones, and sends nothing for a target that did not
change. The state is the graph's own: a killed sync, a cleared graph or a copied record cannot
make it disagree with what the graph holds."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from clientstrata.graph.record import audit
from clientstrata.graph.record.db import get_engine, migrate
from clientstrata.graph.stores import GraphStore, open_graph
from clientstrata.graph.stores.base import DIGEST, RELATIONSHIPS, Totals, totals_of
from clientstrata.graph.stores.networkx_store import paused_gc
from clientstrata.jobs.classification.features import current_aum, monthly_aum
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.ingest.sync_rows import records, with_digests
from clientstrata.jobs.progress import bar

__all__ = ["sync", "sync_graph", "SyncReport", "last_sync"]

BATCH = 50_000
SYNCED = "graph.synced"

# (kind, label or (rel, start label), SQL). Every query returns `id` (nodes) or `start`/`end`.
_PLAN: list[tuple[str, object, str]] = [
    ("node", "Branch", "SELECT branch_id AS id, name, region, city FROM branches"),
    ("node", "RelationshipManager", "SELECT rm_id AS id, name, grade FROM relationship_managers"),
    ("node", "Product", "SELECT product_id AS id, name, family, risk_level FROM products"),
    ("node", "Individual", "SELECT customer_id AS id, name, gender, birth_date FROM individuals"),
    ("node", "Enterprise", "SELECT enterprise_id AS id, name, industry, size FROM enterprises"),
    ("node", "Household", "SELECT household_id AS id, name, status FROM households"),
    (
        "node",
        "Account",
        "SELECT a.account_id AS id, p.family, a.status FROM accounts a JOIN products p ON p.product_id = a.product_id",
    ),
    ("rel", ("WORKS_AT", "RelationshipManager"), "SELECT rm_id AS start, branch_id AS end FROM relationship_managers"),
    (
        "rel",
        ("MANAGED_BY", "Individual"),
        "SELECT customer_id AS start, rm_id AS end FROM individuals WHERE rm_id IS NOT NULL",
    ),
    (
        "rel",
        ("MANAGED_BY", "Enterprise"),
        "SELECT enterprise_id AS start, rm_id AS end FROM enterprises WHERE rm_id IS NOT NULL",
    ),
    (
        "rel",
        ("MEMBER_OF", "Individual"),
        "SELECT customer_id AS start, household_id AS end, role FROM household_members",
    ),
    (
        "rel",
        ("EMPLOYED_BY", "Individual"),
        "SELECT customer_id AS start, enterprise_id AS end, payroll FROM employment",
    ),
    (
        "rel",
        ("CONTROLS", "Individual"),
        "SELECT customer_id AS start, enterprise_id AS end, role, share FROM enterprise_control",
    ),
    (
        "rel",
        ("SUPPLIES", "Enterprise"),
        "SELECT supplier_id AS start, buyer_id AS end, annual_volume FROM supply_chain",
    ),
    (
        "rel",
        ("OWNS", "Individual"),
        "SELECT owner_id AS start, account_id AS end FROM accounts WHERE owner_type = 'individual'",
    ),
    (
        "rel",
        ("OWNS", "Enterprise"),
        "SELECT owner_id AS start, account_id AS end FROM accounts WHERE owner_type = 'enterprise'",
    ),
    (
        "rel",
        ("CO_HOLDS", "Individual"),
        "SELECT customer_id AS start, account_id AS end, role FROM account_holders WHERE role <> 'owner'",
    ),
    (
        "rel",
        ("HOLDS", "Individual"),
        # one row per (customer, product), as the graph holds one relationship for it
        """
        SELECT start, "end", SUM(balance) AS balance, MIN(opened) AS opened FROM (
        SELECT owner_id AS start, product_id AS "end", SUM(COALESCE(balance, 0)) AS balance, MIN(opened_on) AS opened
        FROM accounts WHERE owner_type = 'individual' AND status <> 'closed' GROUP BY owner_id, product_id
        UNION ALL
        SELECT a.owner_id, l.product_id, SUM(COALESCE(l.outstanding, 0)), MIN(l.granted_on) FROM loans l
        JOIN accounts a ON a.account_id = l.account_id WHERE a.owner_type = 'individual' AND l.product_id IS NOT NULL
        AND l.status IN ('C', 'D') GROUP BY a.owner_id, l.product_id
        UNION ALL
        SELECT holder_id, product_id, 0, MIN(issued_on) FROM cards WHERE product_id IS NOT NULL GROUP BY holder_id, product_id
        ) held GROUP BY start, "end"
        """,
    ),
    (
        "rel",
        ("HOLDS", "Enterprise"),
        """
        SELECT owner_id AS start, product_id AS end, SUM(COALESCE(balance, 0)) AS balance, MIN(opened_on) AS opened
        FROM accounts WHERE owner_type = 'enterprise' AND status <> 'closed' GROUP BY owner_id, product_id""",
    ),
]


def _batches(conn, sql: str):
    """The query's rows, BATCH at a time."""
    streaming = conn.execution_options(stream_results=True, yield_per=BATCH)
    yield from pd.read_sql(sa.text(sql), streaming, chunksize=BATCH)


@dataclass
class SyncReport:
    """What a sync found and did: the graph's counts after it, and per target (a label, or a
    relationship type and its start label) the items it wrote (new or changed) and deleted."""

    counts: dict[str, int]
    written: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    first_load: list[str] = field(default_factory=list)  # targets that were empty: created, not merged
    seconds: float = 0.0

    @property
    def sent(self) -> int:
        return sum(self.written.values()) + sum(self.deleted.values())

    def __repr__(self) -> str:
        return f"SyncReport(items={sum(self.counts.values())}, sent={self.sent}, seconds={self.seconds:.1f})"


class _Target:
    """One entry of the plan, as the store addresses it."""

    def __init__(self, graph: GraphStore, kind: str, target) -> None:
        self.graph, self.node = graph, kind == "node"
        if self.node:
            self.name, self.key = target, ["id"]
        else:
            self.rel, self.start = target
            key_prop = RELATIONSHIPS[self.rel][2]
            self.name = f"{self.rel} ({self.start})"
            self.key = ["start", "end", *([key_prop] if key_prop else [])]

    def totals(self) -> Totals:
        return self.graph.node_totals(self.name) if self.node else self.graph.relationship_totals(self.rel, self.start)

    def digests(self) -> dict:
        return (
            self.graph.node_digests(self.name) if self.node else self.graph.relationship_digests(self.rel, self.start)
        )

    def keys(self, df: pd.DataFrame) -> list:
        """The items' identities as the store's digests name them (RelKey for relationships)."""
        if self.node:
            return df["id"].tolist()
        third = df[self.key[2]].tolist() if len(self.key) == 3 else [None] * len(df)
        return list(zip(df["start"].tolist(), df["end"].tolist(), third, strict=True))

    def write(self, rows: list[dict], new: bool) -> None:
        if self.node:
            self.graph.write_nodes(self.name, rows, new=new)
        else:
            self.graph.write_relationships(self.rel, self.start, rows, new=new)

    def delete(self, keys: list) -> None:
        if self.node:
            self.graph.delete_nodes(self.name, keys)
        else:
            self.graph.delete_relationships(self.rel, self.start, keys)


def _sync_target(conn, t: _Target, sql: str, extra, report: SyncReport) -> None:
    """Into an empty target, every row is created as it is read. Otherwise the record's digests
    are compared with the graph's: first their totals (one aggregate read), then, when those
    differ, item by item; only new and changed items are written and gone ones deleted."""
    if t.totals()[0] == 0:
        written = 0
        for df in _batches(conn, sql):
            df = with_digests(extra(df), t.key)
            t.write(records(df), new=True)
            written += len(df)
        if written:  # a target empty on both sides is neither loaded nor sent
            report.written[t.name] = written
            report.first_load.append(t.name)
        return
    parts = [with_digests(extra(df), t.key) for df in _batches(conn, sql)]
    if not parts:
        df = pd.DataFrame(columns=[*t.key, DIGEST])
    else:
        df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    digests = df[DIGEST].tolist()
    if totals_of(digests) == t.totals():
        return
    have = t.digests()
    keys = t.keys(df)
    changed = [have.get(k) != d for k, d in zip(keys, digests, strict=True)]
    gone = list(have.keys() - set(keys))
    if any(changed):
        t.write(records(df[changed]), new=False)
        report.written[t.name] = sum(changed)
    if gone:
        t.delete(gone)
        report.deleted[t.name] = len(gone)


def sync(engine: Engine | None = None, graph: GraphStore | None = None, progress: bool | None = None) -> SyncReport:
    """Bring the graph to the record: every node and relationship the plan reads, each with its
    digest; items the graph holds with the same digest are not sent again, and items the record
    no longer has are deleted. Run it twice and nothing is duplicated or sent twice."""
    started = time.perf_counter()
    engine = engine or get_engine()
    migrate(engine)
    own_graph = graph is None
    graph = graph or open_graph()
    try:
        graph.ensure_schema()
        fx = load_standard().fx_to_cny
        report = SyncReport(counts={})
        # paused_gc: millions of new dicts in the embedded graph would set off collector passes
        with (
            engine.connect() as conn,
            paused_gc(),
            bar(len(_PLAN), desc="sync-graph", unit="steps", progress=progress) as pbar,
        ):
            # AUM on the person, so household views add it up without the relational store
            aum = current_aum(monthly_aum(conn, fx)).round(2).astype("float64")

            def with_aum(df: pd.DataFrame) -> pd.DataFrame:
                return df.assign(aum=df["id"].map(aum))

            for kind, target, sql in _PLAN:
                t = _Target(graph, kind, target)
                pbar.set_postfix_str(t.name)
                _sync_target(conn, t, sql, with_aum if target == "Individual" else _same, report)
                pbar.update()
        graph.flush()
        report.counts = graph.counts()
        report.seconds = time.perf_counter() - started
        with engine.begin() as conn:  # classify reads the counts here instead of loading the graph
            audit.record(conn, "system", SYNCED, "graph", None, report.counts)
        return report
    finally:
        if own_graph:
            graph.close()


def _same(df: pd.DataFrame) -> pd.DataFrame:
    return df


def sync_graph(
    engine: Engine | None = None, graph: GraphStore | None = None, progress: bool | None = None
) -> dict[str, int]:
    """`sync`, for callers that want the graph's node and relationship counts."""
    return sync(engine, graph, progress).counts


def last_sync(conn) -> dict[str, int] | None:
    """The node and relationship counts the latest sync-graph recorded (None: never synced)."""
    import json

    from clientstrata.graph.record.models import AuditEntry

    audit_log = AuditEntry.__table__
    found = conn.execute(
        sa.select(audit_log.c.details)
        .where(audit_log.c.action == SYNCED)
        .order_by(audit_log.c.audit_id.desc())
        .limit(1)
    ).scalar()
    return json.loads(found) if isinstance(found, str) else found
