"""Project the relational record into the customer graph, idempotently and in batches.

Each query is read BATCH rows at a time (a server-side cursor on PostgreSQL), so memory holds
the graph and one batch, never a whole table as a DataFrame and a list of dicts."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from clientstrata.graph.record import audit
from clientstrata.graph.record.db import get_engine, migrate
from clientstrata.graph.stores import GraphStore, open_graph
from clientstrata.graph.stores.networkx_store import paused_gc
from clientstrata.jobs.classification.features import current_aum, monthly_aum
from clientstrata.jobs.classification.standard import load_standard
from clientstrata.jobs.progress import bar

__all__ = ["sync_graph", "last_sync"]

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
        """
        SELECT owner_id AS start, product_id AS end, SUM(COALESCE(balance, 0)) AS balance, MIN(opened_on) AS opened
        FROM accounts WHERE owner_type = 'individual' AND status <> 'closed' GROUP BY owner_id, product_id
        UNION ALL
        SELECT a.owner_id, l.product_id, SUM(COALESCE(l.outstanding, 0)), MIN(l.granted_on) FROM loans l
        JOIN accounts a ON a.account_id = l.account_id WHERE a.owner_type = 'individual' AND l.product_id IS NOT NULL
        AND l.status IN ('C', 'D') GROUP BY a.owner_id, l.product_id
        UNION ALL
        SELECT holder_id, product_id, 0, MIN(issued_on) FROM cards WHERE product_id IS NOT NULL GROUP BY holder_id, product_id""",
    ),
    (
        "rel",
        ("HOLDS", "Enterprise"),
        """
        SELECT owner_id AS start, product_id AS end, SUM(COALESCE(balance, 0)) AS balance, MIN(opened_on) AS opened
        FROM accounts WHERE owner_type = 'enterprise' AND status <> 'closed' GROUP BY owner_id, product_id""",
    ),
]


# SQLite hands booleans back as 0/1; the graph must see true/false on every backend.
_BOOLEAN_PROPS = {"payroll"}


def _iso(v):
    return v.isoformat() if hasattr(v, "isoformat") else v


def _rows(df: pd.DataFrame) -> list[dict]:
    for col in df.columns:  # the graph stores plain values; dates as ISO text
        if col in _BOOLEAN_PROPS:
            df[col] = pd.array(df[col], dtype="boolean").astype(object)
        elif df[col].dtype == object:
            sample = df[col].dropna().head(1).tolist()
            if sample and hasattr(sample[0], "isoformat"):  # PostgreSQL dates; SQLite sends text
                df[col] = df[col].map(_iso)
    return df.astype(object).where(df.notna(), None).to_dict("records")


def _batches(conn, sql: str):
    """The query's rows, BATCH at a time."""
    streaming = conn.execution_options(stream_results=True, yield_per=BATCH)
    yield from pd.read_sql(sa.text(sql), streaming, chunksize=BATCH)


def sync_graph(
    engine: Engine | None = None, graph: GraphStore | None = None, progress: bool | None = None
) -> dict[str, int]:
    """MERGE every node and relationship; run it twice and nothing is duplicated.
    Returns the graph's node and relationship counts."""
    engine = engine or get_engine()
    migrate(engine)
    own_graph = graph is None
    graph = graph or open_graph()
    try:
        graph.ensure_schema()
        fx = load_standard().fx_to_cny
        # paused_gc: millions of new dicts in the embedded graph would set off collector passes
        with (
            engine.connect() as conn,
            paused_gc(),
            bar(len(_PLAN) + 1, desc="sync-graph", unit="steps", progress=progress) as pbar,
        ):
            for kind, target, sql in _PLAN:
                pbar.set_postfix_str(target if isinstance(target, str) else target[0])
                for df in _batches(conn, sql):
                    rows = _rows(df)
                    if kind == "node":
                        graph.merge_nodes(target, rows)
                    else:
                        graph.merge_relationships(target[0], target[1], rows)
                pbar.update()
            # AUM on the person, so household views add it up without the relational store
            aum = current_aum(monthly_aum(conn, fx)).round(2)
            graph.merge_nodes("Individual", [{"id": k, "aum": float(v)} for k, v in aum.items()])
            pbar.update()
        graph.flush()
        counts = graph.counts()
        with engine.begin() as conn:  # classify reads the counts here instead of loading the graph
            audit.record(conn, "system", SYNCED, "graph", None, counts)
        return counts
    finally:
        if own_graph:
            graph.close()


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
