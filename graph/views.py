"""Read views over the graph and the record, with the caller's book applied, so the API, the
SDK's server and notebooks all see the same scoped answer."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy.engine import Connection

from clientstrata.graph.record.access import in_book
from clientstrata.graph.record.households import household_members, households_by_id
from clientstrata.graph.stores.base import EcosystemRow, GraphStore, HouseholdView

from .errors import NotFound

__all__ = ["ECOSYSTEM_WINDOW", "household_view", "households_view", "ecosystem_view"]

# The most nodes a relationship manager's ecosystem walk reads to fill a page with their own
# people: four pages of the API's largest (1000).
ECOSYSTEM_WINDOW = 4000


def households_view(
    conn: Connection, household_ids: Sequence[str], book: str | None = None
) -> dict[str, HouseholdView]:
    """Households with only the members the caller may see, from the record and its rollups (so
    current as of the last ingest), in two queries. For a relationship manager a household with
    no member in their book is left out, as one that does not exist; the household AUM stays
    the whole household's, a fact about the household rather than about any member."""
    rows = households_by_id(conn, household_ids, book)
    members = household_members(conn, list(rows), book) if rows else {}
    cols = ["customer_id", "name", "role", "aum"]
    return {
        hid: HouseholdView(
            hid,
            r["name"],
            r["status"],
            float(r["aum"]),
            pd.DataFrame(members.get(hid, []), columns=cols),
            tier=r["tier"],
            member_count=int(r["member_count"]),
            updated_at=r["updated_at"],
        )
        for hid, r in rows.items()
    }


def household_view(conn: Connection, household_id: str, book: str | None = None) -> HouseholdView:
    """One household as `households_view` shows it (for notebooks and jobs); NotFound otherwise."""
    found = households_view(conn, [household_id], book)
    if household_id not in found:
        raise NotFound("household", household_id)
    return found[household_id]


def ecosystem_view(
    conn: Connection,
    graph: GraphStore,
    customer_id: str,
    hops: int = 2,
    book: str | None = None,
    first: int | None = None,
    window: int = ECOSYSTEM_WINDOW,
    degrees: bool = True,
) -> list[EcosystemRow]:
    """Customers, enterprises and households within `hops` of a customer, as the store's plain
    rows (ECOSYSTEM_COLUMNS: label, id, name, hops, relations, degree), nearest first; with
    `first`, only that many. A relationship manager sees the enterprises and households, and only
    the people in their own book: the path through a stranger is kept, the stranger is not shown.
    Strangers take places in the walk, so it widens (four times at each step) until `first` are
    shown, but never past the nearest `window` nodes: a book's page may then be shorter than
    `first`. With `degrees` false the degree may be None (see `GraphStore.walk`). Rows, not a
    frame: this serves a request, where building a frame costs more than the rows it holds."""
    if book is not None and not in_book(conn, [customer_id], book):
        raise NotFound("customer", customer_id)
    want = first if book is None or first is None else min(first, window)
    while True:
        eco = graph.walk(customer_id, hops, first=want, degrees=degrees)
        if book is None or not eco:
            return eco
        visible = in_book(conn, [r[1] for r in eco if r[0] == "Individual"], book)
        shown = [r for r in eco if r[0] != "Individual" or r[1] in visible]
        # strangers took some of the places: walk further until enough are shown, none is left or
        # the window is as wide as it may be
        if want is None or len(eco) < want or len(shown) >= first or want >= window:
            return shown[:first] if first is not None else shown
        want = min(want * 4, window)
