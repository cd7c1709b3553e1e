"""The customer graph's ecosystem counts per individual — payroll_employer, controls,
household_members, co_holders, supply_chain, as `GraphStore.ecosystem_features` answers them —
read in SQL from the tables sync-graph projects, one range at a time: loading a
million-customer graph to ask it cost minutes."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Connection

from clientstrata.graph.stores.base import ECOSYSTEM_FEATURES

from ._sql import frame

__all__ = ["ecosystem_counts", "with_ecosystem"]

# The graph's ecosystem counts (networkx_store.ecosystem_features) as SQL over one range: the
# relationships sync-graph projects from these tables, with the same distinct-ness.
_ECOSYSTEM_SQL = {
    "payroll_employer": """
        SELECT customer_id, 1 AS n FROM employment
        WHERE payroll AND customer_id >= :lo AND customer_id <= :hi GROUP BY customer_id""",
    "controls": """
        SELECT customer_id, COUNT(DISTINCT enterprise_id) AS n FROM enterprise_control
        WHERE customer_id >= :lo AND customer_id <= :hi GROUP BY customer_id""",
    "household_members": """
        SELECT m.customer_id, COUNT(*) AS n FROM household_members m
        JOIN household_members o ON o.household_id = m.household_id AND o.customer_id <> m.customer_id
        WHERE m.customer_id >= :lo AND m.customer_id <= :hi GROUP BY m.customer_id""",
    "co_holders": """
        WITH held AS (
            SELECT owner_id AS cid, account_id FROM accounts
            WHERE owner_type = 'individual' AND owner_id >= :lo AND owner_id <= :hi
            UNION SELECT customer_id, account_id FROM account_holders
            WHERE role <> 'owner' AND customer_id >= :lo AND customer_id <= :hi)
        SELECT cid AS customer_id, COUNT(DISTINCT hid) AS n FROM (
            SELECT held.cid, a.owner_id AS hid FROM held JOIN accounts a ON a.account_id = held.account_id
            WHERE a.owner_type = 'individual'
            UNION ALL SELECT held.cid, h.customer_id FROM held JOIN account_holders h ON h.account_id = held.account_id
            WHERE h.role <> 'owner') x
        WHERE hid <> cid GROUP BY cid""",
    "supply_chain": """
        SELECT cid AS customer_id, COUNT(DISTINCT other) AS n FROM (
            SELECT c.customer_id AS cid, s.buyer_id AS other FROM enterprise_control c
            JOIN supply_chain s ON s.supplier_id = c.enterprise_id
            WHERE c.customer_id >= :lo AND c.customer_id <= :hi
            UNION ALL SELECT c.customer_id, s.supplier_id FROM enterprise_control c
            JOIN supply_chain s ON s.buyer_id = c.enterprise_id
            WHERE c.customer_id >= :lo AND c.customer_id <= :hi) x
        GROUP BY cid""",
}


def ecosystem_counts(conn: Connection, lo: str, hi: str) -> pd.DataFrame:
    """customer_id and the ECOSYSTEM_FEATURES counts of the individuals in [lo, hi] that have any."""
    parts = [
        frame(conn, _ECOSYSTEM_SQL[k], lo=lo, hi=hi).set_index("customer_id")["n"].rename(k) for k in ECOSYSTEM_FEATURES
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["customer_id", *ECOSYSTEM_FEATURES])
    out = pd.concat(parts, axis=1).reindex(columns=list(ECOSYSTEM_FEATURES))
    return out.fillna(0).astype("int64").rename_axis("customer_id").reset_index()


def with_ecosystem(conn: Connection, part: pd.DataFrame, lo: str, hi: str) -> pd.DataFrame:
    """`part` (the range [lo, hi]) with the ECOSYSTEM_FEATURES columns added, 0 where none."""
    part = part.merge(ecosystem_counts(conn, lo, hi), on="customer_id", how="left")
    for k in ECOSYSTEM_FEATURES:
        part[k] = part[k].fillna(0).astype("int64") if k in part else 0
    return part
