"""One shape for every frame the SDK returns: what the API names in camelCase becomes
snake_case, and dates arrive as dates. Done once here, on the way out of `Client`, so a new
method cannot forget it and an analyst never meets `birthDate` strings in one frame and
`birth_date` datetimes in the next."""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["typed", "snake"]

_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """`birthDate` → `birth_date`; names already in snake_case are left as they are."""
    return _HUMP.sub(r"_\1", name).lower()


def _is_moment(col: str) -> bool:
    return col == "at" or col.endswith("_at")


def _is_day(col: str) -> bool:
    return col.endswith(("_on", "_date"))


def typed(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with snake_case columns, `*_at` columns as tz-aware UTC datetimes (the server stores
    UTC: a moment without an offset is read as UTC, one with an offset is converted) and
    `*_on`/`*_date` columns as datetime64 dates. A new frame; `attrs` are kept."""
    out = df.rename(columns={c: snake(c) for c in df.columns if isinstance(c, str)})
    for col in out.columns:
        if not isinstance(col, str):
            continue
        if _is_moment(col):
            out[col] = pd.to_datetime(out[col], utc=True, format="ISO8601")
        elif _is_day(col):
            day = pd.to_datetime(out[col], format="ISO8601")
            out[col] = day.dt.tz_localize(None) if day.dt.tz is not None else day
    out.attrs = dict(df.attrs)
    return out
