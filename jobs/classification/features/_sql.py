"""Small helpers every feature group shares: SQL into frames, amounts into CNY, flags."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["frame", "scalar", "fx_case", "flag"]


def frame(conn: Connection, sql: str, **params) -> pd.DataFrame:
    return pd.read_sql(sa.text(sql), conn, params=params)


def scalar(conn: Connection, sql: str, **params):
    return conn.execute(sa.text(sql), params).scalar()


def fx_case(col: str, fx: dict[str, float]) -> str:
    """SQL converting an amount to CNY; rates are floats from the validated standard."""
    whens = " ".join(f"WHEN '{c}' THEN {float(r)!r}" for c, r in fx.items() if c.isalpha() and len(c) == 3)
    return f"(CASE {col} {whens} ELSE NULL END)"


def flag(s: pd.Series) -> pd.Series:
    """A boolean column as read from SQLite (0/1) or PostgreSQL (bool), missing = False."""
    return pd.to_numeric(s.astype(object).where(s.notna(), 0), errors="coerce").fillna(0).astype(bool)
