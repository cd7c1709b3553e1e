"""Credit: loans on an individual's accounts (PKDD'99 status A–D), employment and salary, and
the enterprises the individual controls."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._sql import frame
from .reference import CustomerRange

__all__ = ["loans", "employment"]


def loans(r: CustomerRange, ids: pd.Series) -> pd.DataFrame:
    """loans_count, loans_outstanding, loan_monthly_payment, loans_A..loans_D, max_dpd and
    has_mortgage (a running loan of at least the standard's mortgage term), row for row with `ids`."""
    mortgage_term = r.std.dimensions.get("lifecycle_stage", {}).get("mortgage_min_term_months", 120)
    rows = frame(
        r.conn,
        """
        SELECT a.owner_id AS customer_id, l.status, l.principal, l.outstanding, l.monthly_payment,
               l.term_months, l.days_past_due
        FROM loans l JOIN accounts a ON a.account_id = l.account_id
        WHERE a.owner_type = 'individual' AND a.owner_id >= :lo AND a.owner_id <= :hi""",
        **r.bounds,
    )
    running = rows["status"].isin(["C", "D"])
    rows["out"] = np.where(
        running,
        pd.to_numeric(rows["outstanding"], errors="coerce").fillna(pd.to_numeric(rows["principal"], errors="coerce")),
        0.0,
    )
    rows["pay"] = np.where(running, pd.to_numeric(rows["monthly_payment"], errors="coerce").fillna(0.0), 0.0)
    rows["mortgage"] = running & (pd.to_numeric(rows["term_months"], errors="coerce") >= mortgage_term)
    lg = rows.groupby("customer_id")
    f = pd.DataFrame(index=ids.index)
    f["loans_count"] = lg.size().reindex(ids).fillna(0).astype("int64").to_numpy()
    f["loans_outstanding"] = lg["out"].sum().reindex(ids).fillna(0.0).to_numpy()
    f["loan_monthly_payment"] = lg["pay"].sum().reindex(ids).fillna(0.0).to_numpy()
    for s in "ABCD":
        f[f"loans_{s}"] = (
            rows[rows["status"] == s].groupby("customer_id").size().reindex(ids).fillna(0).astype("int64").to_numpy()
        )
    f["max_dpd"] = (
        pd.to_numeric(lg["days_past_due"].max().reindex(ids), errors="coerce").fillna(0).astype(float).to_numpy()
    )
    f["has_mortgage"] = lg["mortgage"].any().reindex(ids).fillna(False).astype(bool).to_numpy()
    return f


def employment(r: CustomerRange, ids: pd.Series) -> pd.DataFrame:
    """salary_monthly, employed, linked_industries (comma-joined, of employers and controlled
    enterprises) and controls_enterprise, row for row with `ids`."""
    emp = frame(
        r.conn,
        """
        SELECT e.customer_id, e.payroll, e.monthly_salary, en.industry FROM employment e
        JOIN enterprises en ON en.enterprise_id = e.enterprise_id
        WHERE e.customer_id >= :lo AND e.customer_id <= :hi""",
        **r.bounds,
    )
    eg = emp.groupby("customer_id")
    f = pd.DataFrame(index=ids.index)
    f["salary_monthly"] = pd.to_numeric(eg["monthly_salary"].sum().reindex(ids), errors="coerce").fillna(0.0).to_numpy()
    f["employed"] = ids.isin(emp["customer_id"]).to_numpy()
    ctl = frame(
        r.conn,
        """
        SELECT c.customer_id, en.industry FROM enterprise_control c
        JOIN enterprises en ON en.enterprise_id = c.enterprise_id
        WHERE c.customer_id >= :lo AND c.customer_id <= :hi""",
        **r.bounds,
    )
    inds = pd.concat([emp[["customer_id", "industry"]], ctl], ignore_index=True).dropna().drop_duplicates()
    f["linked_industries"] = (
        inds.sort_values("industry").groupby("customer_id")["industry"].agg(",".join).reindex(ids).fillna("").to_numpy()
    )
    f["controls_enterprise"] = ids.isin(ctl["customer_id"]).to_numpy()
    return f
