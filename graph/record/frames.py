"""Query results as DataFrames, without a Python object per row beyond the driver's tuple.

`pandas.read_sql` goes through SQLAlchemy's Row objects and then pandas' object inference; building
the frame from the driver's tuples is several times faster on the pages the bulk paths read
(tens of thousands of rows), and the columns are named by the caller, not by SQL labels."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable

__all__ = ["driver_rows", "read_frame"]


def read_frame(conn: Connection, query: Executable, columns: Sequence[str]) -> pd.DataFrame:
    """The query's rows as a frame with `columns` (as many as it selects)."""
    return pd.DataFrame([tuple(r) for r in conn.execute(query)], columns=list(columns))


def driver_rows(conn: Connection, query: Executable) -> list[tuple]:
    """The query's rows as the driver's own tuples, without SQLAlchemy's per-row processing: the
    caller converts whole columns (SQLite gives dates and moments as ISO text, PostgreSQL as
    objects; select numbers `CAST` to the type wanted, as PostgreSQL's numeric is a Decimal)."""
    result = conn.execute(query)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()
