"""Twelve months of transactions on an individual's accounts, aggregated in SQL: counts and
amounts (CNY), cash, cross-border and high-risk countries, structuring just under the cash
reporting threshold, rapid in-and-out, per-channel counts and recency."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ._sql import frame, fx_case
from .reference import CustomerRange

__all__ = ["TRANSACTION_CHANNELS", "transactions"]

# The channels a transaction is booked through (transactions.channel): a `ch_<channel>` count each.
TRANSACTION_CHANNELS = ("mobile", "online", "branch", "atm", "pos")


def transactions(r: CustomerRange, ids: pd.Series) -> pd.DataFrame:
    """txn_count, cash_count, cross_border_count, high_risk_country_count, structuring_count,
    ch_<channel>, txn_amount, cash_amount, days_since_last_txn (NaN: none), txn_data (the
    record holds transactions at all) and rapid_in_out_count, row for row with `ids`; the
    thresholds are the standard's `aml_risk` settings."""
    aml = r.std.dimensions.get("aml_risk", {})
    thr = float(aml.get("cash_reporting_threshold", 50_000))
    lo_amt = thr * (1 - float(aml.get("structuring_margin", 0.1)))
    risky = [c for c in aml.get("high_risk_countries", []) if str(c).isalpha() and len(str(c)) == 2]
    risky_sql = ", ".join(f"'{c}'" for c in risky) or "''"
    amt = f"(t.amount * {fx_case('t.currency', r.std.fx_to_cny)})"
    since = dt.datetime.combine(r.year_ago, dt.time())
    chan = ", ".join(f"SUM(CASE WHEN t.channel = '{c}' THEN 1 ELSE 0 END) AS ch_{c}" for c in TRANSACTION_CHANNELS)
    tx = frame(
        r.conn,
        f"""
        SELECT a.owner_id AS customer_id, COUNT(*) AS txn_count, SUM({amt}) AS txn_amount,
               SUM(CASE WHEN t.is_cash THEN {amt} ELSE 0 END) AS cash_amount,
               SUM(CASE WHEN t.is_cash THEN 1 ELSE 0 END) AS cash_count,
               SUM(CASE WHEN t.counterparty_country <> 'CN' THEN 1 ELSE 0 END) AS cross_border_count,
               SUM(CASE WHEN t.counterparty_country IN ({risky_sql}) THEN 1 ELSE 0 END) AS high_risk_country_count,
               SUM(CASE WHEN t.is_cash AND t.direction = 'credit' AND {amt} >= :slo AND {amt} < :shi
                        THEN 1 ELSE 0 END) AS structuring_count,
               MAX(t.booked_at) AS last_txn, {chan}
        FROM accounts a JOIN transactions t ON t.account_id = a.account_id
        WHERE a.owner_type = 'individual' AND a.owner_id >= :lo AND a.owner_id <= :hi AND t.booked_at >= :since
        GROUP BY a.owner_id""",
        slo=lo_amt,
        shi=thr,
        since=since,
        **r.bounds,
    )
    tx = tx.set_index("customer_id").reindex(ids)
    f = pd.DataFrame(index=ids.index)
    for c in [
        "txn_count",
        "cash_count",
        "cross_border_count",
        "high_risk_country_count",
        "structuring_count",
        *(f"ch_{c}" for c in TRANSACTION_CHANNELS),
    ]:
        f[c] = pd.to_numeric(tx[c], errors="coerce").fillna(0).astype("int64").to_numpy()
    for c in ("txn_amount", "cash_amount"):
        f[c] = pd.to_numeric(tx[c], errors="coerce").fillna(0.0).astype(float).to_numpy()
    last = pd.to_datetime(tx["last_txn"], errors="coerce")
    f["days_since_last_txn"] = ((pd.Timestamp(r.as_of) + pd.Timedelta(days=1) - last).dt.days).astype(float).to_numpy()
    f["txn_data"] = r.has_txn

    # rapid in-and-out: windows of `window_days` where at least min_amount came in and
    # out_ratio of it left again (days bucketed, an approximation that stays in SQL + numpy)
    rio = aml.get("rapid_in_out", {"window_days": 3, "min_amount": 50_000, "out_ratio": 0.8})
    days = frame(
        r.conn,
        f"""
        SELECT a.owner_id AS customer_id, DATE(t.booked_at) AS day,
               SUM(CASE WHEN t.direction = 'credit' THEN {amt} ELSE 0 END) AS amount_in,
               SUM(CASE WHEN t.direction = 'debit' THEN {amt} ELSE 0 END) AS amount_out
        FROM accounts a JOIN transactions t ON t.account_id = a.account_id
        WHERE a.owner_type = 'individual' AND a.owner_id >= :lo AND a.owner_id <= :hi AND t.booked_at >= :since
        GROUP BY a.owner_id, DATE(t.booked_at)
        HAVING SUM({amt}) >= :min_amount""",
        since=since,
        min_amount=float(rio["min_amount"]),
        **r.bounds,
    )
    if len(days):
        d = (pd.to_datetime(days["day"]) - pd.Timestamp("1970-01-01")).dt.days // int(rio["window_days"])
        w = days.assign(w=d).groupby(["customer_id", "w"])[["amount_in", "amount_out"]].sum()
        hit = (w["amount_in"] >= float(rio["min_amount"])) & (
            w["amount_out"] >= float(rio["out_ratio"]) * w["amount_in"]
        )
        f["rapid_in_out_count"] = hit.groupby(level=0).sum().reindex(ids).fillna(0).astype("int64").to_numpy()
    else:
        f["rapid_in_out_count"] = 0
    return f
