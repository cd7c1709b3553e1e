"""Settings read from the environment, once, in one place.

Secrets (database and Neo4j passwords) come only from the environment; nothing
here has a production default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .errors import InvalidInput

__all__ = ["InvalidDatabaseUrl", "Settings", "database_url", "masked_url", "settings"]

DEFAULT_DATABASE_URL = "sqlite:///./clientstrata.db"
DEFAULT_NEO4J_PASSWORD = "clientstrata-dev"  # development only; docs/configuration.md says so


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str = field(default=DEFAULT_NEO4J_PASSWORD, repr=False)
    neo4j_database: str = "neo4j"
    graph_path: str | None = None  # embedded graph file; derived from the database URL when unset
    # a Neo4j outage must cost a request seconds, not the driver's default half minute
    neo4j_connect_timeout: float = 3.0  # connect + handshake, a pooled connection, the retry budget
    neo4j_query_timeout: float = 10.0  # one read that serves a request (a sync's batches are not bound)
    neo4j_breaker_failures: int = 3  # failed calls in a row that open the circuit breaker
    neo4j_breaker_reset: float = 10.0  # seconds open before one probe call is let through
    # DuckDB's own buffers while it computes the features; past it, it spills to a temporary
    # folder. Unbounded, it took 8 GB beside the 4.8 GB of record it reads at 1M customers.
    features_memory_mb: int = 2048

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=database_url(env.get("CLIENTSTRATA_DATABASE_URL") or DEFAULT_DATABASE_URL),
            neo4j_uri=env.get("CLIENTSTRATA_NEO4J_URI") or None,
            neo4j_user=env.get("CLIENTSTRATA_NEO4J_USER") or "neo4j",
            neo4j_password=env.get("CLIENTSTRATA_NEO4J_PASSWORD") or DEFAULT_NEO4J_PASSWORD,
            neo4j_database=env.get("CLIENTSTRATA_NEO4J_DATABASE") or "neo4j",
            graph_path=env.get("CLIENTSTRATA_GRAPH_PATH") or None,
            neo4j_connect_timeout=_number(env, "CLIENTSTRATA_NEO4J_CONNECT_TIMEOUT", 3.0),
            neo4j_query_timeout=_number(env, "CLIENTSTRATA_NEO4J_QUERY_TIMEOUT", 10.0),
            neo4j_breaker_failures=int(_number(env, "CLIENTSTRATA_NEO4J_BREAKER_FAILURES", 3, integer=True)),
            neo4j_breaker_reset=_number(env, "CLIENTSTRATA_NEO4J_BREAKER_RESET", 10.0, minimum=0),
            features_memory_mb=int(_number(env, "CLIENTSTRATA_FEATURES_MEMORY_MB", 2048, integer=True, minimum=256)),
        )

    @property
    def embedded_graph_path(self) -> str:
        """Where the networkx graph lives: beside the SQLite file, or in the working directory."""
        if self.graph_path:
            return self.graph_path
        if self.database_url.startswith("sqlite:///") and not self.database_url.endswith(":memory:"):
            return self.database_url.removeprefix("sqlite:///") + ".graph.pkl"
        return "./clientstrata.graph.pkl"


def _number(env, name: str, default: float, integer: bool = False, minimum: float = 0.001) -> float:
    """A positive number of seconds (or a count) from the environment; a wrong one is named."""
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = None
    if value is None or not minimum <= value < float("inf"):
        kind = f"a whole number ≥ {max(minimum, 1):g}" if integer else f"a number of seconds ≥ {minimum:g}"
        raise InvalidInput(f"{name} must be {kind}, not {raw!r}")
    return value


def settings() -> Settings:
    return Settings.from_env()


class InvalidDatabaseUrl(InvalidInput):
    """CLIENTSTRATA_DATABASE_URL is not a URL of a database we support."""

    code = "INVALID_DATABASE_URL"


_EXAMPLE = "e.g. sqlite:///./clientstrata.db or postgresql://user:password@host:5432/clientstrata"
# what users type (libpq and Heroku style) → the driver we ship
_POSTGRES_SCHEMES = ("postgres://", "postgresql://")


def database_url(raw: str) -> str:
    """The URL as SQLAlchemy needs it: `postgres://` and `postgresql://` name the psycopg driver
    we ship; anything that is not SQLite or PostgreSQL is refused in one line naming the variable,
    before any library sees it."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = raw.strip()
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            url = "postgresql+psycopg://" + url.removeprefix(scheme)
    try:
        backend = make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        backend = None
    if backend not in ("sqlite", "postgresql"):
        raise InvalidDatabaseUrl(
            f"CLIENTSTRATA_DATABASE_URL={masked_url(raw)!r} is not a SQLite or PostgreSQL URL; {_EXAMPLE}"
        )
    return url


def masked_url(url: str) -> str:
    """The URL with its password replaced by `***`, fit for logs and messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: show nothing that might be a secret after a colon
        return url.split("@")[-1] if "@" in url else url
