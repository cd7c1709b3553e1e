"""Per-request context: the caller, the stores and dataloaders (built per request so nothing
is cached across callers). Loaders run the synchronous domain queries in a worker thread and
carry the caller's book, so a relationship manager's loaders never return another RM's customer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.engine import Engine
from strawberry.dataloader import DataLoader

from clientstrata.graph.record import households as H
from clientstrata.graph.record import profiles as P
from clientstrata.graph.record import queries as Q
from clientstrata.graph.record.access import Principal
from clientstrata.graph.record.audit_apart import record_apart
from clientstrata.graph.stores.base import GraphStore
from clientstrata.jobs.governance.standards import live_standard
from clientstrata.jobs.runs import history
from clientstrata.jobs.runs.change_reasons import change_reasons
from clientstrata.jobs.runs.explain import explained_tags
from clientstrata.jobs.runs.worker import RunWorker
from clientstrata.jobs.strategies.nba import stored_actions
from clientstrata.jobs.strategies.points import balances as points_balances
from clientstrata.jobs.tracking.alerts import alerts_by_customer
from clientstrata.jobs.tracking.feedback import feedback_by_customer

__all__ = ["CHANGE_KEY", "Context", "in_thread"]

LATEST = "latest"  # the one key of the per-request run loader


async def in_thread(engine: Engine, fn: Callable, *args, write: bool = False):
    def run():
        with engine.begin() if write else engine.connect() as conn:
            return fn(conn, *args)

    return await asyncio.to_thread(run)


def _loader(engine: Engine, fetch: Callable, default=None) -> DataLoader:
    async def load(keys: Sequence[str]):
        found = await in_thread(engine, fetch, list(keys))
        return [found.get(k, default() if callable(default) else default) for k in keys]

    return DataLoader(load_fn=load)


def _run_loader(engine: Engine, fetch: Callable, run: DataLoader, default=None) -> DataLoader:
    """A loader whose reads all see the one run this request read first, even if another is
    published meanwhile: one response never mixes two runs, and the run is read once."""

    async def load(keys: Sequence):
        run_id = await run.load(LATEST)
        found = await in_thread(engine, fetch, list(keys), run_id) if run_id is not None else {}
        return [found.get(k, default() if callable(default) else default) for k in keys]

    return DataLoader(load_fn=load)


def _latest_run(conn, keys: Sequence[str]) -> dict[str, int | None]:
    return {k: Q.latest_run_id(conn) for k in keys}


# what a change-feed row hands its reason loader: enough of the row to explain it, hashable
CHANGE_KEY = ("seq", "source", "run_id", "override_id", "customer_id", "dimension", "new_value")


def _change_reasons(conn, keys: Sequence[tuple]) -> dict[tuple, tuple[str, str]]:
    found = change_reasons(conn, [dict(zip(CHANGE_KEY, k, strict=True)) for k in keys])
    return {k: found[k[0]] for k in keys if k[0] in found}


def _live_fx(conn, keys: Sequence[str]) -> dict[str, dict[str, float]]:
    rates = live_standard(conn).fx_to_cny
    return {k: rates for k in keys}


@dataclass
class Context:
    engine: Engine
    graph: GraphStore
    principal: Principal
    request: object = None
    runs: RunWorker | None = None  # does the runs `startRun` queues, in the background
    # (customer_id, field) of every unmasked PII value served; audited once the operation ends
    pii_reads: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        book = self.principal.book
        self.customer = _loader(self.engine, partial(Q.customers_by_id, book=book))
        self.latest_run = _loader(self.engine, _latest_run)  # one key, LATEST: the run, once per request
        self.tags = _run_loader(self.engine, explained_tags, self.latest_run, list)  # in words, both languages
        self.tag_value = _run_loader(self.engine, Q.tag_values, self.latest_run)  # keys: (customer_id, dimension)
        self.household_id = _loader(self.engine, Q.household_ids)
        # by customer id: the household and its members in one read (they prime the loaders below)
        self.household_of = _loader(self.engine, partial(H.households_of_customers, book=book))
        self.household = _loader(self.engine, partial(H.households_by_id, book=book))
        self.household_members = _loader(self.engine, partial(H.household_members, book=book), list)
        self.tags_as_of = _loader(self.engine, history.tags_as_of_batch, list)  # keys: (customer_id, date)
        self.tag_history = _loader(self.engine, history.tag_histories, list)  # keys: (customer_id, dimension)
        self.holdings = _loader(self.engine, P.holdings_by_customer, list)
        self.rm = _loader(self.engine, P.rms_by_id)
        self.enterprise = _loader(self.engine, partial(P.enterprises_by_id, book=book))
        self.enterprise_people = _loader(self.engine, partial(P.enterprise_people, book=book), list)
        self.supply_chain = _loader(self.engine, P.supply_chain, list)
        self.alerts = _loader(self.engine, alerts_by_customer, list)
        self.feedback = _loader(self.engine, feedback_by_customer, list)
        self.next_best_actions = _loader(self.engine, stored_actions, list)  # the latest run's
        self.fx_to_cny = _loader(self.engine, _live_fx)  # one key, "live": the rates, once per request
        self.points_balance = _loader(self.engine, points_balances, int)
        self.change_reason = _loader(self.engine, _change_reasons)  # keys: CHANGE_KEY tuples of a page

    async def run(self, fn: Callable, *args):
        return await in_thread(self.engine, fn, *args)

    async def write(self, fn: Callable, *args):
        """`fn(conn, *args)` in a transaction of its own, committed when it returns."""
        return await in_thread(self.engine, fn, *args, write=True)

    async def flush_audit(self) -> None:
        if not self.pii_reads:
            return
        reads, self.pii_reads = sorted(self.pii_reads), set()
        entries = [(cid, {"field": f, "role": self.principal.role.value}) for cid, f in reads]
        # apart from any transaction, and never long behind a publish (graph.record.audit_apart)
        await asyncio.to_thread(record_apart, self.engine, self.principal.actor, "pii.read", "customer", entries)

    async def refused(self, kind: str, key: object, field: str) -> None:
        """Audit an attempt on another book's `kind` (answered as if there were none)."""
        who = self.principal
        details = {"field": field, "role": who.role.value, "rm_id": who.rm_id, "person": who.person}
        await asyncio.to_thread(record_apart, self.engine, who.actor, "access.refused", kind, [(key, details)])
