"""The analyst's customer table (`customerTable`, the SDK's `customers()`): a page of the
record's customer columns with what an analysis needs beside the tags in one frame — age, both
AUM figures, the household and its tier — read a page at a time in two statements
(`graph.record.customer_rows`, then the balances), never customer by customer.

The two AUM figures are named so nobody expects them to reconcile: `aum_month_average` is the
latest month's average daily AUM the wealth tier reads; `current_balance` is today's balances
of open deposit and investment accounts (what the 360's holdings add up to, without loans).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record import queries as Q
from clientstrata.graph.record.customer_rows import customer_rows
from clientstrata.graph.record.frames import driver_rows
from clientstrata.graph.record.models import Account, Product
from clientstrata.jobs.governance.dimensions import subject_of
from clientstrata.jobs.governance.standards import live_standard

__all__ = ["EXTRA_COLUMNS", "customer_table", "individual_dimensions"]

EXTRA_COLUMNS = ("age", "aum_month_average", "current_balance", "household_id", "household_tier")
_accounts, _products = Account.__table__, Product.__table__


def individual_dimensions(conn: Connection) -> list[str]:
    """The dimensions the latest run tagged individuals on: an enterprise dimension is empty on
    every customer row by construction, so it is no column of theirs."""
    return [d for d in Q.tagged_dimensions(conn, Q.latest_run_id(conn)) if subject_of(d) == "individual"]


def _age(born: pa.Array, today: dt.date) -> pa.Array:
    """Whole years today, as the 360's `age`: a birthday not yet reached this year does not count."""
    month, day = pc.month(born), pc.day(born)
    before = pc.or_(pc.greater(month, today.month), pc.and_(pc.equal(month, today.month), pc.greater(day, today.day)))
    return pc.subtract(pc.subtract(pa.scalar(today.year, pa.int64()), pc.year(born)), pc.cast(before, pa.int64()))


def _balances(conn: Connection, ids: Sequence[str]) -> pa.Array:
    """Each customer's `current_balance`, in `ids`' order, from one grouped read over the page's
    id range (a page is a contiguous range: one range scan, not an IN list of up to 50,000 ids).
    Summed per customer as the 360 sums it (pandas' compensated group sum, then cents); the
    customers are grouped by number, as a frame of their ids as text cost more than the read."""
    rows = driver_rows(
        conn,
        sa.select(_accounts.c.owner_id, _accounts.c.currency, sa.cast(sa.func.sum(_accounts.c.balance), sa.Float))
        .join(_products, _products.c.product_id == _accounts.c.product_id)
        .where(
            _accounts.c.owner_type == "individual",
            _accounts.c.status != "closed",
            _products.c.family != "loan",
            _accounts.c.owner_id.between(ids[0], ids[-1]),
        )
        .group_by(_accounts.c.owner_id, _accounts.c.currency)
        .order_by(_accounts.c.owner_id, _accounts.c.currency),
    )
    fx = live_standard(conn).fx_to_cny  # as the 360's currentBalance: an unknown currency counts 0
    owners = {cid: i for i, cid in enumerate(dict.fromkeys(r[0] for r in rows))}
    cny = pd.Series([float(b or 0.0) * float(fx.get(c) or 0.0) for _, c, b in rows], dtype=float)
    summed = cny.groupby([owners[r[0]] for r in rows]).sum().round(2).to_numpy() if rows else []
    total = dict(zip(owners, summed))
    return pa.array([float(total.get(c, 0.0)) for c in ids], pa.float64())


def customer_table(
    conn: Connection,
    first: int,
    after: str | None = None,
    flt: Q.CustomerFilter | None = None,
    book: str | None = None,
    dimensions: Sequence[str] | None = None,
) -> tuple[pa.Table, bool]:
    """A page of the table (`graph.record.customer_rows`) as Arrow columns: base columns, then
    EXTRA_COLUMNS, then one column per dimension (those named, or every dimension the latest run
    tags individuals on), null where a value is missing. Returns the page and whether more follow
    (`graph.record.queries.customer_count` counts).

    Arrow rather than pandas: the transport sends the page as Arrow (`api/tables.py`) or turns it
    into JSON a column at a time, and an object frame on the way cost as much as the read."""
    dims = list(dict.fromkeys(dimensions if dimensions is not None else individual_dimensions(conn)))
    clash = sorted(set(dims) & set(EXTRA_COLUMNS))
    if clash:
        raise InvalidInput(f"`dimensions` names columns of the table, not dimensions: {', '.join(clash)}")
    page = customer_rows(conn, first, after, flt or Q.CustomerFilter(), book, dims)
    t = page.table
    ids = t.column("customer_id").to_pylist()
    extra = {
        "age": _age(t.column("birth_date"), dt.date.today()),
        "aum_month_average": pc.fill_null(t.column("aum_month_average"), 0.0),
        "current_balance": _balances(conn, ids) if ids else pa.array([], pa.float64()),
        "household_id": t.column("household_id"),
        "household_tier": t.column("household_tier"),
    }
    order = [*Q.TABLE_COLUMNS, *EXTRA_COLUMNS, *dims]
    return pa.table({c: extra[c] if c in extra else t.column(c) for c in order}), page.has_next
