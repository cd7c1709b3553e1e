"""The root schema: every area's queries combined, and the limits and error masking set once,
here, from the API settings."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionResult

from clientstrata.graph.errors import ClientStrataError, StoreUnavailable

from .customers.ecosystem import NODE_TYPES
from .customers.schema import CustomerQuery
from .enterprises.schema import EnterpriseQuery
from .governance.schema import AuditQuery, OverrideMutation, OverrideQuery
from .households.schema import HouseholdQuery
from .limits import CostLimit, timed_out
from .runs.change_table import ChangeTableQuery
from .runs.schema import ChangeFeedQuery, RunMutation, RunQuery, WhatIfMutation, WhatIfQuery
from .scalars import UtcDateTime
from .segments.schema import SegmentQuery
from .settings import ApiSettings
from .strategies.action_table import ActionTableQuery
from .strategies.actions_schema import ActionMutation, ActionQuery
from .strategies.package_table import PackageTableQuery
from .strategies.points import PointsMutation
from .strategies.schema import StrategyQuery
from .tracking.schema import TrackingMutation, TrackingQuery

__all__ = ["build_schema", "schema", "Query", "Mutation"]

log = logging.getLogger(__name__)


# Fields print in merge order, area after area, as the committed SDL (api/schema.graphql) lists
# them: runs and governance concepts interleave there, so each concept is its own class.
Query = merge_types(
    "Query",
    (
        CustomerQuery,
        HouseholdQuery,
        EnterpriseQuery,
        SegmentQuery,
        RunQuery,
        OverrideQuery,
        WhatIfQuery,
        AuditQuery,
        ChangeFeedQuery,
        ChangeTableQuery,
        TrackingQuery,
        StrategyQuery,
        ActionQuery,
        PackageTableQuery,
        ActionTableQuery,
    ),
)
Mutation = merge_types(
    "Mutation", (RunMutation, WhatIfMutation, OverrideMutation, TrackingMutation, ActionMutation, PointsMutation)
)


def _visible(error: GraphQLError) -> bool:
    """Our own errors and GraphQL's about the request (a variable that does not coerce to its type)
    carry messages meant for the caller; anything else is masked. A store being down is the
    operator's business: its message names hosts and files, so callers see it masked too."""
    original = error.original_error
    if isinstance(original, StoreUnavailable):
        return False
    return original is None or isinstance(original, (ClientStrataError, GraphQLError))


class PiiAudit(SchemaExtension):
    """Writes the audit rows for the unmasked PII an operation served, once, when it ends. PII
    whose reading cannot be audited is not served: the whole result gives way to a masked error
    (an exception here would otherwise reach the caller with the store's message)."""

    async def on_operation(self):
        yield
        context = self.execution_context.context
        if context is None:
            return
        try:
            await context.flush_audit()
        except Exception:  # noqa: BLE001 - whatever stopped the audit, its text is not the caller's
            log.exception("PII was read but its audit entries could not be written: the result is withheld")
            # raised here, the operation's result gives way to this error alone (no data)
            raise GraphQLError("Unexpected error.") from None


class _Schema(strawberry.Schema):
    timeout: float | None = None  # seconds an operation may execute; None: no limit

    async def execute(self, *args, **kwargs) -> ExecutionResult:
        # The resolvers' threads finish what they started (a transaction is never cut in half);
        # the caller is answered at the deadline and the operation's remaining fields never start.
        try:
            async with asyncio.timeout(self.timeout):
                return await super().execute(*args, **kwargs)
        except TimeoutError:
            return ExecutionResult(data=None, errors=[timed_out(self.timeout)])

    def process_errors(self, errors, execution_context=None) -> None:
        # Our refusals carry their machine-readable code, so a client can branch on it.
        for e in errors:
            if isinstance(e.original_error, ClientStrataError) and "code" not in (e.extensions or {}):
                e.extensions = {**(e.extensions or {}), "code": e.original_error.code}
        # Log only what went wrong on our side; a caller's bad argument is not an incident.
        super().process_errors([e for e in errors if not _visible(e)], execution_context)


def build_schema(settings: ApiSettings) -> strawberry.Schema:
    # The limiters' rule classes are made once: each limiter instance makes new ones, and new
    # rules would make every request miss the validation cache below.
    limits = [
        *QueryDepthLimiter(max_depth=settings.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    extensions = [  # factories: each request gets fresh extension instances
        lambda: AddValidationRules(limits),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: CostLimit(settings.max_cost),
        lambda: MaskErrors(should_mask_error=lambda e: not _visible(e)),
        PiiAudit,
        # workbenches send the same few documents all day: parse and validate each once (bounded
        # LRU, keyed by the text and the parse limits, so a flood of unique texts cannot grow it)
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]
    if not settings.introspection:
        extensions.insert(0, DisableIntrospection)
    built = _Schema(
        query=Query,
        mutation=Mutation,
        types=list(NODE_TYPES.values()),  # an interface's types are reached only through it
        extensions=extensions,
        config=StrawberryConfig(scalar_map={dt.datetime: UtcDateTime}),
    )
    built.timeout = settings.query_timeout
    return built


# With the default limits: for SDL export and tools. The app builds its own from the environment.
schema = build_schema(ApiSettings())
