"""Per-request context: the stores and dataloaders (built per request so nothing is
cached across callers). Loaders run the synchronous domain queries in a worker thread."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy.engine import Engine
from strawberry.dataloader import DataLoader

from ..graph import queries as Q
from ..graph.store import GraphStore

__all__ = ["Context", "in_thread"]


async def in_thread(engine: Engine, fn: Callable, *args):
    def run():
        with engine.connect() as conn:
            return fn(conn, *args)
    return await asyncio.to_thread(run)


def _loader(engine: Engine, fetch: Callable, default=None) -> DataLoader:
    async def load(keys: Sequence[str]):
        found = await in_thread(engine, fetch, list(keys))
        return [found.get(k, default() if callable(default) else default) for k in keys]
    return DataLoader(load_fn=load)


@dataclass
class Context:
    engine: Engine
    graph: GraphStore
    request: object = None

    def __post_init__(self) -> None:
        self.customer = _loader(self.engine, Q.customers_by_id)
        self.tags = _loader(self.engine, Q.tags_by_customer, list)
        self.household_id = _loader(self.engine, Q.household_ids)

    async def run(self, fn: Callable, *args):
        return await in_thread(self.engine, fn, *args)

    async def run_graph(self, fn: Callable, *args):
        return await asyncio.to_thread(partial(fn, *args))
