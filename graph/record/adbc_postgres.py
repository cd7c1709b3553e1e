"""An ADBC connection to the record's PostgreSQL database, for reads that want Arrow (the features'
extracts): the server's binary COPY decoded into Arrow columns in C, not a Python object per value
nor text parsed again in the client.

Its settings are the engine's own, made libpq's: the URL's host, port, database, user, password
and query options (`sslmode` …), as SQLAlchemy hands them to psycopg, and the session options
`engine_for` sets, joined into a conninfo string by psycopg's own `make_conninfo`, the translation
psycopg makes before libpq reads them. A URL without a password leaves it to libpq (PGPASSWORD,
~/.pgpass), as for psycopg. The string goes to ADBC and nowhere else; errors show the URL with
its password hidden (`db_errors`). `client_encoding` is UTF8 whatever the database's: Arrow's
strings are UTF-8, and the server converts.

It opens one REPEATABLE READ, READ ONLY transaction: every table read in it sees one snapshot,
and nothing can be written through it.

`open_arrow` gives `None` where ADBC cannot serve the engine: the driver not installed, or an
engine whose driver is not psycopg (its URL arguments may not be libpq's). A connection that
cannot be opened raises `StoreUnavailable`, and the caller may go on with the connection it
already holds: ADBC's libpq is built without GSSAPI (Kerberos), which psycopg's has."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from .db import POSTGRES_SESSION
from .db_errors import map_adbc_errors

__all__ = ["open_arrow"]


def _conninfo(engine: Engine) -> str:
    from psycopg.conninfo import make_conninfo

    _, params = engine.dialect.create_connect_args(engine.url)
    params = {k: v for k, v in params.items() if k != "context"}  # psycopg's adapters, not libpq's
    return make_conninfo("", **{**params, **POSTGRES_SESSION, "client_encoding": "UTF8"})


def open_arrow(engine: Engine) -> Any | None:
    """An ADBC DBAPI connection to `engine`'s PostgreSQL database in a read-only snapshot, or None
    where ADBC cannot serve it (see the module's docstring). The caller closes it."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return None
    try:
        import adbc_driver_postgresql.dbapi as adbc
    except ImportError:
        return None
    with map_adbc_errors(engine.url):
        conn = adbc.connect(_conninfo(engine))  # not autocommit: the driver has begun a transaction
        try:
            with conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        except BaseException:
            conn.close()
            raise
    return conn
