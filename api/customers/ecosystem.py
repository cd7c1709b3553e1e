"""A customer's ecosystem as edges: how a node is reached (`hops`, `relations`) depends on whose
ecosystem was asked for, so it is on the edge; the node holds only what is true of it from
anywhere, so a client's normalized cache (keyed by `__typename` and `id`) never mixes two
customers' paths. Each kind of node is its own type because a customer, an enterprise and a
household may share an id."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from clientstrata.api.graph_calls import graph_read
from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.stores.base import HUB_DEGREE
from clientstrata.graph.views import ECOSYSTEM_WINDOW, ecosystem_view

__all__ = [
    "EcosystemNode",
    "EcosystemIndividual",
    "EcosystemEnterprise",
    "EcosystemHousehold",
    "EcosystemEdge",
    "NODE_TYPES",
    "MAX_ECOSYSTEM",
    "resolve_ecosystem",
]

MAX_ECOSYSTEM = 1000


@strawberry.interface(
    description="A customer, enterprise or household in the graph. Its fields are the same from whichever "
    "customer it was reached; the way there is on `EcosystemEdge`. `id` is unique within its type."
)
class EcosystemNode:
    id: strawberry.ID
    kind: str = strawberry.field(description="Individual, Enterprise or Household (as `__typename` says).")
    name: str | None
    degree: int = strawberry.field(
        description=(
            f"Its ecosystem relationships in the whole graph. One with more than {HUB_DEGREE} (a large payroll "
            "employer, say) is a hub: it is listed, but the walk does not pass through it to its thousands of staff."
        )
    )


@strawberry.type(description="An individual customer in the graph (`customer(id)` reads the 360).")
class EcosystemIndividual(EcosystemNode):
    pass


@strawberry.type(description="An enterprise in the graph (`enterprise(id)` reads it).")
class EcosystemEnterprise(EcosystemNode):
    pass


@strawberry.type(description="A household in the graph (`household(id)` reads it).")
class EcosystemHousehold(EcosystemNode):
    pass


NODE_TYPES: dict[str, type[EcosystemNode]] = {
    "Individual": EcosystemIndividual,
    "Enterprise": EcosystemEnterprise,
    "Household": EcosystemHousehold,
}


@strawberry.type(description="How a node is reached from the customer whose ecosystem was asked for.")
class EcosystemEdge:
    hops: int = strawberry.field(description="The shortest distance from the customer.")
    relations: list[str] = strawberry.field(description="Relationship types that reach it at that distance.")
    node: EcosystemNode


def _asks_for(selections, name: str) -> bool:
    """Whether a field called `name` is selected anywhere below (fragments included)."""
    return any(getattr(s, "name", None) == name or _asks_for(getattr(s, "selections", ()), name) for s in selections)


async def resolve_ecosystem(info: Info, customer_id: str, hops: int, first: int) -> list[EcosystemEdge] | None:
    """The walk counts each node's relationships only when `degree` is selected: most of a
    two-hop walk's cost is that count on the nodes it reaches last."""
    if not 1 <= hops <= 4:
        raise InvalidInput("`hops` must be between 1 and 4")
    if not 1 <= first <= MAX_ECOSYSTEM:
        raise InvalidInput(f"`first` must be between 1 and {MAX_ECOSYSTEM}")
    ctx = info.context
    degrees = _asks_for(info.selected_fields, "degree")
    rows = await graph_read(
        ctx.engine, ecosystem_view, ctx.graph, customer_id, hops, ctx.principal.book, first, ECOSYSTEM_WINDOW, degrees
    )
    return [
        EcosystemEdge(
            hops=depth,
            relations=relations.split(","),
            # an unselected degree was not counted: None, never serialised
            node=NODE_TYPES[label](id=strawberry.ID(node_id), kind=label, name=name, degree=degree),
        )
        for label, node_id, name, depth, relations, degree in rows
    ]
