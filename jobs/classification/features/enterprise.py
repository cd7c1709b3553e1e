"""Per-enterprise features: declared attributes, loans on the enterprise's accounts, and its
ties to other customers (suppliers, buyers, employees paid through the bank, controllers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from clientstrata.jobs.classification.standard import Standard

from ._sql import frame

__all__ = ["enterprise_features"]


def enterprise_features(conn: Connection, std: Standard) -> pd.DataFrame:
    """One row per enterprise: declared attributes, loans on its accounts, and its ties to
    other customers (suppliers, buyers, employees paid through the bank)."""
    e = frame(
        conn,
        """
        SELECT enterprise_id, industry, size, registered_capital, annual_revenue, founded_on
        FROM enterprises ORDER BY enterprise_id""",
    )
    eid = e["enterprise_id"]
    f = pd.DataFrame(
        {
            "enterprise_id": eid,
            "industry": e["industry"].astype(object).where(e["industry"].notna(), None),
            "size": e["size"].astype(object).where(e["size"].notna(), None),
            "registered_capital": pd.to_numeric(e["registered_capital"], errors="coerce").astype(float),
            "annual_revenue": pd.to_numeric(e["annual_revenue"], errors="coerce").astype(float),
        }
    )
    loans = frame(
        conn,
        """
        SELECT a.owner_id AS enterprise_id, l.status, l.principal, l.outstanding, l.days_past_due
        FROM loans l JOIN accounts a ON a.account_id = l.account_id WHERE a.owner_type = 'enterprise'""",
    )
    running = loans["status"].isin(["C", "D"])
    loans["out"] = np.where(
        running,
        pd.to_numeric(loans["outstanding"], errors="coerce").fillna(pd.to_numeric(loans["principal"], errors="coerce")),
        0.0,
    )
    lg = loans.groupby("enterprise_id")
    f["loans_count"] = lg.size().reindex(eid).fillna(0).astype("int64").to_numpy()
    f["loans_outstanding"] = lg["out"].sum().reindex(eid).fillna(0.0).to_numpy()
    for s in "ABCD":
        f[f"loans_{s}"] = (
            loans[loans["status"] == s]
            .groupby("enterprise_id")
            .size()
            .reindex(eid)
            .fillna(0)
            .astype("int64")
            .to_numpy()
        )
    f["max_dpd"] = (
        pd.to_numeric(lg["days_past_due"].max().reindex(eid), errors="coerce").fillna(0).astype(float).to_numpy()
    )
    counts = {
        "suppliers": "SELECT buyer_id AS enterprise_id, COUNT(*) AS n FROM supply_chain GROUP BY buyer_id",
        "buyers": "SELECT supplier_id AS enterprise_id, COUNT(*) AS n FROM supply_chain GROUP BY supplier_id",
        "employees": "SELECT enterprise_id, COUNT(*) AS n FROM employment GROUP BY enterprise_id",
        "payroll_employees": "SELECT enterprise_id, COUNT(*) AS n FROM employment WHERE payroll GROUP BY enterprise_id",
        "controllers": "SELECT enterprise_id, COUNT(DISTINCT customer_id) AS n FROM enterprise_control GROUP BY enterprise_id",
    }
    for name, sql in counts.items():
        c = frame(conn, sql).set_index("enterprise_id")["n"]
        f[name] = pd.to_numeric(c.reindex(eid), errors="coerce").fillna(0).astype("int64").to_numpy()
    return f
