"""Per-customer features read from the relational record (and the graph).

Reads aggregate in SQL so a million customers' transactions never travel to Python row
by row; the results are DataFrames keyed by customer_id.
"""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .bundle import ASSET_FAMILIES

__all__ = ["customers", "monthly_aum", "current_aum", "product_families"]


def _frame(conn: Connection, sql: str, **params) -> pd.DataFrame:
    return pd.read_sql(sa.text(sql), conn, params=params)


def customers(conn: Connection) -> pd.DataFrame:
    return _frame(conn, "SELECT customer_id, name, birth_date, branch_id, rm_id FROM individuals "
                        "ORDER BY customer_id")


def _to_cny(df: pd.DataFrame, amount: str, fx: dict[str, float]) -> pd.Series:
    rate = df["currency"].map(fx)
    unknown = sorted(set(df.loc[rate.isna(), "currency"]))
    if unknown:
        raise ValueError(f"no exchange rate to CNY for {', '.join(unknown)}: add it to the standard's fx_to_cny")
    return df[amount] * rate


def monthly_aum(conn: Connection, fx: dict[str, float]) -> pd.DataFrame:
    """Long frame customer_id, month, aum (CNY): monthly daily-average balances of the asset
    accounts an individual owns. Accounts without monthly figures count with their current
    balance in the latest month, so a bank that sends only balances still gets tiers."""
    fams = ", ".join(f"'{f}'" for f in ASSET_FAMILIES)  # constants, not input
    monthly = _frame(conn, f"""
        SELECT a.owner_id AS customer_id, b.month, a.currency, SUM(b.avg_daily_balance) AS amount
        FROM balances_monthly b JOIN accounts a ON a.account_id = b.account_id
        JOIN products p ON p.product_id = a.product_id
        WHERE a.owner_type = 'individual' AND p.family IN ({fams})
        GROUP BY a.owner_id, b.month, a.currency""")
    latest = monthly["month"].max() if len(monthly) else None
    current = _frame(conn, f"""
        SELECT a.owner_id AS customer_id, a.currency, SUM(a.balance) AS amount
        FROM accounts a JOIN products p ON p.product_id = a.product_id
        WHERE a.owner_type = 'individual' AND p.family IN ({fams}) AND a.balance IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM balances_monthly b WHERE b.account_id = a.account_id)
        GROUP BY a.owner_id, a.currency""")
    if len(current):
        current["month"] = latest or pd.Timestamp.today().strftime("%Y-%m")
        monthly = pd.concat([monthly, current], ignore_index=True)
    monthly["aum"] = _to_cny(monthly, "amount", fx) if len(monthly) else 0.0
    out = monthly.groupby(["customer_id", "month"], as_index=False)["aum"].sum()
    return out.sort_values(["customer_id", "month"]).reset_index(drop=True)


def current_aum(monthly: pd.DataFrame) -> pd.Series:
    """AUM in the latest month of the data, per customer (0 for those without that month)."""
    if monthly.empty:
        return pd.Series(dtype=float, name="aum")
    latest = monthly["month"].max()
    return monthly[monthly["month"] == latest].set_index("customer_id")["aum"]


def product_families(conn: Connection) -> pd.DataFrame:
    """customer_id, families: the sorted, comma-joined product families an individual holds
    now (open accounts, running loans, cards)."""
    df = _frame(conn, """
        SELECT a.owner_id AS customer_id, p.family FROM accounts a
          JOIN products p ON p.product_id = a.product_id
          WHERE a.owner_type = 'individual' AND a.status <> 'closed'
        UNION SELECT a.owner_id, 'loan' FROM loans l JOIN accounts a ON a.account_id = l.account_id
          WHERE a.owner_type = 'individual' AND l.status IN ('C', 'D')
        UNION SELECT c.holder_id, 'card' FROM cards c""")
    if df.empty:
        return pd.DataFrame(columns=["customer_id", "families"])
    return (df.drop_duplicates().sort_values(["customer_id", "family"])
            .groupby("customer_id")["family"].agg(",".join).rename("families").reset_index())
