"""The record's clock: every stored moment is naive UTC, whatever the server's time zone.

The API sends stored moments as UTC (`api/scalars.py`); a writer that took the local clock
would put a Beijing server's events eight hours in the future. Calendar dates (a birthday, an
as-of date) are the bank's business dates and stay local."""

import datetime as dt

__all__ = ["utcnow"]


def utcnow() -> dt.datetime:
    """Now, as the record stores it: UTC without an offset."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
