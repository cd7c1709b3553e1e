"""What a features build counts from: the date the data describes, the months it covers, and
the keyset ranges of customers it reads one at a time (`CustomerRange`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.jobs.classification.standard import Standard

from ._sql import scalar

__all__ = ["reference_date", "recent_months", "customer_ranges", "CustomerRange"]


def _as_date(x) -> dt.date | None:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    return pd.Timestamp(x).date()


def reference_date(conn: Connection) -> dt.date:
    """The date the data describes: the end of the latest balance month, or the latest dated
    event in the record (PKDD'99 has no balances). Ages, tenures and recency count from here,
    so a rerun on the same data gives the same tags whatever the wall clock says."""
    month = scalar(conn, "SELECT MAX(month) FROM balances_monthly")
    found = []
    if month:
        found.append((pd.Period(month, "M").end_time).date())
    # the latest booking account by account: one seek each in (account_id, booked_at), where a
    # plain MAX(booked_at) read all 43M transactions of a 1M-customer bank (40 s)
    for sql in (
        "SELECT MAX((SELECT MAX(t.booked_at) FROM transactions t WHERE t.account_id = a.account_id)) FROM accounts a",
        "SELECT MAX(opened_on) FROM accounts",
        "SELECT MAX(granted_on) FROM loans",
        "SELECT MAX(issued_on) FROM cards",
        "SELECT MAX(assessed_on) FROM risk_questionnaires",
    ):
        d = _as_date(scalar(conn, sql))
        if d:
            found.append(d)
    return max(found) if found else dt.date.today()


def recent_months(conn: Connection, as_of: dt.date, n: int = 12) -> list[str]:
    """The latest `n` balance months (`YYYY-MM`), oldest first; `as_of`'s month when there are none."""
    months = list(conn.execute(sa.text("SELECT DISTINCT month FROM balances_monthly ORDER BY month DESC")).scalars())
    return months[:n][::-1] or [pd.Timestamp(as_of).strftime("%Y-%m")]


def customer_ranges(conn: Connection, size: int):
    """Keyset ranges (first id, last id, count) of `size` customers, in id order, one page of
    ids in memory at a time."""
    after = ""
    while True:
        ids = list(
            conn.execute(
                sa.text("SELECT customer_id FROM individuals WHERE customer_id > :after ORDER BY customer_id LIMIT :n"),
                {"after": after, "n": size},
            ).scalars()
        )
        if not ids:
            return
        yield ids[0], ids[-1], len(ids)
        after = ids[-1]


@dataclass(frozen=True)
class CustomerRange:
    """One keyset range of customers being read, and what every feature group reads it with:
    each group's SQL is bounded by `:lo` and `:hi` (`bounds`), so memory follows the range."""

    conn: Connection
    std: Standard
    as_of: dt.date
    months: list[str]  # the balance months, oldest first (`recent_months`)
    lo: str
    hi: str
    has_txn: bool  # the record holds transactions at all

    @property
    def bounds(self) -> dict[str, str]:
        return {"lo": self.lo, "hi": self.hi}

    @property
    def year_ago(self) -> dt.date:
        return self.as_of - dt.timedelta(days=365)
