"""Learned response rates (响应率学习): a Beta–binomial rate per action.

The prior's mean is what the catalogue expects (the action's base rate, or for a cross-sell offer
the association rule's confidence for that customer) and its weight is `prior_strength`
customers (the `actions.learning` block); the evidence is the recorded outcomes: customers
reached (contacted, accepted, declined, converted) and those who responded (accepted or
converted). The posterior mean (s·m + responded) / (s + reached) is the propensity the next
run's arbitration uses: with no evidence it is the prior, with much it is the observed rate."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["REACHED", "RESPONDED", "OUTCOMES", "evidence", "posterior_rate"]

OUTCOMES = ("contacted", "not_reachable", "accepted", "declined", "converted")
REACHED = ("contacted", "accepted", "declined", "converted")
RESPONDED = ("accepted", "converted")


def evidence(outcomes: pd.DataFrame) -> pd.DataFrame:
    """action_key, reached, responded from recorded outcomes (nba_id, action_key, outcome): each
    action taken counts once, by the furthest it got (several outcomes may be recorded for it)."""
    cols = ["action_key", "reached", "responded"]
    if outcomes is None or outcomes.empty:
        return pd.DataFrame(columns=cols)
    o = outcomes.assign(reached=outcomes["outcome"].isin(REACHED), responded=outcomes["outcome"].isin(RESPONDED))
    per = o.groupby(["nba_id", "action_key"], sort=False)[["reached", "responded"]].max().reset_index()
    out = per.groupby("action_key")[["reached", "responded"]].sum().reset_index()
    return out.astype({"reached": np.int64, "responded": np.int64})[cols]


def posterior_rate(prior_mean, strength: float, reached, responded) -> np.ndarray:
    """Posterior mean of a Beta(s·m, s·(1−m)) prior after `responded` of `reached` (vectorised)."""
    m = np.clip(np.asarray(prior_mean, dtype=float), 1e-6, 1 - 1e-6)
    n = np.nan_to_num(np.asarray(reached, dtype=float))
    k = np.nan_to_num(np.asarray(responded, dtype=float))
    return (strength * m + k) / (strength + n)
