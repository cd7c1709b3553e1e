"""The limits on what one operation may do once its document is valid: its cost, checked against
the budget before any resolver runs (`api/cost.py` says how it is counted), and its execution
time. Both answer with a GraphQL error carrying a code, never a stack trace."""

from __future__ import annotations

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from .cost import operation_cost

__all__ = ["QUERY_TOO_COSTLY", "TIMEOUT", "CostLimit", "timed_out"]

QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
TIMEOUT = "TIMEOUT"


class CostLimit(SchemaExtension):
    """Refuses an operation whose cost is over `budget` before it executes, and reports the cost
    of every operation it let run (or refused) in the response's `extensions.cost`."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget = budget
        self.cost: int | None = None

    def on_execute(self):
        ctx = self.execution_context
        self.cost = operation_cost(ctx.schema._schema, ctx.graphql_document, ctx.operation_name, ctx.variables)
        if self.cost > self.budget:
            # a result set before execution is the one returned: no resolver runs
            ctx.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        f"The operation costs {self.cost}, over the budget of {self.budget}: ask for smaller "
                        "pages (`first`), fewer hops or fewer nested lists.",
                        extensions={"code": QUERY_TOO_COSTLY, "cost": self.cost, "budget": self.budget},
                    )
                ],
            )
        yield

    def get_results(self) -> dict:
        return {} if self.cost is None else {"cost": {"requested": self.cost, "budget": self.budget}}


def timed_out(seconds: float) -> GraphQLError:
    return GraphQLError(
        f"The operation did not finish within {seconds:g} s; ask for less (smaller pages, fewer hops).",
        extensions={"code": TIMEOUT},
    )
