"""The effect of next-best actions (策略效果): per action × segment, the customers an action was
chosen for against its held-out control group.

Intent to treat: the treated arm is every customer the action was chosen for and not held out
(whether or not the RM reached them), the control arm those held out. Counted per arm: offered,
contacted (reached), accepted, converted; the conversion-rate uplift (treated − control) has a
normal-approximation interval, and so does the difference in mean AUM change over the horizon
(the month-average AUM `horizon_days` after the actions' month against that month, where the
record already holds it). `measure_effect` is pure; `strategy_effect` reads a run's actions.
"""

from __future__ import annotations

import datetime as dt
from statistics import NormalDist

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.jobs.classification.standard import Standard
from clientstrata.jobs.ingest.bundle import ASSET_FAMILIES

from .actions import action_settings
from .learning import REACHED, RESPONDED
from .nba import actions_table, outcomes_table

__all__ = ["EFFECT_COLUMNS", "ALL_SEGMENTS", "measure_effect", "aum_change", "strategy_effect"]

ALL_SEGMENTS = "all"
EFFECT_COLUMNS = [
    "action_key",
    "segment",
    "offered",
    "contacted",
    "accepted",
    "converted",
    "control",
    "control_converted",
    "conversion_rate",
    "control_rate",
    "uplift",
    "uplift_low",
    "uplift_high",
    "aum_change",
    "control_aum_change",
    "aum_uplift",
    "aum_uplift_low",
    "aum_uplift_high",
]


def _arms(g: pd.DataFrame, z: float) -> dict:
    t, c = g[~g["control"]], g[g["control"]]
    nt, nc = len(t), len(c)
    pt = t["converted"].mean() if nt else np.nan
    pc = c["converted"].mean() if nc else np.nan
    se = np.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc) if nt and nc else np.nan
    at, ac = t["aum_delta"].dropna(), c["aum_delta"].dropna()
    if len(at) > 1 and len(ac) > 1:
        d = at.mean() - ac.mean()
        ase = np.sqrt(at.var(ddof=1) / len(at) + ac.var(ddof=1) / len(ac))
    else:
        d = ase = np.nan
    return {
        "offered": nt,
        "contacted": int(t["reached"].sum()),
        "accepted": int(t["responded"].sum()),
        "converted": int(t["converted"].sum()),
        "control": nc,
        "control_converted": int(c["converted"].sum()),
        "conversion_rate": pt,
        "control_rate": pc,
        "uplift": pt - pc,
        "uplift_low": pt - pc - z * se,
        "uplift_high": pt - pc + z * se,
        "aum_change": at.mean() if len(at) else np.nan,
        "control_aum_change": ac.mean() if len(ac) else np.nan,
        "aum_uplift": d,
        "aum_uplift_low": d - z * ase,
        "aum_uplift_high": d + z * ase,
    }


def measure_effect(
    actions: pd.DataFrame, outcomes: pd.DataFrame, aum: pd.DataFrame | None = None, confidence: float = 0.95
) -> pd.DataFrame:
    """actions: nba_id, customer_id, action_key, segment, control; outcomes: nba_id, outcome;
    aum: customer_id, aum_delta (optional). One row per action × segment and per action over
    every segment (segment "all"), EFFECT_COLUMNS; rates and intervals NaN where an arm is empty."""
    if actions.empty:
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    o = outcomes.assign(
        reached=outcomes["outcome"].isin(REACHED),
        responded=outcomes["outcome"].isin(RESPONDED),
        converted=outcomes["outcome"].eq("converted"),
    )
    per = o.groupby("nba_id")[["reached", "responded", "converted"]].max() if len(o) else None
    a = actions.assign(control=actions["control"].astype(bool), segment=actions["segment"].fillna("unknown"))
    a = a.join(per, on="nba_id") if per is not None else a.assign(reached=False, responded=False, converted=False)
    for col in ("reached", "responded", "converted"):
        a[col] = a[col].astype("boolean").fillna(False).astype(bool)
    if aum is not None and len(aum):
        a = a.merge(aum[["customer_id", "aum_delta"]], on="customer_id", how="left")
    else:
        a["aum_delta"] = np.nan
    rows = []
    for (key, seg), g in a.groupby(["action_key", "segment"], sort=True):
        rows.append({"action_key": key, "segment": seg, **_arms(g, z)})
    for key, g in a.groupby("action_key", sort=True):
        rows.append({"action_key": key, "segment": ALL_SEGMENTS, **_arms(g, z)})
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def _month(d: dt.date, add: int = 0) -> str:
    m = d.year * 12 + d.month - 1 + add
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def aum_change(conn: Connection, customer_ids: list[str], start: dt.date, horizon_days: int) -> pd.DataFrame:
    """customer_id, aum_delta: month-average AUM (CNY-denominated asset accounts) in the month
    `horizon_days` after `start` minus that of `start`'s month; only customers with both months."""
    m0, m1 = _month(start), _month(start, max(1, round(horizon_days / 30)))
    fams = ", ".join(f"'{f}'" for f in ASSET_FAMILIES)
    q = sa.text(f"""
        SELECT a.owner_id AS customer_id, b.month, SUM(b.avg_daily_balance) AS aum
        FROM balances_monthly b JOIN accounts a ON a.account_id = b.account_id
        JOIN products p ON p.product_id = a.product_id
        WHERE a.owner_type = 'individual' AND p.family IN ({fams}) AND b.month IN (:m0, :m1)
        GROUP BY a.owner_id, b.month""")
    df = pd.DataFrame(
        [tuple(r) for r in conn.execute(q, {"m0": m0, "m1": m1})], columns=["customer_id", "month", "aum"]
    )
    df = df[df["customer_id"].isin(set(customer_ids))]
    wide = df.pivot_table(index="customer_id", columns="month", values="aum", aggfunc="sum")
    if m0 not in wide or m1 not in wide:
        return pd.DataFrame(columns=["customer_id", "aum_delta"])
    d = (wide[m1] - wide[m0]).dropna().rename("aum_delta").reset_index()
    return d


def strategy_effect(
    conn: Connection, std: Standard, run_id: int | None = None, book: str | None = None
) -> pd.DataFrame:
    """The effect of run `run_id`'s actions (default: the latest run that chose any), EFFECT_COLUMNS.
    `book` (an RM's id) measures only the customers in that RM's book at the time of the run."""
    t = actions_table
    if run_id is None:
        run_id = conn.execute(sa.select(sa.func.max(t.c.run_id))).scalar()
        if run_id is None:
            return pd.DataFrame(columns=EFFECT_COLUMNS)
    q = sa.select(t.c.nba_id, t.c.customer_id, t.c.action_key, t.c.segment, t.c.control, t.c.created_at).where(
        t.c.run_id == run_id
    )
    if book is not None:
        q = q.where(t.c.rm_id == book)
    acts = pd.DataFrame(
        conn.execute(q).all(), columns=["nba_id", "customer_id", "action_key", "segment", "control", "at"]
    )
    if acts.empty:
        if conn.execute(sa.select(t.c.nba_id).where(t.c.run_id == run_id).limit(1)).first() is None and book is None:
            raise NotFound("run with actions", str(run_id))
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    o = outcomes_table
    outs = pd.DataFrame(
        conn.execute(
            sa.select(o.c.nba_id, o.c.outcome).where(o.c.nba_id.in_(sa.select(t.c.nba_id).where(t.c.run_id == run_id)))
        ).all(),
        columns=["nba_id", "outcome"],
    )
    eff = action_settings(std).effect
    if not 0.5 <= float(eff["confidence"]) < 1:
        raise InvalidInput("the effect's confidence must be from 0.5 to below 1")
    start = pd.Timestamp(acts["at"].min()).date()
    aum = aum_change(conn, list(acts["customer_id"].unique()), start, int(eff["horizon_days"]))
    return measure_effect(acts, outs, aum, float(eff["confidence"]))
