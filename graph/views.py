"""Read views that combine the graph and the record, with the caller's book applied, so the
API, the SDK's server and notebooks all see the same scoped answer."""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy.engine import Connection

from .errors import NotFound
from .queries import in_book
from .store import GraphStore, HouseholdView

__all__ = ["household_view"]


def household_view(conn: Connection, graph: GraphStore, household_id: str, book: str | None = None) -> HouseholdView:
    """The household with only the members the caller may see. A relationship manager with no
    member in their book gets NotFound, as for a household that does not exist; the household
    AUM stays the whole household's, a fact about the household rather than about any member."""
    view = graph.household(household_id)
    if book is None:
        return view
    visible = in_book(conn, list(view.members["customer_id"]), book)
    if not visible:
        raise NotFound("household", household_id)
    members = view.members[view.members["customer_id"].isin(visible)].reset_index(drop=True)
    return replace(view, members=members)
