"""What-if of a draft playbook: the live run's tags under the live and the draft playbook, side
by side — who changes package, and what the waivers would cost a year more or less. Nothing is
written. ("this draft gives 1,240 more customers the wealth package; waivers cost CNY 310,000 a
year more".)"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.models import Tag
from clientstrata.graph.record.queries import latest_run_id
from clientstrata.jobs.classification.standard import Standard

from .packages import assign_packages
from .playbook import Playbook, playbook_of
from .pricing import ESTIMATED, fee_volumes, prices, waiver_costs
from .strategy import live_playbook
from .tag_grid import pivot_tags

__all__ = ["PlaybookWhatIf", "compare_playbooks", "playbook_whatif"]

_tags = Tag.__table__


@dataclass
class PlaybookWhatIf:
    base_run_id: int | None
    draft_version: str
    moves: pd.DataFrame  # customer_id, from_package, to_package: everyone the draft moves
    summary: pd.DataFrame  # package, live, draft, delta (customers)
    waivers: pd.DataFrame  # package, live, draft, delta (CNY a year)

    @property
    def waiver_delta(self) -> float:
        return round(float(self.waivers["delta"].sum()), 2) if len(self.waivers) else 0.0

    def headline(self) -> str:
        """One sentence a committee reads first."""
        gained = self.summary[self.summary["delta"] != 0].sort_values("delta", ascending=False)
        parts = [
            f"{abs(int(r.delta)):,} {'more' if r.delta > 0 else 'fewer'} customers the {r.package} package"
            for r in gained.itertuples(index=False)
        ]
        moved = "this draft gives " + "; ".join(parts) if parts else "this draft moves no customer"
        d = self.waiver_delta
        cost = f"waivers cost CNY {abs(d):,.0f} a year {'more' if d > 0 else 'less'}" if d else "waivers cost the same"
        return f"{moved}; {cost} ({ESTIMATED})"

    def to_dict(self) -> dict:
        return {
            "base_run_id": self.base_run_id,
            "draft_version": self.draft_version,
            "moved": len(self.moves),
            "headline": self.headline(),
            "packages": self.summary.to_dict("records"),
            "waivers": self.waivers.to_dict("records"),
            "waiver_delta": self.waiver_delta,
        }

    def __repr__(self) -> str:
        return f"PlaybookWhatIf(run {self.base_run_id} vs draft {self.draft_version!r}: moved {len(self.moves)})"


def _cost(tags: pd.DataFrame, packages: pd.DataFrame, volumes: pd.DataFrame, pb: Playbook) -> pd.Series:
    decile = tags.loc[tags["dimension"] == "value_contribution", ["customer_id", "value"]]
    who = packages[["customer_id", "package"]].merge(
        decile.rename(columns={"value": "value_contribution"}), how="left", on="customer_id"
    )
    costs = waiver_costs(prices(who, pb), volumes, pb, who[["customer_id", "package"]])
    return costs.groupby("segment")["waived"].sum()


def compare_playbooks(
    tags: pd.DataFrame, volumes: pd.DataFrame, live: Playbook, draft: Playbook, base_run_id: int | None = None
) -> PlaybookWhatIf:
    """The pure core: `tags` in long form, `volumes` as `pricing.fee_volumes` gives them."""
    grid = pivot_tags(tags)  # one pivot for both playbooks
    a, b = assign_packages(grid, live), assign_packages(grid, draft)
    pairs = a[["customer_id", "package"]].merge(
        b[["customer_id", "package"]], on="customer_id", suffixes=("_live", "_draft")
    )
    moves = pairs[pairs["package_live"] != pairs["package_draft"]].rename(
        columns={"package_live": "from_package", "package_draft": "to_package"}
    )
    counts = (
        pd.DataFrame({"live": a["package"].value_counts(), "draft": b["package"].value_counts()}).fillna(0).astype(int)
    )
    counts["delta"] = counts["draft"] - counts["live"]
    summary = counts.rename_axis("package").reset_index()
    cost = pd.DataFrame({"live": _cost(tags, a, volumes, live), "draft": _cost(tags, b, volumes, draft)}).fillna(0.0)
    cost["delta"] = (cost["draft"] - cost["live"]).round(2)
    waivers = cost.rename_axis("package").reset_index()
    return PlaybookWhatIf(base_run_id, draft.version, moves.reset_index(drop=True), summary, waivers)


def playbook_whatif(conn: Connection, draft: Standard) -> PlaybookWhatIf:
    """The live run's tags under the live playbook and `draft`'s (its other blocks are not
    re-run: `jobs.runs.whatif` does that)."""
    live_pb, draft_pb = live_playbook(conn), playbook_of(draft)
    base = latest_run_id(conn)
    dims = sorted(set(live_pb.dimensions) | set(draft_pb.dimensions))
    rows = conn.execute(
        sa.select(_tags.c.customer_id, _tags.c.dimension, _tags.c.value, _tags.c.label_zh).where(
            _tags.c.run_id == base, _tags.c.dimension.in_(dims)
        )
    ).all()
    tags = pd.DataFrame([tuple(r) for r in rows], columns=["customer_id", "dimension", "value", "label_zh"])
    return compare_playbooks(tags, fee_volumes(conn), live_pb, draft_pb, base)
