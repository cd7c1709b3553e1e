"""Read views that combine the graph and the record, with the caller's book applied, so the
API, the SDK's server and notebooks all see the same scoped answer."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd
from sqlalchemy.engine import Connection

from .errors import NotFound
from .queries import in_book
from .store import GraphStore, HouseholdView

__all__ = ["households_view", "ecosystem_view"]


def households_view(conn: Connection, graph: GraphStore, household_ids: Sequence[str],
                    book: str | None = None) -> dict[str, HouseholdView]:
    """Households with only the members the caller may see, in one graph read and one query. For
    a relationship manager a household with no member in their book is left out, as one that
    does not exist; the household AUM stays the whole household's, a fact about the household
    rather than about any member."""
    views = graph.households(household_ids)
    if book is None or not views:
        return views
    visible = in_book(conn, [c for v in views.values() for c in v.members["customer_id"]], book)
    out = {}
    for hid, view in views.items():
        mine = view.members["customer_id"].isin(visible)
        if mine.any():
            out[hid] = replace(view, members=view.members[mine].reset_index(drop=True))
    return out


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
