"""The API's limits and switches, read from the environment once, when the app is built.

Every value has a documented default (docs/configuration.md); a malformed value stops the
server at start-up with a message naming the variable, never at the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from clientstrata.graph.errors import InvalidInput

__all__ = ["ApiSettings"]


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidInput(f"{name} must be a positive integer, not {raw!r}")
    return value


def _positive_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise InvalidInput(f"{name} must be a positive number of seconds, not {raw!r}")
    return value


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise InvalidInput(f"{name} must be 1 or 0, not {raw!r}")


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in env.get(name, "").split(",") if o.strip())
    for o in origins:
        if o == "*" or not o.startswith(("http://", "https://")):
            # `*` would let any page on the intranet read customer data with a user's token
            raise InvalidInput(f"{name} lists origins like https://crm.bank.example; {o!r} is not one")
    return origins


@dataclass(frozen=True)
class ApiSettings:
    max_body_bytes: int = 1024 * 1024  # a GraphQL document and its variables; no uploads
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_cost: int = 100_000  # objects an operation may ask for (api/cost.py), checked before it runs
    query_timeout: float = 30.0  # seconds an operation may execute
    introspection: bool = True
    cors_origins: tuple[str, ...] = ()  # none: browsers may call the API only from its own origin

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiSettings:
        env = os.environ if env is None else env
        d = cls()
        return cls(
            max_body_bytes=_positive_int(env, "CLIENTSTRATA_MAX_BODY_BYTES", d.max_body_bytes),
            max_depth=_positive_int(env, "CLIENTSTRATA_MAX_DEPTH", d.max_depth),
            max_aliases=_positive_int(env, "CLIENTSTRATA_MAX_ALIASES", d.max_aliases),
            max_tokens=_positive_int(env, "CLIENTSTRATA_MAX_TOKENS", d.max_tokens),
            max_cost=_positive_int(env, "CLIENTSTRATA_MAX_COST", d.max_cost),
            query_timeout=_positive_seconds(env, "CLIENTSTRATA_QUERY_TIMEOUT", d.query_timeout),
            introspection=_switch(env, "CLIENTSTRATA_INTROSPECTION", d.introspection),
            cors_origins=_origins(env, "CLIENTSTRATA_CORS_ORIGINS"),
        )
