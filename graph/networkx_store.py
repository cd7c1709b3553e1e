"""The embedded graph: networkx in memory, saved as gzipped node-link JSON beside the
SQLite file, so the zero-server default survives between commands."""
from __future__ import annotations

import gzip
import json
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import pandas as pd

from .errors import NotFound, StoreUnavailable
from .store import ECOSYSTEM_FEATURES, ECOSYSTEM_RELS, RELATIONSHIPS, GraphStore, HouseholdView

__all__ = ["NetworkxGraph"]


class NetworkxGraph(GraphStore):
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else None
        self._mtime: float | None = None
        self.g = nx.MultiDiGraph()
        self._load()

    def __repr__(self) -> str:
        return f"NetworkxGraph(path={str(self.path)!r}, nodes={self.g.number_of_nodes()}, " \
               f"relationships={self.g.number_of_edges()})"

    # -- persistence ------------------------------------------------------------------
    def _load(self) -> None:
        if self.path and self.path.exists():
            with gzip.open(self.path, "rt", encoding="utf-8") as f:
                data = json.load(f)
            g = nx.MultiDiGraph()
            for label, node_id, props in data["nodes"]:
                g.add_node((label, node_id), **props)
            for u, v, key, props in data["edges"]:
                g.add_edge(tuple(u), tuple(v), key=key, **props)
            self.g = g
            self._mtime = self.path.stat().st_mtime

    def _fresh(self) -> None:
        """Another process (a sync) may have rewritten the file: re-read it."""
        if self.path and self.path.exists() and self.path.stat().st_mtime != self._mtime:
            self._load()

    def ping(self) -> None:
        try:
            self._fresh()
        except (OSError, ValueError) as exc:
            raise StoreUnavailable(f"cannot read the embedded graph at {self.path}: {exc}") from None

    def flush(self) -> None:
        if not self.path:
            return
        data = {"nodes": [[l, i, p] for (l, i), p in self.g.nodes(data=True)],
                "edges": [[u, v, k, p] for u, v, k, p in self.g.edges(keys=True, data=True)]}
        tmp = self.path.with_name(self.path.name + ".tmp")
        with gzip.open(tmp, "wt", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, default=str)
        os.replace(tmp, self.path)  # readers never see half a file
        self._mtime = self.path.stat().st_mtime

    # -- writes -----------------------------------------------------------------------
    def ensure_schema(self) -> None:
        pass  # (label, id) node keys are unique by construction

    def merge_nodes(self, label: str, rows: Sequence[dict]) -> None:
        for row in rows:
            props = {k: v for k, v in row.items() if k != "id" and v is not None}
            node = (label, row["id"])
            if node in self.g:
                self.g.nodes[node].update(props)
            else:
                self.g.add_node(node, **props)

    def merge_relationships(self, rel_type: str, start_label: str, rows: Sequence[dict]) -> None:
        _, end_label, key_prop = RELATIONSHIPS[rel_type]
        for row in rows:
            u, v = (start_label, row["start"]), (end_label, row["end"])
            if u not in self.g or v not in self.g:
                continue  # as MATCH … MERGE does in Cypher
            key = rel_type if key_prop is None else f"{rel_type}:{row[key_prop]}"
            props = {k: x for k, x in row.items() if k not in ("start", "end") and x is not None}
            self.g.add_edge(u, v, key=key, type=rel_type, **props)

    def clear(self) -> None:
        self.g.clear()

    # -- reads ------------------------------------------------------------------------
    def _exists(self, label: str, node_id: str) -> bool:
        self._fresh()
        return (label, node_id) in self.g

    def _rels(self, node, types, direction="both"):
        if direction in ("out", "both"):
            for _, v, d in self.g.out_edges(node, data=True):
                if d["type"] in types:
                    yield d, v
        if direction in ("in", "both"):
            for u, _, d in self.g.in_edges(node, data=True):
                if d["type"] in types:
                    yield d, u

    def neighbours(self, label: str, ids: Sequence[str]) -> pd.DataFrame:
        self._fresh()
        rows = []
        for i in ids:
            node = (label, i)
            if node not in self.g:
                continue
            for d, other in self._rels(node, ECOSYSTEM_RELS):
                rows.append((i, d["type"], other[0], other[1], self.g.nodes[other].get("name")))
        return pd.DataFrame(rows, columns=["src_id", "rel", "label", "id", "name"])

    def household(self, household_id: str) -> HouseholdView:
        self._fresh()
        node = ("Household", household_id)
        if node not in self.g:
            raise NotFound("household", household_id)
        members = [(m[1], self.g.nodes[m].get("name"), d.get("role"), float(self.g.nodes[m].get("aum", 0.0)))
                   for d, m in self._rels(node, {"MEMBER_OF"}, "in")]
        df = pd.DataFrame(sorted(members), columns=["customer_id", "name", "role", "aum"])
        props = self.g.nodes[node]
        return HouseholdView(household_id, props.get("name"), props.get("status", "confirmed"),
                             round(float(df["aum"].sum()), 2), df)

    def ecosystem_features(self) -> pd.DataFrame:
        self._fresh()
        counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ECOSYSTEM_FEATURES, 0))
        for node in self.g.nodes:
            if node[0] != "Individual":
                continue
            c = counts[node[1]]
            controlled = set()
            for d, other in self._rels(node, {"EMPLOYED_BY", "CONTROLS", "MEMBER_OF", "OWNS", "CO_HOLDS"}, "out"):
                if d["type"] == "EMPLOYED_BY" and d.get("payroll"):
                    c["payroll_employer"] = 1
                elif d["type"] == "CONTROLS":
                    controlled.add(other)
                elif d["type"] == "MEMBER_OF":
                    c["household_members"] += sum(1 for _, m in self._rels(other, {"MEMBER_OF"}, "in")
                                                  if m != node)
                elif d["type"] in ("OWNS", "CO_HOLDS"):  # not EMPLOYED_BY without payroll: that
                    # would scan every in-edge of the employer per employee (quadratic in its size)
                    c.setdefault("_co", set()).update(
                        h for _, h in self._rels(other, {"OWNS", "CO_HOLDS"}, "in")
                        if h != node and h[0] == "Individual")
            c["controls"] = len(controlled)
            c["supply_chain"] = len({x for e in controlled for _, x in self._rels(e, {"SUPPLIES"})})
            c["co_holders"] = len(c.pop("_co", ()))
        df = pd.DataFrame.from_dict(counts, orient="index", columns=list(ECOSYSTEM_FEATURES))
        df = df[df.sum(axis=1) > 0].rename_axis("customer_id").reset_index()
        return df.sort_values("customer_id").reset_index(drop=True).astype({c: "int64" for c in ECOSYSTEM_FEATURES})

    def counts(self) -> dict[str, int]:
        self._fresh()
        out: dict[str, int] = defaultdict(int)
        for label, _ in self.g.nodes:
            out[label] += 1
        for _, _, d in self.g.edges(data=True):
            out[d["type"]] += 1
        return dict(sorted(out.items()))
