"""Next-best actions in the record: the run's strategy stage and one customer on request.

`action_stage` reads once per run what every partition shares (products, holdings and the
cross-sell rules mined from them, identity documents on record, RMs, the recorded outcomes and
the response rates learned from them) and returns the per-partition step the publish calls
with that partition's tags and alerts: `arbitration.decide` on them, its rows written in the
run's own transaction, so a run that dies leaves no actions behind and readers see a run's
actions exactly when they see its tags. `next_best_actions` answers for one customer with the
same function over that customer's latest tags, open alerts and holdings.
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record.bulk import bulk_insert
from clientstrata.graph.record.models import ActionOutcome, Alert, Individual, IngestRun, NextBestAction, Product, Tag
from clientstrata.graph.record.queries import latest_run_id
from clientstrata.jobs.classification.standard import Standard

from .actions import ActionSettings, action_settings, catalogue
from .arbitration import DECISION_COLUMNS, HISTORY_COLUMNS, decide
from .association import holdings
from .engagement import customer_frame
from .learning import evidence
from .rule_cache import mined_rules
from .suitable_now import suitable_now
from .tag_grid import TagCodes, objects

__all__ = [
    "ActionInputs",
    "ActionStage",
    "action_inputs",
    "action_stage",
    "write_actions",
    "next_best_actions",
    "actions_table",
    "outcomes_table",
    "MAX_FIRST",
    "live_next_best_actions",
    "stored_actions",
]

actions_table, outcomes_table = NextBestAction.__table__, ActionOutcome.__table__
MAX_FIRST = 20
_ALERT_COLUMNS = ["customer_id", "alert_type", "reason"]


@dataclass
class ActionInputs:
    """What every partition's decision shares, read once."""

    settings: ActionSettings
    catalogue: pd.DataFrame
    holdings: pd.DataFrame  # customer_id, item (product ids)
    rules: pd.DataFrame
    id_on_record: pd.Series  # customer_id → an identity document is on record
    rm_of: pd.Series  # customer_id → rm_id
    history: pd.DataFrame  # HISTORY_COLUMNS: recorded outcomes
    learned: pd.DataFrame  # action_key, reached, responded
    rules_used: dict = field(default_factory=dict)  # the cross-sell rules': key, mined (or reused), rules


def _history(conn: Connection, customer_ids: list[str] | None = None) -> pd.DataFrame:
    o = outcomes_table
    q = sa.select(o.c.nba_id, o.c.customer_id, o.c.action_key, o.c.channel, o.c.outcome, o.c.recorded_at.label("at"))
    if customer_ids is not None:
        q = q.where(o.c.customer_id.in_(customer_ids))
    return pd.DataFrame([tuple(r) for r in conn.execute(q)], columns=HISTORY_COLUMNS)


# An answer for one customer must not mine the whole bank's rules again: what every customer
# shares is kept per engine until a run, an ingest or a recorded outcome changes it.
_SHARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _shared(conn: Connection, std: Standard, settings: ActionSettings, cached: bool) -> tuple:
    """(products, held, rules, learned, everyone's history): the bank's, not one customer's."""
    key = (
        latest_run_id(conn),
        conn.execute(sa.select(sa.func.max(IngestRun.__table__.c.ingest_id))).scalar(),
        conn.execute(sa.select(sa.func.max(outcomes_table.c.outcome_id))).scalar(),
        std.sha256,
    )
    if cached:
        hit = _SHARED.get(conn.engine, {}).get(key)
        if hit is not None:
            return hit
    products = pd.read_sql(sa.select(Product.__table__.c["product_id", "name", "family", "risk_level"]), conn)
    held = holdings(conn, "product")
    n = conn.execute(sa.select(sa.func.count()).select_from(Individual.__table__)).scalar() or 0
    cs = settings.cross_sell
    params = {k: float(cs[k]) for k in ("min_support", "min_confidence", "min_lift")}
    # mined again only when the holdings, the bank's size or the thresholds changed; a run
    # stores what it mined (in its transaction), a reader for one customer only reads
    rules, used = mined_rules(conn, held, max(int(n), held["customer_id"].nunique()), params, store=not cached)
    everyone = _history(conn)
    found = (products, held, rules, evidence(everyone), everyone, used)
    if cached:
        _SHARED[conn.engine] = {key: found}  # one entry: the latest state is the one asked about
    return found


def action_inputs(conn: Connection, std: Standard, customer_ids: list[str] | None = None) -> ActionInputs:
    """Read what `decide` needs besides tags and alerts. The rules are always mined over every
    customer's holdings (they are the bank's, not one customer's); `customer_ids` narrows the
    rest to those customers, and reuses the bank-wide part while nothing it reads has changed."""
    settings = action_settings(std)
    products, held, rules, learned, everyone, used = _shared(conn, std, settings, cached=customer_ids is not None)
    ind = Individual.__table__
    q = sa.select(ind.c.customer_id, ind.c.id_number, ind.c.rm_id)
    if customer_ids is not None:
        q = q.where(ind.c.customer_id.in_(customer_ids))
        held = held[held["customer_id"].isin(customer_ids)]
    result = conn.execute(q)  # the driver's tuples: a Row per individual was most of this read
    try:
        # as the driver's objects: inferring Arrow text for every individual cost more than the read
        who = pd.DataFrame(result.cursor.fetchall(), columns=["customer_id", "id_number", "rm_id"], dtype=object)
    finally:
        result.close()
    who = who.set_index("customer_id")
    return ActionInputs(
        settings=settings,
        catalogue=catalogue(settings, products),
        holdings=_by_customer(held),
        rules=rules,
        id_on_record=who["id_number"].notna() & (who["id_number"].astype(str).str.strip() != ""),
        rm_of=who["rm_id"],
        history=_by_customer(
            everyone if customer_ids is None else everyone[everyone["customer_id"].isin(customer_ids)]
        ),
        learned=learned,  # learning is the bank's: every outcome recorded
        rules_used=used,
    )


def _by_customer(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` sorted by customer id (stable: each customer's rows keep their order), for `_of`;
    the ids as Python objects, so `_of` reads them without a copy."""
    out = frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
    return out.astype({"customer_id": object})


def _of(frame: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    """The rows of `ids` in a frame sorted by customer id: the span between the smallest and the
    largest id found by binary search, then filtered. A partition's customers are a range of ids,
    so this reads a partition's rows, not the bank's, once per partition (at a million customers
    an `isin` over the whole bank per partition grows with the square of the bank)."""
    if not len(ids) or frame.empty:
        return frame.iloc[:0]
    keys = frame["customer_id"].to_numpy(dtype=object)
    lo, hi = np.searchsorted(keys, min(ids), "left"), np.searchsorted(keys, max(ids), "right")
    span = frame.iloc[lo:hi]
    return span[span["customer_id"].isin(ids)]


def _decide(inputs: ActionInputs, tags: pd.DataFrame | TagCodes, alerts: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    selectors = {d for spec in inputs.settings.services.values() for d in spec.get("segments") or {}}
    customers = customer_frame(tags, inputs.id_on_record, selectors)
    ids = customers["customer_id"].to_numpy(dtype=object)
    if len(alerts):  # matched as Python objects: `isin` on Arrow text converts its argument value by value
        a = alerts[_ALERT_COLUMNS]
        a = a[pd.Index(ids, dtype=object).get_indexer(objects(a["customer_id"])) >= 0]
    else:
        a = pd.DataFrame(columns=_ALERT_COLUMNS)
    h, hist = _of(inputs.holdings, ids), _of(inputs.history, ids)
    out = decide(customers, a, h, inputs.catalogue, inputs.rules, inputs.settings, today, hist, inputs.learned)
    # found by position: the bank's index keeps its hash table for every partition
    at = inputs.rm_of.index.get_indexer(out["customer_id"].to_numpy(dtype=object))
    out["rm_id"] = objects(np.append(inputs.rm_of.to_numpy(dtype=object), None)[at])
    return out


def write_actions(conn: Connection, decisions: pd.DataFrame, run_id: int, at: dt.datetime) -> int:
    """Insert a run's decisions (DECISION_COLUMNS + rm_id) in the open transaction."""
    if decisions.empty:
        return 0
    cols = [c for c in DECISION_COLUMNS if c not in ("lever",)] + ["rm_id"]
    frame = decisions[cols].assign(run_id=run_id, created_at=at)
    # a missing value reaches the database as NULL (bulk_insert), never as the text 'NaN'
    frame = frame.astype({"control": bool, "rank": "int64", "propensity": float, "value": float, "priority": float})
    return bulk_insert(conn, actions_table, frame)


@dataclass
class ActionStage:
    """The run's next-best-action step: `stage(tags, alerts) -> rows written`, per partition (the
    tags in long form or their grid, `tag_grid.pivot_tags`, the one the packages read);
    `rules_used` says which cross-sell rules it decided with (for the run's record)."""

    conn: Connection
    inputs: ActionInputs
    run_id: int
    at: dt.datetime

    @property
    def rules_used(self) -> dict:
        return self.inputs.rules_used

    def __call__(self, tags: pd.DataFrame | TagCodes, alerts: pd.DataFrame | None) -> int:
        found = alerts if alerts is not None else pd.DataFrame(columns=_ALERT_COLUMNS)
        return write_actions(self.conn, _decide(self.inputs, tags, found, self.at.date()), self.run_id, self.at)


def action_stage(conn: Connection, std: Standard, run_id: int, at: dt.datetime) -> ActionStage:
    """The run's strategy stage: returns the step called per partition inside the publish
    transaction."""
    return ActionStage(conn, action_inputs(conn, std), run_id, at)


def next_best_actions(
    conn: Connection, std: Standard, customer_id: str, first: int = 3, today: dt.date | None = None
) -> pd.DataFrame:
    """One customer's actions now, best first (DECISION_COLUMNS + rm_id), with `decide` over
    their tags in the latest published run, their open alerts and their holdings. Held-out
    (control) actions are not returned: they are not to be taken."""
    if not 1 <= first <= MAX_FIRST:
        raise InvalidInput(f"`first` must be between 1 and {MAX_FIRST}")
    run = latest_run_id(conn)
    t = Tag.__table__
    tags = pd.DataFrame(
        conn.execute(
            sa.select(t.c.customer_id, t.c.dimension, t.c.value, t.c.inputs).where(
                t.c.run_id == run, t.c.customer_id == customer_id
            )
        ).all(),
        columns=["customer_id", "dimension", "value", "inputs"],
    )
    if tags.empty:
        raise NotFound("customer", customer_id)
    al = Alert.__table__
    alerts = pd.DataFrame(
        conn.execute(
            sa.select(al.c.customer_id, al.c.alert_type, al.c.reason)
            .where(al.c.customer_id == customer_id, al.c.status == "open")
            .order_by(al.c.alert_id.desc())
        ).all(),
        columns=_ALERT_COLUMNS,
    )
    out = _decide(action_inputs(conn, std, [customer_id]), tags, alerts, today or dt.date.today())
    out = out[~out["control"].astype(bool)].head(first).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1, dtype=np.int64)
    return out


def live_next_best_actions(conn: Connection, customer_id: str, first: int = 3, book: str | None = None) -> pd.DataFrame:
    """`next_best_actions` under the live standard (that of the latest published run); `book`
    refuses a customer outside a relationship manager's book."""
    from clientstrata.graph.record.access import require_in_book
    from clientstrata.jobs.governance.standards import live_standard

    require_in_book(conn, customer_id, book)
    return next_best_actions(conn, live_standard(conn), customer_id, first)


def stored_actions(conn: Connection, customer_ids: list[str]) -> dict[str, list[dict]]:
    """The actions the latest published run chose for each customer, best first, held-out
    (control) ones and those no longer suitable (`suitable_now`: an override lowered the level
    since) left out and the rest ranked 1, 2, …: what a customer page shows, read in one query
    for the page (the run computed them with `decide`, as `next_best_actions` would)."""
    run = latest_run_id(conn)
    if run is None or not customer_ids:
        return {}
    t = actions_table
    joined, suitable = suitable_now(t, run)
    rows = conn.execute(
        sa.select(t)
        .select_from(joined)
        .where(t.c.run_id == run, t.c.customer_id.in_(list(customer_ids)), sa.not_(t.c.control), suitable)
        .order_by(t.c.customer_id, t.c.rank)
    ).mappings()
    found: dict[str, list[dict]] = {}
    for r in rows:
        mine = found.setdefault(r["customer_id"], [])
        mine.append({**r, "rank": len(mine) + 1})
    return found
