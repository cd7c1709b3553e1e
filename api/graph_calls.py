"""Graph reads off the threads the rest of a request uses, and a graph outage kept to its fields.

The record's loaders run in asyncio's default pool (a handful of threads on a small machine). A
graph read waits on another server: while that server is slow or down, a few of them would hold
every thread of that pool and stall queries that never touch the graph. So graph reads run in a
pool of their own, and each is bounded by the store (timeouts, circuit breaker). A graph that
cannot answer fails only its own field, with code GRAPH_UNAVAILABLE; the rest of the response is
served."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from graphql import GraphQLError
from sqlalchemy.engine import Engine

from clientstrata.graph.errors import GraphUnavailable
from clientstrata.graph.stores.base import GraphStore

__all__ = ["graph_read", "graph_status", "GRAPH_UNAVAILABLE"]

GRAPH_UNAVAILABLE = "GRAPH_UNAVAILABLE"
_MESSAGE = "The customer graph is unavailable just now; the rest of the answer is complete. Try again later."
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="graph-read")

log = logging.getLogger(__name__)


async def graph_read(engine: Engine, fn: Callable, *args):
    """`fn(conn, *args)` (a view that reads the graph, and the record beside it) in the graph's
    pool; a graph outage becomes the field's GRAPH_UNAVAILABLE error, its reason goes to the log."""

    def run():
        with engine.connect() as conn:
            return fn(conn, *args)

    try:
        return await asyncio.get_running_loop().run_in_executor(_POOL, run)
    except GraphUnavailable as exc:
        log.warning("graph field unavailable: %s", exc)
        raise GraphQLError(_MESSAGE, extensions={"code": GRAPH_UNAVAILABLE}) from None


async def graph_status(graph: GraphStore) -> str:
    """`ok` or `unavailable`, for /readyz: a ping in the graph's pool, at once while the breaker
    is open, and the breaker's probe once one is due (so readiness polls find the recovery)."""
    try:
        await asyncio.get_running_loop().run_in_executor(_POOL, graph.ping)
        return "ok"
    except Exception as exc:  # StoreUnavailable, or anything else that stops it answering
        log.warning("readiness: the graph is unavailable: %s", exc)
        return "unavailable"
