"""Assets under management (CNY): the monthly daily-average balances of the asset accounts an
individual owns, their household's pooled figure, and the latest month's balance per family.

Accounts without monthly figures count with their current balance in the latest month, so a
bank that sends only balances still gets tiers. A joint account counts for its owner only
(its co-holders hold the product, see `products`), so it is never counted twice."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from clientstrata.jobs.ingest.bundle import ASSET_FAMILIES

from ._sql import frame, fx_case
from .reference import CustomerRange

__all__ = [
    "AUM_PREFIX",
    "HH_AUM_PREFIX",
    "aum_columns",
    "monthly_aum",
    "current_aum",
    "own_aum",
    "household_aum",
]

AUM_PREFIX, HH_AUM_PREFIX = "aum:", "hh_aum:"
_FAMILIES = ", ".join(f"'{f}'" for f in ASSET_FAMILIES)  # constants, not input


def aum_columns(features: pd.DataFrame, prefix: str = AUM_PREFIX) -> list[str]:
    """The monthly AUM columns (`aum:YYYY-MM`), oldest first."""
    return sorted(c for c in features.columns if c.startswith(prefix))


# --- the whole record at once (sync-graph's household totals, analysts) ----------------------


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
    monthly = frame(
        conn,
        f"""
        SELECT a.owner_id AS customer_id, b.month, a.currency, SUM(b.avg_daily_balance) AS amount
        FROM balances_monthly b JOIN accounts a ON a.account_id = b.account_id
        JOIN products p ON p.product_id = a.product_id
        WHERE a.owner_type = 'individual' AND p.family IN ({_FAMILIES})
        GROUP BY a.owner_id, b.month, a.currency""",
    )
    latest = monthly["month"].max() if len(monthly) else None
    current = frame(
        conn,
        f"""
        SELECT a.owner_id AS customer_id, a.currency, SUM(a.balance) AS amount
        FROM accounts a JOIN products p ON p.product_id = a.product_id
        WHERE a.owner_type = 'individual' AND p.family IN ({_FAMILIES}) AND a.balance IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM balances_monthly b WHERE b.account_id = a.account_id)
        GROUP BY a.owner_id, a.currency""",
    )
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


# --- one range of the features build -----------------------------------------------------------
# Pivoted in SQL: a column per month, so a range returns one row per customer and per household
# instead of one per month and family. Every join starts from the customers in range (CROSS JOIN
# keeps SQLite's join order; PostgreSQL plans it as an inner join): started from products,
# SQLite read every asset account of the bank for each range.


def _months(r: CustomerRange) -> tuple[dict[str, str], str, str]:
    """The months as bound parameters (they are data: bound, not formatted), the latest one's
    name, and the SQL summing a balance per month in CNY."""
    params = {f"m{i}": m for i, m in enumerate(r.months)}
    cny = fx_case("a.currency", r.std.fx_to_cny)
    per_month = ", ".join(f"SUM(CASE WHEN b.month = :{k} THEN b.avg_daily_balance * {cny} END) AS {k}" for k in params)
    return params, f"m{len(r.months) - 1}", per_month


def own_aum(r: CustomerRange, ids: pd.Series) -> pd.DataFrame:
    """`aum:YYYY-MM` per month, aum (the latest month) and bal_<family> (the latest month's
    balance per asset family), row for row with `ids`."""
    month_params, last, per_month = _months(r)
    cny = fx_case("a.currency", r.std.fx_to_cny)
    per_family = ", ".join(
        f"SUM(CASE WHEN b.month = :{last} AND p.family = '{x}' THEN b.avg_daily_balance * {cny} END) AS bal_{x}"
        for x in ASSET_FAMILIES
    )
    own = frame(
        r.conn,
        f"""
        SELECT a.owner_id AS customer_id, {per_month}, {per_family}
        FROM accounts a CROSS JOIN balances_monthly b CROSS JOIN products p
        WHERE b.account_id = a.account_id AND p.product_id = a.product_id
          AND a.owner_type = 'individual' AND a.owner_id >= :lo AND a.owner_id <= :hi
          AND p.family IN ({_FAMILIES}) AND b.month >= :first
        GROUP BY a.owner_id""",
        first=r.months[0],
        **month_params,
        **r.bounds,
    )
    cur_family = ", ".join(
        f"SUM(CASE WHEN p.family = '{x}' THEN a.balance * {cny} END) AS bal_{x}" for x in ASSET_FAMILIES
    )
    current = frame(
        r.conn,
        f"""
        SELECT a.owner_id AS customer_id, SUM(a.balance * {cny}) AS {last}, {cur_family}
        FROM accounts a CROSS JOIN products p
        WHERE p.product_id = a.product_id AND a.owner_type = 'individual' AND a.owner_id >= :lo AND a.owner_id <= :hi
          AND p.family IN ({_FAMILIES}) AND a.balance IS NOT NULL AND a.status <> 'closed'
          AND NOT EXISTS (SELECT 1 FROM balances_monthly b WHERE b.account_id = a.account_id)
        GROUP BY a.owner_id""",
        **r.bounds,
    )
    own = own.set_index("customer_id").reindex(ids).astype(float).fillna(0.0)
    current = current.set_index("customer_id").reindex(ids).astype(float).fillna(0.0)
    f = pd.DataFrame(index=ids.index)
    for k, m in month_params.items():  # accounts without monthly figures count in the latest month
        f[AUM_PREFIX + m] = (own[k] + current[k] if k == last else own[k]).to_numpy()
    f["aum"] = f[AUM_PREFIX + r.months[-1]]
    for fam in ASSET_FAMILIES:
        f[f"bal_{fam}"] = (own[f"bal_{fam}"] + current[f"bal_{fam}"]).to_numpy()
    return f


def household_aum(r: CustomerRange, household_id: pd.Series, own: pd.DataFrame) -> pd.DataFrame:
    """`hh_aum:YYYY-MM` per month: the household's pooled AUM, or the customer's own (`own`,
    from `own_aum`) without a household, row for row with `household_id`."""
    month_params, last, per_month = _months(r)
    cny = fx_case("a.currency", r.std.fx_to_cny)
    hh_aum = frame(
        r.conn,
        f"""
        SELECT hm.household_id, {per_month}
        FROM (SELECT DISTINCT household_id FROM household_members
              WHERE customer_id >= :lo AND customer_id <= :hi) hh
        CROSS JOIN household_members hm CROSS JOIN accounts a CROSS JOIN balances_monthly b CROSS JOIN products p
        WHERE hm.household_id = hh.household_id AND a.owner_id = hm.customer_id AND a.owner_type = 'individual'
          AND b.account_id = a.account_id AND p.product_id = a.product_id
          AND p.family IN ({_FAMILIES}) AND b.month >= :first
        GROUP BY hm.household_id""",
        first=r.months[0],
        **month_params,
        **r.bounds,
    )
    hh_cur = frame(
        r.conn,
        f"""
        SELECT hm.household_id, SUM(a.balance * {cny}) AS aum
        FROM (SELECT DISTINCT household_id FROM household_members
              WHERE customer_id >= :lo AND customer_id <= :hi) hh
        CROSS JOIN household_members hm CROSS JOIN accounts a CROSS JOIN products p
        WHERE hm.household_id = hh.household_id AND a.owner_id = hm.customer_id AND a.owner_type = 'individual'
          AND p.product_id = a.product_id AND p.family IN ({_FAMILIES})
          AND a.balance IS NOT NULL AND a.status <> 'closed'
          AND NOT EXISTS (SELECT 1 FROM balances_monthly b WHERE b.account_id = a.account_id)
        GROUP BY hm.household_id""",
        **r.bounds,
    )
    hid = household_id.fillna("\0")
    hwide = hh_aum.set_index("household_id").reindex(hid).astype(float).fillna(0.0)
    hwide[last] += hh_cur.set_index("household_id")["aum"].reindex(hid).astype(float).fillna(0.0).to_numpy()
    alone = household_id.isna().to_numpy()
    f = pd.DataFrame(index=household_id.index)
    for k, m in month_params.items():  # no household: a household of one
        f[HH_AUM_PREFIX + m] = np.where(alone, own[AUM_PREFIX + m], hwide[k].to_numpy())
    return f
