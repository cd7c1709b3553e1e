"""Read views that combine the graph and the record, with the caller's book applied, so the
API, the SDK's server and notebooks all see the same scoped answer."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd
from sqlalchemy.engine import Connection

from .errors import NotFound
from .queries import in_book
from .store import GraphStore, HouseholdView

__all__ = ["household_view", "ecosystem_view"]


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


def ecosystem_view(conn: Connection, graph: GraphStore, customer_id: str, hops: int = 2,
                   book: str | None = None) -> pd.DataFrame:
    """Customers, enterprises and households within `hops` of a customer (label, id, name, hops,
    relations). A relationship manager sees the enterprises and households, and only the people
    in their own book: the path through a stranger is kept, the stranger is not shown."""
    if book is not None and not in_book(conn, [customer_id], book):
        raise NotFound("customer", customer_id)
    eco = graph.ecosystem(customer_id, hops)
    if book is None or eco.empty:
        return eco
    people = eco["label"] == "Individual"
    visible = in_book(conn, list(eco.loc[people, "id"]), book)
    return eco[~people | eco["id"].isin(visible)].reset_index(drop=True)
