"""Value concentration (二八定律): how few customers hold most of the value."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput

from .base import (
    MissingDimension,
    pct,
    resolve_run,
    run_tags,
    with_attrs,
)


def contribution_concentration(conn: Connection, run_id: int | None = None, target: float = 0.8) -> pd.DataFrame:
    """Pareto view of contribution: deciles of customers (largest contributors first) with
    their share and cumulative share, and the share of customers that brings `target` of
    the total. From value_contribution's inputs.contribution when the run has it, else from
    AUM (wealth_tier inputs.aum), with a note saying so. attrs["curve"] holds 101 points
    (customer share, cumulative contribution share) for `plot_pareto`."""
    if not 0 < target <= 1:
        raise InvalidInput("target must be a share in (0, 1]")
    run_id = resolve_run(conn, run_id)
    notes = []
    why = None
    try:
        t = run_tags(conn, run_id, "value_contribution", floats=("contribution",))
        x, basis = t["contribution"], "contribution"
        if x.isna().all():
            why = f"run {run_id}'s value_contribution tags carry no inputs.contribution"
    except MissingDimension:
        why = f"run {run_id} has no value_contribution tags"
    if why:
        t = run_tags(
            conn,
            run_id,
            "wealth_tier",
            floats=("aum",),
            hint="; contribution concentration falls back to AUM and has neither",
        )
        x, basis = t["aum"].fillna(t["score"]), "aum"
        notes.append(f"{why}: concentration is measured on AUM (month-average, CNY) instead of contribution")
    v = np.sort(x.fillna(0.0).to_numpy(dtype=float))[::-1]
    n, total = len(v), float(v.sum())
    if total <= 0:
        raise InvalidInput(f"total {basis} in run {run_id} is {total:,.2f}: no concentration to report")
    neg = int((v < 0).sum())
    if neg:
        notes.append(f"{neg:,} customers have a negative {basis}; shares are of the net total")
    cum = np.cumsum(v) / total
    k = int(np.searchsorted(cum, target - 1e-12)) + 1  # customers needed to reach the target
    k = min(k, n)
    top10 = cum[max(1, math.ceil(n * 0.1)) - 1]
    edges = np.ceil(np.arange(0, 11) * n / 10).astype(int)
    rows = []
    for d in range(10):
        lo, hi = edges[d], edges[d + 1]
        part = v[lo:hi]
        rows.append(
            {
                "decile": d + 1,
                "customers": int(hi - lo),
                basis: round(float(part.sum()), 2),
                "share": round(float(part.sum()) / total, 4),
                "cumulative_share": round(float(cum[hi - 1]) if hi else 0.0, 4),
            }
        )
    g = pd.DataFrame(rows)
    xs = np.linspace(0, 1, 101)
    idx = np.clip(np.ceil(xs * n).astype(int) - 1, -1, n - 1)
    curve = [[round(float(a), 4), round(float(cum[i]) if i >= 0 else 0.0, 6)] for a, i in zip(xs, idx)]
    word = "contribution" if basis == "contribution" else "AUM"
    summary = f"{pct(k / n)} of customers bring {pct(cum[k - 1])} of {word}; the top 10% bring {pct(top10)}"
    return with_attrs(
        g,
        "concentration",
        f"{word} concentration (Pareto), run {run_id}",
        run_id,
        summary,
        notes,
        basis=basis,
        customers=n,
        total=round(total, 2),
        target=target,
        customers_for_target=k,
        customer_share_for_target=round(k / n, 6),
        share_reached=round(float(cum[k - 1]), 6),
        top_decile_share=round(float(top10), 6),
        curve=curve,
    )
