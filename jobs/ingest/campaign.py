"""A past campaign, simulated (the generator's companion for strategies): outcomes of a run's
next-best actions drawn with a planted effect per action, so the effect measurement and the
learning can be checked against a known truth.

Per action, `Planted(contact, respond, convert, baseline)`: a treated customer is reached with
probability `contact`; reached, they accept with `respond` (else decline) and an accepter
converts with `convert`; an unreached or held-out customer converts on their own with `baseline`.
So the true conversion uplift is (1 − c)·p0 + c·r·q − p0 = c·(r·q − p0), and the true response
rate over the reached is r."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import NotFound
from clientstrata.graph.record import audit
from clientstrata.graph.record.models import ActionOutcome, NextBestAction
from clientstrata.jobs.errors import InvalidState

__all__ = ["Planted", "simulate_outcomes", "simulate_campaign"]


@dataclass(frozen=True)
class Planted:
    contact: float = 0.8
    respond: float = 0.3
    convert: float = 0.5
    baseline: float = 0.05

    @property
    def uplift(self) -> float:
        return self.contact * (self.respond * self.convert - self.baseline)


def simulate_outcomes(
    actions: pd.DataFrame, planted: dict[str, Planted], seed: int = 0, amount: float = 50_000.0
) -> pd.DataFrame:
    """actions (nba_id, customer_id, action_key, channel, control, product_id) → outcome rows
    (nba_id, customer_id, action_key, channel, outcome, product_id, amount). Actions without a
    planted entry get `Planted()`'s defaults."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in actions.itertuples(index=False):
        p = planted.get(r.action_key) or planted.get(r.action_key.split(":")[0]) or Planted()
        base = {"nba_id": r.nba_id, "customer_id": r.customer_id, "action_key": r.action_key, "channel": r.channel}
        pid = r.product_id if isinstance(r.product_id, str) else None
        conv = {**base, "outcome": "converted", "product_id": pid, "amount": float(amount)}
        if r.control:
            if rng.random() < p.baseline:
                rows.append(conv)
            continue
        if rng.random() >= p.contact:
            rows.append({**base, "outcome": "not_reachable", "product_id": None, "amount": None})
            if rng.random() < p.baseline:
                rows.append(conv)
            continue
        rows.append({**base, "outcome": "contacted", "product_id": None, "amount": None})
        if rng.random() < p.respond:
            rows.append({**base, "outcome": "accepted", "product_id": None, "amount": None})
            if rng.random() < p.convert:
                rows.append(conv)
        else:
            rows.append({**base, "outcome": "declined", "product_id": None, "amount": None})
    cols = ["nba_id", "customer_id", "action_key", "channel", "outcome", "product_id", "amount"]
    return pd.DataFrame(rows, columns=cols)


def simulate_campaign(
    engine: Engine,
    run_id: int,
    planted: dict[str, Planted],
    seed: int = 0,
    at: dt.datetime | None = None,
    actor: str = "campaign-simulator",
) -> int:
    """Record simulated outcomes for run `run_id`'s actions, in one transaction (a service
    action's conversion has no product). Returns the outcome rows written; one audit entry says
    they were simulated. A run whose actions already have outcomes is refused: a second campaign
    on the same actions would double them, and the effect would measure neither."""
    t, o = NextBestAction.__table__, ActionOutcome.__table__
    with engine.begin() as conn:
        if conn.execute(sa.select(t.c.nba_id).where(t.c.run_id == run_id).limit(1)).first() is None:
            raise NotFound("run with actions", str(run_id))
        recorded = conn.execute(
            sa.select(sa.func.count()).where(o.c.nba_id.in_(sa.select(t.c.nba_id).where(t.c.run_id == run_id)))
        ).scalar_one()
        if recorded:
            raise InvalidState(
                f"run {run_id}'s actions already have {recorded:,} outcomes recorded: a campaign is simulated once"
            )
        acts = pd.DataFrame(
            conn.execute(
                sa.select(t.c.nba_id, t.c.customer_id, t.c.action_key, t.c.channel, t.c.control, t.c.product_id).where(
                    t.c.run_id == run_id
                )
            ).all(),
            columns=["nba_id", "customer_id", "action_key", "channel", "control", "product_id"],
        )
        out = simulate_outcomes(acts, planted, seed)
        at = at or utcnow()
        rows = [
            {**{k: (None if v != v else v) for k, v in r.items()}, "recorded_by": actor, "recorded_at": at}
            for r in out.to_dict("records")
        ]
        for i in range(0, len(rows), 5_000):
            conn.execute(sa.insert(o), rows[i : i + 5_000])
        audit.record(
            conn, actor, "campaign.simulated", "classification_run", run_id, {"outcomes": len(rows), "seed": seed}
        )
    return len(rows)
