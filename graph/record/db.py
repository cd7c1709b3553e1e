"""Engine, schema migrations and bulk upserts for the relational record. Every engine made here
raises `StoreUnavailable` for a database failure (`db_errors`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from clientstrata.graph.config import Settings, masked_url, settings
from clientstrata.graph.errors import InvalidInput

from .db_errors import Pool, translate_errors

__all__ = [
    "POSTGRES_SESSION",
    "NoRecord",
    "engine_for",
    "get_engine",
    "ping",
    "require_record",
    "has_customers",
    "migrate",
    "upsert",
    "insert_ignore",
    "count_rows",
]

# PostgreSQL session settings every connection to the record takes (the ADBC reads' too):
# the record stores naive UTC; `now()` and naive timestamps follow the session's zone
POSTGRES_SESSION = {"options": "-c timezone=UTC"}

_MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x436C5374  # "ClSt": one advisory-lock key for schema migrations


def engine_for(url: str, **pool: Any) -> Engine:
    """An engine for `url`; `pool`: SQLAlchemy's pool settings (`pool_size`, `pool_timeout` …)."""
    kwargs: dict[str, Any] = {"future": True, **pool}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = dict(POSTGRES_SESSION)
    if sa.engine.make_url(url).database not in (None, "", ":memory:") or not url.startswith("sqlite"):
        kwargs["poolclass"] = Pool  # a file or a server: SQLAlchemy's queue pool, its timeout translated
    engine = sa.create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return translate_errors(engine)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets the API read while a job writes; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


@lru_cache(maxsize=8)
def _cached_engine(url: str) -> Engine:
    return engine_for(url)


def get_engine(cfg: Settings | None = None) -> Engine:
    return _cached_engine((cfg or settings()).database_url)


def ping(engine: Engine) -> None:
    """Raises `StoreUnavailable` unless the database answers a trivial query."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


class NoRecord(InvalidInput):
    """The database URL points at no ClientStrata record (no file, no schema, or no customers)."""

    code = "NO_RECORD"


_HOW = "set CLIENTSTRATA_DATABASE_URL to the record's URL, or load one first with `clientstrata ingest BUNDLE`"


def require_record(url: str, schema: bool = True) -> None:
    """Refuse, naming the URL and how to set it, a database that is not a record yet — before
    anything connects, since connecting to a SQLite path creates an empty file there. `schema`:
    the tables must exist too (a server database may be created empty by its administrator)."""
    db = sa.engine.make_url(url).database
    if url.startswith("sqlite") and db and db != ":memory:" and not Path(db).exists():
        raise NoRecord(f"no database at {masked_url(url)}: {_HOW}")
    if not schema:
        return
    with _cached_engine(url).connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            raise NoRecord(f"{masked_url(url)} holds no ClientStrata record: {_HOW}")


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    # Processes starting together (API, jobs) migrate one at a time: PostgreSQL by an advisory
    # lock, SQLite by taking its write lock before reading the schema version.
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        elif conn.dialect.name == "sqlite":
            # sqlite3 opens its transaction lazily at the first write; open it here, with the
            # write lock, so the version read below cannot go stale before the DDL
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _insert(conn: Connection, table: sa.Table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - other dialects are not supported yet
        raise NotImplementedError(conn.dialect.name)
    return insert(table)


def upsert(conn: Connection, table: sa.Table, rows: Sequence[dict], key: Iterable[str]) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE: re-loading the same rows changes nothing."""
    if not rows:
        return
    key = list(key)
    stmt = _insert(conn, table)
    cols = [c for c in rows[0] if c not in key]
    stmt = (
        stmt.on_conflict_do_update(index_elements=key, set_={c: stmt.excluded[c] for c in cols})
        if cols
        else stmt.on_conflict_do_nothing(index_elements=key)
    )
    conn.execute(stmt, list(rows))


def insert_ignore(conn: Connection, table: sa.Table, rows: Sequence[dict], key: Iterable[str]) -> None:
    if rows:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(index_elements=list(key)), list(rows))


def count_rows(conn: Connection, table: sa.Table) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def has_customers(conn: Connection) -> bool:
    """Whether any individual or enterprise is loaded."""
    return any(conn.execute(sa.text(f"SELECT 1 FROM {t} LIMIT 1")).first() for t in ("individuals", "enterprises"))
