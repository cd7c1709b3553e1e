"""One customer's strategy: the package (with its entitlements, care and why), the marketing
plays, the risk measures and the prices — computed with the same pure functions a run uses,
from the customer's tags as readers see them (overrides in force count), under the live
standard's playbook. `bank_packages` does the same for every customer of the live run."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record.models import ClassificationRun
from clientstrata.graph.record.queries import latest_run_id, tags_by_customer
from clientstrata.jobs.governance.standards import live_standard

from .packages import assign_packages, matching
from .playbook import Package, Play, Playbook, RiskMeasure, playbook_of
from .pricing import prices
from .store import run_packages
from .tag_grid import pivot_tags

__all__ = ["CustomerStrategy", "customer_strategy", "strategy_from_tags", "live_playbook", "bank_packages"]


@dataclass(frozen=True)
class CustomerStrategy:
    customer_id: str
    package: Package
    selector: str  # the selector's path in the file (`packages[1].selectors[0]`)
    explanation_zh: str
    explanation_en: str
    marketing_plays: tuple[Play, ...]
    risk_measures: tuple[RiskMeasure, ...]
    decile: str | None  # value_contribution, for the contribution bonus
    playbook: Playbook

    def price(self, fee_item: str) -> dict:
        """base_price, discount_pct, price, why_zh, why_en for one fee item (InvalidInput when
        the schedule has no such item)."""
        if self.playbook.fee(fee_item) is None:
            items = ", ".join(f.value for f in self.playbook.fee_schedule) or "none"
            raise InvalidInput(f"no fee item {fee_item!r} in the fee schedule (items: {items})")
        row = prices(self._frame(), self.playbook, [fee_item]).iloc[0]
        return {k: row[k] for k in ("fee_item", "base_price", "discount_pct", "price", "why_zh", "why_en")}

    def prices(self) -> pd.DataFrame:
        return prices(self._frame(), self.playbook)

    def _frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"customer_id": [self.customer_id], "package": [self.package.value], "value_contribution": [self.decile]}
        )

    def __repr__(self) -> str:
        return f"CustomerStrategy({self.customer_id!r}, package={self.package.value!r}, by={self.selector!r})"


_PARSED: dict[str | None, Playbook] = {}  # standard sha256 → its playbook: parsed once per standard


def live_playbook(conn: Connection) -> Playbook:
    """The playbook of the live standard (the latest published run's; the default before any)."""
    runs = ClassificationRun.__table__
    run = latest_run_id(conn)
    sha = (
        conn.execute(sa.select(runs.c.standard_sha256).where(runs.c.run_id == run)).scalar()
        if run is not None
        else None
    )
    if sha not in _PARSED:
        if len(_PARSED) > 16:
            _PARSED.clear()
        _PARSED[sha] = playbook_of(live_standard(conn))
    return _PARSED[sha]


def strategy_from_tags(customer_id: str, tags: pd.DataFrame, playbook: Playbook) -> CustomerStrategy:
    """A customer's strategy from their tags (long form): the pure core of `customer_strategy`."""
    if tags.empty:
        tags = pd.DataFrame({"customer_id": [customer_id], "dimension": ["_none"], "value": [None]})
    grid = pivot_tags(tags)  # one pivot for the package, the plays and the measures
    chosen = assign_packages(grid, playbook).iloc[0]
    dims = playbook.dimensions
    plays = set(matching(grid, playbook.marketing_plays, dims)["value"])
    measures = set(matching(grid, playbook.risk_measures, dims)["value"])
    decile = tags.loc[tags["dimension"] == "value_contribution", "value"]
    return CustomerStrategy(
        customer_id=customer_id,
        package=playbook.package(chosen["package"]),
        selector=chosen["selector"],
        explanation_zh=chosen["explanation_zh"],
        explanation_en=chosen["explanation_en"],
        marketing_plays=tuple(p for p in playbook.marketing_plays if p.value in plays),
        risk_measures=tuple(m for m in playbook.risk_measures if m.value in measures),
        decile=decile.iloc[0] if len(decile) else None,
        playbook=playbook,
    )


def customer_strategy(
    conn: Connection, customer_id: str, tags: list[dict] | None = None, playbook: Playbook | None = None
) -> CustomerStrategy | None:
    """The customer's strategy, None before any run has tagged them. `tags`: their effective
    tag rows when the caller has them (the API's loader); read otherwise."""
    rows = tags if tags is not None else tags_by_customer(conn, [customer_id]).get(customer_id, [])
    if not rows:
        return None
    frame = pd.DataFrame(rows)[["customer_id", "dimension", "value", "label_zh"]]
    return strategy_from_tags(customer_id, frame, playbook or live_playbook(conn))


def bank_packages(conn: Connection, run_id: int | None = None) -> pd.DataFrame:
    """Every customer's package as the run stored it (default: the live run): PACKAGE_COLUMNS."""
    return run_packages(conn, run_id if run_id is not None else latest_run_id(conn))
