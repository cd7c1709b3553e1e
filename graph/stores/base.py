"""The customer graph behind one interface, with two implementations that must agree:
`Neo4jGraph` (production) and `NetworkxGraph` (embedded default)."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from clientstrata.graph.errors import NotFound

__all__ = [
    "GraphStore",
    "HouseholdView",
    "LABELS",
    "RELATIONSHIPS",
    "ECOSYSTEM_RELS",
    "ENTITY_LABELS",
    "HUB_DEGREE",
    "NEIGHBOUR_COLUMNS",
    "ECOSYSTEM_COLUMNS",
    "ECOSYSTEM_FEATURES",
    "EcosystemRow",
    "DIGEST",
    "RelKey",
    "Totals",
    "totals_of",
]

LABELS = ("Individual", "Household", "Enterprise", "Product", "Account", "RelationshipManager", "Branch")
# type -> (start label(s), end label, property that tells parallel relationships apart)
RELATIONSHIPS: dict[str, tuple[tuple[str, ...], str, str | None]] = {
    "MEMBER_OF": (("Individual",), "Household", None),
    "EMPLOYED_BY": (("Individual",), "Enterprise", None),
    "CONTROLS": (("Individual",), "Enterprise", "role"),
    "SUPPLIES": (("Enterprise",), "Enterprise", None),
    "OWNS": (("Individual", "Enterprise"), "Account", None),
    "CO_HOLDS": (("Individual",), "Account", None),
    "HOLDS": (("Individual", "Enterprise"), "Product", None),
    "MANAGED_BY": (("Individual", "Enterprise"), "RelationshipManager", None),
    "WORKS_AT": (("RelationshipManager",), "Branch", None),
}
# Relationships that tie customers to each other. Products, RMs and branches are shared
# by thousands and would make everyone a neighbour of everyone.
ECOSYSTEM_RELS = ("MEMBER_OF", "EMPLOYED_BY", "CONTROLS", "SUPPLIES", "OWNS", "CO_HOLDS")
ENTITY_LABELS = ("Individual", "Enterprise", "Household")
# A node with more ecosystem relationships than this (a large payroll employer, a group's
# master account) is shown in a customer's ecosystem but not walked through: its thousands of
# staff are not that customer's circle, and listing them would cost every request a scan.
HUB_DEGREE = 500
NEIGHBOUR_COLUMNS = ["src_id", "rel", "label", "id", "name", "degree"]
ECOSYSTEM_COLUMNS = ["label", "id", "name", "hops", "relations", "degree"]
# one row of a walk, in ECOSYSTEM_COLUMNS order (degree None when it was not asked for)
EcosystemRow = tuple[str, str, str | None, int, str, int | None]
ECOSYSTEM_FEATURES = ("payroll_employer", "controls", "household_members", "co_holders", "supply_chain")
# The property a sync leaves on every node and relationship it writes: a digest of the item's
# other properties. The graph itself says what it holds, so a re-sync sends only items whose
# digest differs, whatever happened in between (a killed sync, a cleared graph, a record copied).
DIGEST = "sync_digest"
# a relationship's identity: (start id, end id, value of its key property or None)
RelKey = tuple[str, str, object]
# (items, sum of digest // 2**31, sum of digest % 2**31): compared before any digest is read
Totals = tuple[int, int, int]
_HALF = 2**31


def totals_of(digests) -> Totals:
    """`Totals` of some digests (None, for an item written without one, counts but adds nothing)."""
    known = [d for d in digests if d is not None]
    return len(digests), sum(d // _HALF for d in known), sum(d % _HALF for d in known)


@dataclass
class HouseholdView:
    household_id: str
    name: str | None
    status: str
    aum: float
    members: pd.DataFrame  # customer_id, name, role, aum
    # from the record's rollups (graph stores leave them unset)
    tier: str | None = None
    member_count: int | None = None
    updated_at: dt.datetime | None = None

    def __repr__(self) -> str:
        return f"HouseholdView(household_id={self.household_id!r}, members={len(self.members)}, aum={self.aum:,.2f})"


class GraphStore(ABC):
    """Writes are keyed by (label, id), and a relationship by its ends (and key property):
    `merge_*` adds properties to what is there, `write_*` (the sync's) replaces them, creating
    without looking when the caller knows the target is empty. Reads return DataFrames."""

    @abstractmethod
    def ensure_schema(self) -> None: ...

    @abstractmethod
    def merge_nodes(self, label: str, rows: Sequence[dict]) -> None:
        """Each row has `id`; other keys become properties."""

    @abstractmethod
    def merge_relationships(self, rel_type: str, start_label: str, rows: Sequence[dict]) -> None:
        """Each row has `start` and `end` ids; other keys become properties."""

    # -- what a sync writes: each row carries DIGEST, and replaces what the graph held --------
    @abstractmethod
    def write_nodes(self, label: str, rows: Sequence[dict], *, new: bool = False) -> None:
        """Each row has `id`; its other keys become the node's properties, all of them (a
        property the row lacks or holds as None is removed). `new`: the caller knows none of
        these nodes exists (a first load), so a store may create them without looking."""

    @abstractmethod
    def write_relationships(self, rel_type: str, start_label: str, rows: Sequence[dict], *, new: bool = False) -> None:
        """As `write_nodes`, for relationships: each row has `start` and `end` ids (and the
        type's key property, when it has one); a row whose end is not a node is dropped."""

    @abstractmethod
    def delete_nodes(self, label: str, ids: Sequence[str]) -> None:
        """The nodes and every relationship they have."""

    @abstractmethod
    def delete_relationships(self, rel_type: str, start_label: str, keys: Sequence[RelKey]) -> None: ...

    @abstractmethod
    def node_digests(self, label: str) -> dict[str, int | None]:
        """id -> DIGEST of every node of the label (None: written without one)."""

    @abstractmethod
    def relationship_digests(self, rel_type: str, start_label: str) -> dict[RelKey, int | None]: ...

    def node_totals(self, label: str) -> Totals:
        """What `node_digests` adds up to; a server store counts it where the data is."""
        return totals_of(list(self.node_digests(label).values()))

    def relationship_totals(self, rel_type: str, start_label: str) -> Totals:
        return totals_of(list(self.relationship_digests(rel_type, start_label).values()))

    def neighbours(self, label: str, ids: Sequence[str], limit: int | None = None) -> pd.DataFrame:
        """Ecosystem neighbours of nodes of one label; see `neighbourhood`."""
        return self.neighbourhood({label: list(ids)}, limit)

    @abstractmethod
    def neighbourhood(self, frontier: Mapping[str, Sequence[str]], limit: int | None = None) -> pd.DataFrame:
        """Ecosystem neighbours of the nodes in `frontier` (label -> ids), in one read: src_id,
        rel, label, id, name and degree (the neighbour's own count of ecosystem relationships).
        With `limit`, each node gives only its first `limit` customers, enterprises and
        households by (label, id), with every relationship to them, and all its other neighbours
        (accounts), so a payroll employer's whole staff never travels to answer for a hundred."""

    @abstractmethod
    def household(self, household_id: str) -> HouseholdView: ...

    def households(self, household_ids: Sequence[str]) -> dict[str, HouseholdView]:
        """Several households at once (absent ids are left out); stores with a round trip per
        call answer in one."""
        out = {}
        for hid in household_ids:
            try:
                out[hid] = self.household(hid)
            except NotFound:
                pass
        return out

    @abstractmethod
    def ecosystem_features(self) -> pd.DataFrame:
        """Per individual: the ECOSYSTEM_FEATURES counts (customers with none are absent)."""

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Nodes per label and relationships per type."""

    @abstractmethod
    def clear(self) -> None: ...

    def flush(self) -> None:
        """Make writes durable (the embedded graph saves its file)."""

    def ping(self) -> None:
        """Cheap readiness check: raises StoreUnavailable when the store cannot answer."""

    def close(self) -> None:
        pass

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def ecosystem(
        self,
        customer_id: str,
        hops: int = 2,
        label: str = "Individual",
        first: int | None = None,
        hub_degree: int | None = HUB_DEGREE,
        degrees: bool = True,
    ) -> pd.DataFrame:
        """`walk` as a frame with ECOSYSTEM_COLUMNS, for notebooks and jobs."""
        return pd.DataFrame(self.walk(customer_id, hops, label, first, hub_degree, degrees), columns=ECOSYSTEM_COLUMNS)

    def walk(
        self,
        customer_id: str,
        hops: int = 2,
        label: str = "Individual",
        first: int | None = None,
        hub_degree: int | None = HUB_DEGREE,
        degrees: bool = True,
    ) -> list[EcosystemRow]:
        """Customers, enterprises and households within `hops` of a customer, breadth first: each
        with its shortest distance, the relationship types that reach it at that distance and its
        degree, sorted by (hops, label, id). A node with more than `hub_degree` relationships is
        listed but not walked through (None walks through everything). With `first`, exactly
        the first `first` of those rows. With `degrees` false the degree of a row is None and is
        not counted where nothing else needs it (the last step's nodes): a request that does not
        show it does not pay for it.

        Why `first` is exact although each node is asked for a bounded number of neighbours: a
        node among the `r` still wanted at some distance is preceded, in its source's (label, id)
        order, only by nodes already seen or by new ones that also rank ahead of it, so it is
        within the source's first `r + len(seen)`. A source cut short had at least `r` new
        entities, so the walk ends at that distance and its unsent accounts are never needed."""
        if not 1 <= hops <= 4:
            raise ValueError("hops must be between 1 and 4")
        if first is not None and first < 1:
            raise ValueError("first must be at least 1")
        if label not in LABELS:
            raise ValueError(f"unknown label: {label!r}")
        return self._walk(customer_id, hops, label, first, hub_degree, degrees)

    def _walk(
        self, customer_id: str, hops: int, label: str, first: int | None, hub_degree: int | None, degrees: bool
    ) -> list[EcosystemRow]:
        """The walk one step at a time over `_step`; a store that can walk in one read overrides it."""
        # plain sets and dicts: a request-time walk over a few hundred edges, where pandas'
        # per-call overhead would cost more than the walk itself
        seen = {(label, customer_id)}
        frontier: dict[str, list[str]] = {label: [customer_id]}
        rows: list[EcosystemRow] = []
        for depth in range(1, hops + 1):
            last = depth == hops
            limit = None if first is None else first - len(rows) + len(seen)
            found: dict[tuple[str, str], tuple[str | None, int | None]] = {}
            rels: dict[tuple[str, str], set[str]] = {}
            # the last step's accounts are neither shown nor walked from, and its degrees only shown
            for _, rel, l, i, name, degree in self._step(frontier, limit, not last or degrees, last):
                if (l, i) in seen:
                    continue
                found.setdefault((l, i), (name, degree))
                rels.setdefault((l, i), set()).add(rel)
            if depth == 1 and not found and not self._exists(label, customer_id):
                raise NotFound(label.lower(), customer_id)
            if not found:
                break
            seen.update(found)
            frontier = {}
            for (l, i), (name, degree) in sorted(found.items()):
                if not last and (hub_degree is None or degree <= hub_degree):
                    frontier.setdefault(l, []).append(i)
                if l in ENTITY_LABELS:
                    rows.append((l, i, name, depth, ",".join(sorted(rels[(l, i)])), degree))
            if first is not None and len(rows) >= first:
                del rows[first:]
                break
            if not frontier:
                break
        # sorted by (hops, label, id): depth is appended in order and each step is sorted
        return rows

    def _step(
        self, frontier: Mapping[str, Sequence[str]], limit: int | None, degrees: bool, entities_only: bool
    ) -> Iterable[tuple[str, str, str, str, str | None, int | None]]:
        """One step of `_walk` as plain tuples (NEIGHBOUR_COLUMNS); `neighbourhood` by default.
        `degrees` false may leave the degree None; `entities_only` may leave accounts out."""
        df = self.neighbourhood(frontier, limit)
        return zip(df["src_id"], df["rel"], df["label"], df["id"], df["name"], df["degree"], strict=True)

    @abstractmethod
    def _exists(self, label: str, node_id: str) -> bool: ...
