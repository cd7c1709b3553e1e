"""What-if: classify current data with a draft standard and diff it against the live run,
without publishing — no run, no tags, no feed or outbox rows; readers see nothing change.
It calls the same `build_tags` as `classify`, so the two can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from clientstrata.graph.record.db import get_engine
from clientstrata.graph.record.models import Tag
from clientstrata.graph.record.queries import latest_run_id
from clientstrata.graph.stores import GraphStore, open_graph
from clientstrata.jobs.classification.standard import Standard, load_standard
from clientstrata.jobs.governance.standards import live_standard

from .history import NONE
from .pipeline import require_synced
from .tagging import build_tags

__all__ = ["whatif", "WhatIf"]

_tags = Tag.__table__


@dataclass
class WhatIf:
    standard_version: str
    standard_sha256: str
    base_run_id: int | None  # the live run compared against (None: nothing published yet)
    pairs: pd.DataFrame  # dimension, customer_id, from_value (live), to_value (draft); NONE when absent
    tags: pd.DataFrame  # the draft's tags, as `classify` would publish them

    @property
    def moves(self) -> pd.DataFrame:
        """Everyone whose value the draft changes, per dimension."""
        return self.pairs[self.pairs["from_value"] != self.pairs["to_value"]].reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        g = self.pairs.assign(moved=self.pairs["from_value"] != self.pairs["to_value"]).groupby("dimension")
        return pd.DataFrame({"customers": g.size(), "moved": g["moved"].sum()}).reset_index()

    def matrix(self, dimension: str) -> pd.DataFrame:
        p = self.pairs[self.pairs["dimension"] == dimension]
        m = pd.crosstab(p["from_value"], p["to_value"])
        m.index.name, m.columns.name = "live", "draft"
        return m

    def movements(self, sample: int = 20) -> list[dict]:
        """Per dimension: customers, moved, from → to counts and the first `sample` movers
        (by customer id) — what a reviewer reads before a standard goes live."""
        out = []
        moves = self.moves
        for r in self.summary().itertuples(index=False):
            mv = moves[moves["dimension"] == r.dimension]
            counts = mv.groupby(["from_value", "to_value"]).size()
            out.append(
                {
                    "dimension": r.dimension,
                    "customers": int(r.customers),
                    "moved": int(r.moved),
                    "from_to": [{"from_value": f, "to_value": t, "customers": int(n)} for (f, t), n in counts.items()],
                    "sample": mv[["customer_id", "from_value", "to_value"]].head(sample).to_dict("records"),
                }
            )
        return out

    def to_dict(self) -> dict:
        dims = {}
        for r in self.summary().itertuples(index=False):
            mv = self.moves[self.moves["dimension"] == r.dimension]
            counts = mv.groupby(["from_value", "to_value"]).size()
            dims[r.dimension] = {
                "customers": int(r.customers),
                "moved": int(r.moved),
                "from_to": [{"from": f, "to": t, "customers": int(n)} for (f, t), n in counts.items()],
                "moves": mv[["customer_id", "from_value", "to_value"]].to_dict("records"),
            }
        return {
            "standard_version": self.standard_version,
            "standard_sha256": self.standard_sha256,
            "base_run_id": self.base_run_id,
            "published": False,
            "dimensions": dims,
        }

    def __repr__(self) -> str:
        moved = ", ".join(f"{r.dimension} {r.moved}/{r.customers}" for r in self.summary().itertuples(index=False))
        return f"WhatIf(standard={self.standard_version!r} vs run {self.base_run_id}: moved {moved})"


def whatif(
    engine: Engine | None = None, graph: GraphStore | None = None, standard_path: str | Path | Standard | None = None
) -> WhatIf:
    """Per dimension, how many customers and which would move if `standard_path` (a file, or a
    `Standard` parsed from a draft's text with `parse_standard`) were live. Compares computed
    values (manual overrides stay in force whatever the standard)."""
    std = (
        standard_path if isinstance(standard_path, Standard) or standard_path is None else load_standard(standard_path)
    )
    engine = engine or get_engine()
    if std is None:  # the live standard against its own run: moves nobody unless the data did
        with engine.connect() as conn:
            std = live_standard(conn)
    own_graph = graph is None
    graph = graph or open_graph()
    try:
        with engine.connect() as conn:
            require_synced(conn, graph)
            draft = build_tags(conn, std)
            base = latest_run_id(conn)
            live = pd.DataFrame(
                [
                    tuple(r)
                    for r in conn.execute(
                        sa.select(_tags.c.dimension, _tags.c.customer_id, _tags.c.value).where(_tags.c.run_id == base)
                    ).all()
                ],
                columns=["dimension", "customer_id", "from_value"],
            )
    finally:
        if own_graph:
            graph.close()
    proposed = draft[["dimension", "customer_id", "value"]].rename(columns={"value": "to_value"})
    pairs = live.merge(proposed, how="outer", on=["dimension", "customer_id"]).fillna(NONE)
    pairs = pairs.sort_values(["dimension", "customer_id"]).reset_index(drop=True)
    return WhatIf(std.version, std.sha256, base, pairs, draft)
