"""Timestamps on the wire: ISO 8601 with their offset, and always UTC.

The record stores naive UTC. Without an offset on the way out, a client in China reads a UTC
time as its own and shifts every timestamp by eight hours; and an input with an offset used to
be compared with naive values as written, so `updatedSince: "…+08:00"` matched everything.
Inputs with an offset are converted; inputs without one are read as UTC (documented)."""

from __future__ import annotations

import datetime as dt

import strawberry

__all__ = ["UtcDateTime", "parse_datetime", "serialize_datetime"]

_EXAMPLE = "e.g. 2026-12-01T08:00:00+08:00"


def serialize_datetime(value: dt.datetime) -> str:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat()


def parse_datetime(value: object) -> dt.datetime:
    """A naive UTC datetime, as the record stores them."""
    if not isinstance(value, str):
        raise ValueError(f"a DateTime is an ISO 8601 string, {_EXAMPLE}")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not an ISO 8601 date-time, {_EXAMPLE}") from None
    if parsed.tzinfo is None:
        return parsed
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


UtcDateTime = strawberry.scalar(
    name="DateTime",
    description=(
        "An ISO 8601 date-time. Returned in UTC with its offset (`2026-12-01T00:00:00+00:00`); "
        "an input with an offset is converted to UTC, one without an offset is read as UTC."
    ),
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)
