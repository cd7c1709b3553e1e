"""The root schema: every area's queries combined, and the limits and error masking set once, here."""
from __future__ import annotations

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.tools import merge_types

from ..graph.errors import ClientStrataError
from .customers.schema import CustomerQuery
from .enterprises.schema import EnterpriseQuery
from .households.schema import HouseholdQuery

__all__ = ["schema", "Query"]


Query = merge_types("Query", (CustomerQuery, HouseholdQuery, EnterpriseQuery))


def _visible(error: GraphQLError) -> bool:
    """Our own errors carry messages meant for the caller; anything else is masked."""
    return error.original_error is None or isinstance(error.original_error, ClientStrataError)


class PiiAudit(SchemaExtension):
    """Writes the audit rows for the unmasked PII an operation served, once, when it ends."""

    async def on_operation(self):
        yield
        context = self.execution_context.context
        if context is not None:
            await context.flush_audit()


class _Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Log only what went wrong on our side; a caller's bad argument is not an incident.
        super().process_errors([e for e in errors if not isinstance(e.original_error, ClientStrataError)],
                               execution_context)


schema = _Schema(
    query=Query,
    extensions=[  # factories: each request gets fresh extension instances
        lambda: QueryDepthLimiter(max_depth=10),
        lambda: MaxAliasesLimiter(max_alias_count=15),
        lambda: MaxTokensLimiter(max_token_count=2000),
        lambda: MaskErrors(should_mask_error=lambda e: not _visible(e)),
        PiiAudit,
    ],
)
