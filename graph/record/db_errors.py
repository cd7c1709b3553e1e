"""Database errors become the data layer's own, here and nowhere else: callers above `graph/`
(jobs, API, CLI) see `StoreUnavailable`, never a SQLAlchemy or driver exception, as the Neo4j
store does for its driver.

Every engine made by `db.engine_for` carries `translate_errors`, SQLAlchemy's `handle_error`
event: a connection that cannot be opened or is lost, and a statement the database refuses (a
missing table, a constraint, a lock it could not take), raise `StoreUnavailable` from wherever the
statement ran. `map_db_errors(conn)` does the same for work on the driver's own connection (COPY,
`executemany`), which SQLAlchemy does not see, and `map_adbc_errors(url)` for an ADBC connection
of our own (the features' Arrow reads): ADBC raises its own DBAPI errors, and an Arrow stream that
fails mid-read raises `OSError`. `Pool` does it for the one failure that never
reaches the database, a checkout that timed out waiting for a free pooled connection.

The message names the database (password hidden) and the driver's first line, for the operator
reading the CLI or the log; the failing statement is a note on the exception, so it reaches the
log's traceback and nothing else. API callers never read either: the server answers 503, the root
schema masks the error, a failed run records only the error's type."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext
from sqlalchemy.pool import QueuePool

from clientstrata.graph.errors import StoreUnavailable

__all__ = ["translate_errors", "map_db_errors", "map_adbc_errors", "Pool"]


class Pool(QueuePool):
    """SQLAlchemy's queue pool, whose checkout timeout (every connection busy for `pool_timeout`
    seconds) raises `StoreUnavailable` like any other failure to get a connection."""

    def _do_get(self):
        try:
            return super()._do_get()
        except sa.exc.TimeoutError as exc:
            raise StoreUnavailable(
                f"no free database connection after {self._timeout:g} s: all {self.size()} "
                f"(+{max(self._max_overflow, 0)} overflow) are busy"
            ) from exc


def translate_errors(engine: Engine) -> Engine:
    """Have every failure of a connection or statement through `engine` raise `StoreUnavailable`."""
    sa.event.listen(engine, "handle_error", _on_error)
    return engine


@contextmanager
def map_db_errors(conn: Connection) -> Iterator[None]:
    """Driver errors raised inside the block (work on `conn`'s DBAPI connection) as `StoreUnavailable`."""
    try:
        yield
    except conn.dialect.loaded_dbapi.Error as exc:
        lost = conn.dialect.is_disconnect(exc, None, None)
        raise _unavailable(exc, conn.engine.url, lost) from exc


@contextmanager
def map_adbc_errors(url: URL) -> Iterator[None]:
    """ADBC's errors inside the block, on a connection of its own to the database at `url`, as
    `StoreUnavailable`: one it could not open (`OperationalError`) is a database it cannot reach;
    a statement refused, or a result stream that failed mid-read (`OSError` from Arrow's reader),
    is a refused statement. Only a block that reads from ADBC's stream belongs here: any other
    `OSError` in it would be called the database's."""
    import adbc_driver_manager

    try:
        yield
    except adbc_driver_manager.OperationalError as exc:
        raise _unavailable(exc, url, lost=True) from exc
    except (adbc_driver_manager.Error, OSError) as exc:
        raise _unavailable(exc, url, lost=False) from exc


def _on_error(ctx: ExceptionContext) -> StoreUnavailable | None:
    # A stale pooled connection failing its pre-ping is SQLAlchemy's to replace; if the new one
    # cannot be opened, that failure comes back here as a connect error.
    if ctx.is_pre_ping or not isinstance(ctx.original_exception, ctx.dialect.loaded_dbapi.Error):
        return None  # not the database's failure: our own bug (a bad bind value …) stays as it is
    url = ctx.engine.url if ctx.engine is not None else None
    error = _unavailable(ctx.original_exception, url, lost=ctx.connection is None or ctx.is_disconnect)
    if ctx.statement:
        error.add_note(f"[SQL: {ctx.statement}]")
    return error  # SQLAlchemy raises it in place of its own, after its clean-up (rollback, invalidation)


def _unavailable(exc: BaseException, url: URL | None, lost: bool) -> StoreUnavailable:
    where = f"the database at {url.render_as_string(hide_password=True)}" if url is not None else "the database"
    reason = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    if url is not None and url.password:  # no driver we know of says it; should one, it stays unsaid
        reason = reason.replace(str(url.password), "***")
    if lost:
        return StoreUnavailable(f"cannot reach {where}: {reason}")
    return StoreUnavailable(f"{where} refused a statement: {reason}")
