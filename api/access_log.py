"""The access log without query strings.

A GET carries its GraphQL document and variables in the query string, and people paste tokens
into URLs by mistake; an access log is kept long and read widely. The server's access lines keep
the method, path and status, not what followed the `?`.
"""

from __future__ import annotations

import logging

__all__ = ["ACCESS_LOGGER", "WithoutQueryString", "keep_query_strings_out"]

ACCESS_LOGGER = "uvicorn.access"


class WithoutQueryString(logging.Filter):
    """Drops the query string from uvicorn's access records: their arguments are (client,
    method, path with query string, HTTP version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (args[0], args[1], args[2].partition("?")[0], *args[3:])
        return True


def keep_query_strings_out(logger: logging.Logger | None = None) -> None:
    """Filters the access logger, once: a logger's filters outlive uvicorn's logging set-up."""
    logger = logger or logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, WithoutQueryString) for f in logger.filters):
        logger.addFilter(WithoutQueryString())
