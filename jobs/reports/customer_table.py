"""The analyst's customer table (`customerTable`, the SDK's `customers()`): a page of the
record's customer columns with what an analysis needs beside the tags in one frame — age, both
AUM figures, the household and its tier — read a page at a time in a few set-based statements,
never customer by customer.

The two AUM figures are named so nobody expects them to reconcile: `aum_month_average` is the
latest month's average daily AUM the wealth tier reads; `current_balance` is today's balances
of open deposit and investment accounts (what the 360's holdings add up to, without loans).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record import queries as Q
from clientstrata.graph.record.frames import read_frame
from clientstrata.graph.record.models import (
    Account,
    CustomerRollup,
    HouseholdMember,
    HouseholdRollup,
    Product,
)
from clientstrata.jobs.governance.dimensions import subject_of
from clientstrata.jobs.governance.standards import live_standard

__all__ = ["EXTRA_COLUMNS", "customer_table", "individual_dimensions"]

EXTRA_COLUMNS = ("age", "aum_month_average", "current_balance", "household_id", "household_tier")
_accounts, _products = Account.__table__, Product.__table__
_rollups, _members, _households = CustomerRollup.__table__, HouseholdMember.__table__, HouseholdRollup.__table__


def individual_dimensions(conn: Connection) -> list[str]:
    """The dimensions the latest run tagged individuals on: an enterprise dimension is empty on
    every customer row by construction, so it is no column of theirs."""
    return [d for d in Q.tagged_dimensions(conn, Q.latest_run_id(conn)) if subject_of(d) == "individual"]


def _age(born: pd.Series, today: dt.date) -> pd.Series:
    """Whole years today, as the 360's `age`: a birthday not yet reached this year does not count."""
    days = pd.to_datetime(born)
    before = (days.dt.month > today.month) | ((days.dt.month == today.month) & (days.dt.day > today.day))
    return (today.year - days.dt.year - before.astype(int)).astype("Int64")


def _in_range(col, ids: pd.Series):
    # a page is a contiguous id range: one range scan, not an IN list of up to 50,000 ids
    return sa.and_(col >= ids.iloc[0], col <= ids.iloc[-1])


def _extras(conn: Connection, ids: pd.Series) -> pd.DataFrame:
    """EXTRA_COLUMNS but age, indexed by customer id, for the page's id range."""
    aum = read_frame(
        conn,
        sa.select(_rollups.c.customer_id, _rollups.c.aum).where(_in_range(_rollups.c.customer_id, ids)),
        ["customer_id", "aum_month_average"],
    ).set_index("customer_id")
    held = read_frame(
        conn,
        sa.select(_accounts.c.owner_id.label("customer_id"), _accounts.c.currency, sa.func.sum(_accounts.c.balance))
        .join(_products, _products.c.product_id == _accounts.c.product_id)
        .where(
            _accounts.c.owner_type == "individual",
            _accounts.c.status != "closed",
            _products.c.family != "loan",
            _in_range(_accounts.c.owner_id, ids),
        )
        .group_by(_accounts.c.owner_id, _accounts.c.currency),
        ["customer_id", "currency", "balance"],
    )
    fx = live_standard(conn).fx_to_cny  # as the 360's currentBalance: an unknown currency counts 0
    held["cny"] = held["balance"].fillna(0).astype(float) * held["currency"].map(fx).fillna(0.0)
    balance = held.groupby("customer_id")["cny"].sum().round(2).rename("current_balance")
    household = read_frame(
        conn,
        sa.select(_members.c.customer_id, _members.c.household_id, _households.c.tier)
        .select_from(_members.outerjoin(_households, _households.c.household_id == _members.c.household_id))
        .where(_in_range(_members.c.customer_id, ids)),
        ["customer_id", "household_id", "household_tier"],
    ).set_index("customer_id")
    return aum.join(balance, how="outer").join(household, how="outer")


def customer_table(
    conn: Connection,
    first: int,
    after: str | None = None,
    flt: Q.CustomerFilter | None = None,
    book: str | None = None,
    dimensions: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, bool]:
    """A page of `graph.record.queries.customer_table` (base columns, then EXTRA_COLUMNS, then
    one column per dimension: those named, or every dimension the latest run tags individuals
    on). Returns the page and whether more follow (`graph.record.queries.customer_count` counts)."""
    dims = list(dimensions) if dimensions is not None else individual_dimensions(conn)
    df, has_next = Q.customer_table(conn, first, after, flt or Q.CustomerFilter(), book, dims)
    base = [c for c in df.columns if c not in dims]
    if len(df):
        extra = _extras(conn, df["customer_id"])
        df = df.join(extra, on="customer_id")
        df["age"] = _age(df["birth_date"], dt.date.today())
        df["aum_month_average"] = df["aum_month_average"].fillna(0.0).astype(float)
        df["current_balance"] = df["current_balance"].fillna(0.0).astype(float)
    else:
        df = df.assign(**{c: None for c in EXTRA_COLUMNS})
    df = df[[*base, *EXTRA_COLUMNS, *dims]]
    return df.astype(object).where(df.notna(), None), has_next
