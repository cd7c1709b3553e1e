"""Alert detection as main had it before issue 15 (93f26d4), kept as the reference the faster
detector is held to, alert for alert. Not imported by the product: the reference test
(tests/jobs/tracking/test_alert_reference.py), the rules' property test and
`bench_strategy.py --alerts` call these, or install them with `main_code()` in place of the
functions that replaced them.

Main's text unchanged; only the imports differ. What they replaced:
- `detect_alerts` and its rules: every customer's previous-run tags read per partition, tags split
  per dimension with pandas, maturities' next dates per distinct (opened, term) pair with
  DateOffset in Python, `isin` on Arrow text → the tags laid out once per partition, the previous
  run's values read only for the customers a rule can fire for, maturities and birthdays outside
  the window dropped when the run's inputs are read;
- `alert_inputs`, `alert_detector` → `jobs.tracking.detection`'s;
- `route_alerts` (every individual read), `write_alerts` (every alert's row built before the
  fingerprint check) → only new alerts routed and built.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.db import insert_ignore
from clientstrata.graph.record.models import Alert, Tag
from clientstrata.jobs.classification.dimensions._tags import fmt, fmt_many
from clientstrata.jobs.classification.features import aum_columns
from clientstrata.jobs.classification.standard import Standard
from clientstrata.jobs.runs import pipeline
from clientstrata.jobs.tracking.settings import ALERT_TYPES, AlertSettings, alert_settings

__all__ = ["detect_alerts", "alert_inputs", "alert_detector", "write_run_alerts", "main_code"]

tags_table = Tag.__table__
alerts_table = Alert.__table__


@contextmanager
def main_code() -> Iterator[None]:
    """Main's detector and writer in the run's place for as long as the block runs (then put back)."""
    swaps = [(pipeline, "alert_detector", alert_detector), (pipeline, "write_run_alerts", write_run_alerts)]
    before = [(module, name, getattr(module, name)) for module, name, _ in swaps]
    try:
        for module, name, function in swaps:
            setattr(module, name, function)
        yield
    finally:
        for module, name, function in before:
            setattr(module, name, function)


# --- jobs/tracking/rules.py ------------------------------------------------------------------
ALERT_COLUMNS = ["customer_id", "alert_type", "severity", "reason", "details", "period"]


def _frame(ids, alert_type: str, severity: str, reasons, details, periods) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": np.asarray(ids, dtype=object),
            "alert_type": alert_type,
            "severity": severity,
            "reason": list(reasons),
            "details": list(details),
            "period": list(periods),
        },
        columns=ALERT_COLUMNS,
    )


_RULE_DIMENSIONS = (
    "wealth_tier",
    "value_contribution",
    "risk_consistency",
    "risk_preference",
    "behaviour_activity",
    "aml_risk",
)  # the tags the rules below read (`_tag`); a rule reading another must add it here
_RULE_COLUMNS = ("customer_id", "dimension", "value", "score", "inputs")


def _by_dimension(tags: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """A tags frame split once per dimension and indexed by customer, for the rules' many `_tag`
    reads (each filtering and indexing a million-row partition again cost a quarter of a
    publish's alert time at 1M)."""
    if tags is None or tags.empty:
        return {}
    # only what the rules read: splitting the rule text and the other dimensions too cost about
    # as much as the rules themselves
    tags = tags.loc[tags["dimension"].isin(_RULE_DIMENSIONS).to_numpy(), [c for c in _RULE_COLUMNS if c in tags]]
    return {
        d: g.drop_duplicates("customer_id").set_index("customer_id") for d, g in tags.groupby("dimension", sort=False)
    }


def _tag(
    tags: dict[str, pd.DataFrame] | pd.DataFrame | None, dimension: str, ids: pd.Series, column: str = "value"
) -> pd.Series:
    """One dimension's column per customer (aligned to `ids`; None where absent)."""
    by = tags if isinstance(tags, dict) else _by_dimension(tags)
    if dimension not in by:
        return pd.Series([None] * len(ids), index=ids.index, dtype=object)
    out = by[dimension][column].reindex(ids.to_numpy())
    out.index = ids.index
    return out.astype(object).where(out.notna(), None)


def _month(as_of) -> str:
    return str(as_of)[:7]


def _valuable(
    f: pd.DataFrame, tags: pd.DataFrame, s: AlertSettings, std: Standard
) -> tuple[np.ndarray, pd.Series, pd.Series]:
    """(mask, tier, decile value): tier ≥ valuable.min_tier, or value decile ≥ valuable.min_value_decile."""
    bands = [b["value"] for b in std.dimensions.get("wealth_tier", {}).get("bands", [])]
    tier = _tag(tags, "wealth_tier", f["customer_id"])
    rank = tier.map({b: i for i, b in enumerate(bands)}).astype(float)
    floor = bands.index(s["valuable"]["min_tier"]) if s["valuable"]["min_tier"] in bands else len(bands)
    dec = _tag(tags, "value_contribution", f["customer_id"])
    decile = pd.to_numeric(dec.str.slice(1), errors="coerce")
    mask = (rank >= floor).to_numpy() | (decile >= int(s["valuable"]["min_value_decile"])).to_numpy()
    return mask, tier, dec


def aum_outflow(f: pd.DataFrame, tags: pd.DataFrame, s: AlertSettings, std: Standard) -> pd.DataFrame:
    cfg = s["aum_outflow"]
    cols = aum_columns(f)
    n = int(cfg["months"])
    if len(cols) < 2:
        return _frame([], "aum_outflow", cfg["severity"], [], [], [])
    before_col, now_col = cols[max(0, len(cols) - 1 - n)], cols[-1]
    before, now = f[before_col].astype(float).to_numpy(), f[now_col].astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        drop = np.where(before > 0, (before - now) / before * 100, 0.0)
    valuable, tier, dec = _valuable(f, tags, s, std)
    hit = np.flatnonzero(valuable & (drop >= float(cfg["drop_pct"])))
    m0, m1 = before_col.split(":", 1)[1], now_col.split(":", 1)[1]
    b, w, d = fmt_many(before[hit]), fmt_many(now[hit]), fmt_many(np.round(drop[hit], 1))
    reasons = [
        f"资产流失 AUM outflow: month-average AUM fell {d[i]}% from {b[i]} ({m0}) to {w[i]} ({m1}), "
        f"≥ {fmt(cfg['drop_pct'])}% over {n} months; valuable customer (wealth tier {tier.iloc[j]}, "
        f"value decile {dec.iloc[j]})"
        for i, j in enumerate(hit)
    ]
    details = [
        {
            "aum_before": round(float(before[j]), 2),
            "month_before": m0,
            "aum_now": round(float(now[j]), 2),
            "month_now": m1,
            "drop_pct": round(float(drop[j]), 2),
            "threshold_pct": cfg["drop_pct"],
            "wealth_tier": tier.iloc[j],
            "value_decile": dec.iloc[j],
        }
        for j in hit
    ]
    return _frame(f["customer_id"].to_numpy()[hit], "aum_outflow", cfg["severity"], reasons, details, [m1] * len(hit))


def near_upgrade(f: pd.DataFrame, tags: pd.DataFrame, s: AlertSettings, std: Standard) -> pd.DataFrame:
    cfg = s["near_upgrade"]
    bands = std.dimensions["wealth_tier"]["bands"]
    mins = np.array([bd["min"] for bd in bands], dtype=float)
    aum = f["aum"].astype(float).to_numpy()
    # the next band above the customer's latest AUM (not the held tier: one on watch is not "near")
    idx = np.searchsorted(mins, aum, side="right")
    has_next = idx < len(mins)
    nxt = mins[np.minimum(idx, len(mins) - 1)]  # only read where has_next
    gap_pct = np.where(has_next, (nxt - aum) / np.where(nxt > 0, nxt, 1) * 100, np.inf)
    tier = _tag(tags, "wealth_tier", f["customer_id"]).to_numpy()
    held = pd.Series(tier).map({b["value"]: i for i, b in enumerate(bands)}).fillna(-1).to_numpy()
    # a customer already holding that band or a higher one (kept there by the stable tier, on
    # watch) is not "near" it
    hit = np.flatnonzero(has_next & (gap_pct <= float(cfg["within_pct"])) & (gap_pct > 0) & (held < idx))
    month = _month(f["as_of"].iloc[0]) if len(f) else ""
    cols = aum_columns(f)
    month = cols[-1].split(":", 1)[1] if cols else month
    a, m, g = fmt_many(aum[hit]), fmt_many(nxt[hit]), fmt_many(np.round(gap_pct[hit], 1))
    reasons = []
    details = []
    for i, j in enumerate(hit):
        band = bands[idx[j]]
        reasons.append(
            f"临界升级 near upgrade: month-average AUM {a[i]} is {g[i]}% below the {band['label_en']} "
            f"({band['label_zh']}) minimum {m[i]} (within {fmt(cfg['within_pct'])}%)"
        )
        details.append(
            {
                "aum": round(float(aum[j]), 2),
                "next_tier": band["value"],
                "next_tier_min": float(nxt[j]),
                "gap": round(float(nxt[j] - aum[j]), 2),
                "gap_pct": round(float(gap_pct[j]), 2),
                "threshold_pct": cfg["within_pct"],
                "wealth_tier": tier[j],
                "month": month,
            }
        )
    periods = [f"{month}:{d['next_tier']}" for d in details]
    return _frame(f["customer_id"].to_numpy()[hit], "near_upgrade", cfg["severity"], reasons, details, periods)


def risk_appetite_drift(
    f: pd.DataFrame, tags: pd.DataFrame, previous: pd.DataFrame | None, s: AlertSettings, std: Standard
) -> pd.DataFrame:
    cfg = s["risk_appetite_drift"]
    ids = f["customer_id"]
    now = _tag(tags, "risk_consistency", ids).to_numpy()
    before = _tag(previous, "risk_consistency", ids).to_numpy()
    pref = _tag(tags, "risk_preference", ids).to_numpy()
    held = f["max_risk_held"].fillna(0).astype(int).to_numpy()
    bought = f["max_risk_bought"].fillna(0).astype(int).to_numpy()
    became = (now == "above_appetite") & (before != None) & (before != "above_appetite")  # noqa: E711
    conservative = np.isin(pref.astype(str), [str(x) for x in cfg["conservative_levels"]])
    risky = np.maximum(held, bought) >= int(cfg["min_product_risk"])
    hit = np.flatnonzero(became | (conservative & risky))
    month = _month(f["as_of"].iloc[0]) if len(f) else ""
    reasons, details = [], []
    for j in hit:
        why = []
        if became[j]:
            why.append(f"risk consistency became above appetite (was {before[j]})")
        if conservative[j] and risky[j]:
            src = f"holds R{held[j]}" if held[j] >= bought[j] else f"bought R{bought[j]} in the last 12 months"
            why.append(f"a {pref[j]} (conservative) customer {src} ≥ R{cfg['min_product_risk']}")
        reasons.append("风险偏好漂移 risk-appetite drift: " + "; ".join(why))
        details.append(
            {
                "risk_preference": pref[j],
                "risk_consistency": now[j],
                "previous_risk_consistency": before[j],
                "max_risk_held": f"R{held[j]}" if held[j] else None,
                "max_risk_bought_12m": f"R{bought[j]}" if bought[j] else None,
                "became_above_appetite": bool(became[j]),
                "conservative_holds_high_risk": bool(conservative[j] and risky[j]),
            }
        )
    return _frame(ids.to_numpy()[hit], "risk_appetite_drift", cfg["severity"], reasons, details, [month] * len(hit))


def _next_maturity(opened: pd.Series, term: pd.Series, as_of: dt.date) -> pd.Series:
    """The first maturity on or after `as_of` (term products roll over at maturity): opened_on
    plus the smallest whole number of terms that reaches `as_of`. One date computation per
    distinct (opened_on, term) pair."""
    ref = pd.Timestamp(as_of)
    out = {}
    for o, t in set(zip(opened, term)):
        start = pd.Timestamp(o)
        months = (ref.year - start.year) * 12 + (ref.month - start.month)
        k = max(1, -(-months // int(t)))
        d = start + pd.DateOffset(months=k * int(t))
        while d < ref:
            k += 1
            d = start + pd.DateOffset(months=k * int(t))
        out[(o, t)] = d.date()
    return pd.Series([out[(o, t)] for o, t in zip(opened, term)], index=opened.index, dtype=object)


def product_maturity(f: pd.DataFrame, maturities: pd.DataFrame | None, s: AlertSettings) -> pd.DataFrame:
    cfg = s["product_maturity"]
    if maturities is None or maturities.empty or f.empty:
        return _frame([], "product_maturity", cfg["severity"], [], [], [])
    as_of = pd.Timestamp(f["as_of"].iloc[0]).date()
    m = maturities[maturities["customer_id"].isin(f["customer_id"])].copy()
    if m.empty:
        return _frame([], "product_maturity", cfg["severity"], [], [], [])
    m["opened_on"] = pd.to_datetime(m["opened_on"]).dt.date
    m["matures_on"] = _next_maturity(m["opened_on"], m["term_months"].astype(int), as_of)
    days = np.array([(d - as_of).days for d in m["matures_on"]])
    m = m[(days >= 0) & (days <= int(cfg["within_days"]))].assign(
        days=days[(days >= 0) & (days <= int(cfg["within_days"]))]
    )
    bal = fmt_many(m["balance"].fillna(0).to_numpy())
    reasons = [
        f"产品到期 product maturity: {r.product_name} ({r.family}, {int(r.term_months)}-month term, "
        f"balance {b} CNY) opened {r.opened_on} matures on {r.matures_on}, in {int(r.days)} days "
        f"(≤ {cfg['within_days']})"
        for r, b in zip(m.itertuples(index=False), bal)
    ]
    details = [
        {
            "account_id": r.account_id,
            "product_id": r.product_id,
            "family": r.family,
            "term_months": int(r.term_months),
            "opened_on": str(r.opened_on),
            "matures_on": str(r.matures_on),
            "days_to_maturity": int(r.days),
            "balance": None if r.balance != r.balance else round(float(r.balance), 2),
        }
        for r in m.itertuples(index=False)
    ]
    periods = [f"{r.account_id}:{r.matures_on}" for r in m.itertuples(index=False)]
    return _frame(m["customer_id"], "product_maturity", cfg["severity"], reasons, details, periods)


def birthday(f: pd.DataFrame, tags: pd.DataFrame, birth_dates: pd.Series | None, s: AlertSettings) -> pd.DataFrame:
    """`birth_dates`: per customer_id (index); the features frame holds the age only."""
    cfg = s["birthday"]
    if birth_dates is None or f.empty:
        return _frame([], "birthday", cfg["severity"], [], [], [])
    ids = f["customer_id"]
    as_of = pd.Timestamp(f["as_of"].iloc[0])
    born = pd.to_datetime(birth_dates.reindex(ids.to_numpy()), errors="coerce")
    tier = _tag(tags, "wealth_tier", ids).to_numpy()
    ok = born.notna().to_numpy() & np.isin(tier.astype(str), [str(t) for t in cfg["tiers"]])
    # this year's birthday (29 Feb → 28 Feb in other years), or next year's if it has passed;
    # column-wise over the eligible customers, in their order
    at = as_of.normalize()
    j = np.flatnonzero(ok)
    b = pd.DatetimeIndex(born.to_numpy()[j])

    def nxt(y: int) -> pd.DatetimeIndex:
        feb29 = (b.month == 2) & (b.day == 29) & (not _leap(y))
        return pd.to_datetime(pd.DataFrame({"year": y, "month": b.month, "day": np.where(feb29, 28, b.day)}))

    d = pd.DatetimeIndex(nxt(at.year))
    d = d.where(d >= at, pd.DatetimeIndex(nxt(at.year + 1)))
    days = (d - at).days.to_numpy()
    keep = days <= int(cfg["within_days"])
    rows = list(zip(j[keep].tolist(), d[keep].date.tolist(), days[keep].tolist(), (d.year - b.year)[keep].tolist()))
    reasons = [
        f"生日关怀 birthday: turns {age} on {d} (in {days} days, ≤ {cfg['within_days']}); {tier[j]} customer"
        for j, d, days, age in rows
    ]
    details = [
        {"birthday": str(d), "days_to_birthday": days, "turns": age, "wealth_tier": tier[j]} for j, d, days, age in rows
    ]
    periods = [str(d.year) for _, d, _, _ in rows]
    return _frame(ids.to_numpy()[[r[0] for r in rows]], "birthday", cfg["severity"], reasons, details, periods)


def _leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def dormant(f: pd.DataFrame, tags: pd.DataFrame, previous: pd.DataFrame | None, s: AlertSettings) -> pd.DataFrame:
    cfg = s["dormant"]
    ids = f["customer_id"]
    now = _tag(tags, "behaviour_activity", ids).to_numpy()
    before = _tag(previous, "behaviour_activity", ids).to_numpy()
    hit = np.flatnonzero((now == "dormant") & (before == "active"))
    days = f["days_since_last_txn"].astype(float).to_numpy()
    month = _month(f["as_of"].iloc[0]) if len(f) else ""
    reasons = [
        f"账户休眠 dormant: active in the previous run, now no transaction for "
        f"{'over 12 months' if days[j] != days[j] else fmt(days[j]) + ' days'}"
        for j in hit
    ]
    details = [
        {"days_since_last_transaction": None if days[j] != days[j] else int(days[j]), "previous_activity": before[j]}
        for j in hit
    ]
    return _frame(ids.to_numpy()[hit], "dormant", cfg["severity"], reasons, details, [month] * len(hit))


def demand_signal(f: pd.DataFrame, transfers: pd.DataFrame | None, s: AlertSettings) -> pd.DataFrame:
    cfg = s["demand_signal"]
    ids = f["customer_id"]
    big = np.zeros(len(f))
    if transfers is not None and len(transfers):
        big = transfers.set_index("customer_id")["max_transfer"].reindex(ids.to_numpy()).fillna(0).to_numpy(dtype=float)
    xb = f["cross_border_count"].fillna(0).astype(int).to_numpy()
    is_big = big >= float(cfg["large_transfer_min"])
    is_xb = xb >= int(cfg["cross_border_min_count"])
    hit = np.flatnonzero(is_big | is_xb)
    month = _month(f["as_of"].iloc[0]) if len(f) else ""
    reasons, details = [], []
    for j in hit:
        why = []
        if is_big[j]:
            why.append(
                f"a single transfer of {fmt(big[j])} CNY in the last {cfg['lookback_days']} days "
                f"(≥ {fmt(cfg['large_transfer_min'])})"
            )
        if is_xb[j]:
            why.append(f"{xb[j]} cross-border transactions in 12 months (≥ {cfg['cross_border_min_count']})")
        reasons.append("需求信号 demand signal: " + "; ".join(why))
        details.append(
            {
                "max_transfer": round(float(big[j]), 2),
                "large_transfer": bool(is_big[j]),
                "cross_border_count": int(xb[j]),
                "repeated_cross_border": bool(is_xb[j]),
            }
        )
    return _frame(ids.to_numpy()[hit], "demand_signal", cfg["severity"], reasons, details, [month] * len(hit))


def aml_red_flag(
    f: pd.DataFrame, tags: pd.DataFrame, previous: pd.DataFrame | None, s: AlertSettings, std: Standard
) -> pd.DataFrame:
    cfg = s["aml_red_flag"]
    ids = f["customer_id"]
    order = {r["value"]: i for i, r in enumerate(std.dimensions.get("aml_risk", {}).get("ratings", []))}
    now = _tag(tags, "aml_risk", ids)
    before = _tag(previous, "aml_risk", ids)
    score = pd.to_numeric(_tag(tags, "aml_risk", ids, "score"), errors="coerce").to_numpy(dtype=float)
    inputs = _tag(tags, "aml_risk", ids, "inputs").to_numpy()
    rank_now = now.map(order).astype(float).to_numpy()
    rank_before = before.map(order).astype(float).to_numpy()
    listed = now.isin(cfg["ratings"]).to_numpy()
    rose = bool(cfg["on_rise"]) & (rank_now > rank_before)  # NaN (no previous) compares False
    hit = np.flatnonzero(listed | rose)
    now, before = now.to_numpy(), before.to_numpy()
    month = _month(f["as_of"].iloc[0]) if len(f) else ""
    reasons, details = [], []
    for j in hit:
        got = orjson.loads(inputs[j]) if isinstance(inputs[j], str) else inputs[j]  # a run's tags carry JSON text
        pts = (got or {}).get("factor_points", {}) if isinstance(got, dict) else {}
        fired = ", ".join(f"{k} +{v:g}" for k, v in pts.items() if v) or "no factor"
        why = f"AML risk {now[j]} (score {fmt(score[j])}: {fired})"
        if rose[j]:
            why += f", up from {before[j]} in the previous run"
        reasons.append("反洗钱预警 AML red flag: " + why)
        details.append(
            {
                "aml_risk": now[j],
                "previous_aml_risk": before[j],
                "score": None if score[j] != score[j] else float(score[j]),
                "rose": bool(rose[j]),
                "factor_points": {k: v for k, v in pts.items() if v},
            }
        )
    periods = [f"{month}:{d['aml_risk']}" for d in details]
    return _frame(ids.to_numpy()[hit], "aml_red_flag", cfg["severity"], reasons, details, periods)


def detect_alerts(
    features: pd.DataFrame,
    tags: pd.DataFrame,
    previous: pd.DataFrame | None,
    settings: AlertSettings,
    std: Standard,
    maturities: pd.DataFrame | None = None,
    transfers: pd.DataFrame | None = None,
    birth_dates: pd.Series | None = None,
) -> pd.DataFrame:
    """Every enabled alert type over one partition of customers (features from
    `jobs.features`, `tags` this run's, `previous` the previous published run's — None on the
    first run, when the "became …" rules have nothing to compare with). Pure and vectorised."""
    tags, previous = _by_dimension(tags), _by_dimension(previous)
    rules = {
        "aum_outflow": lambda: aum_outflow(features, tags, settings, std),
        "near_upgrade": lambda: near_upgrade(features, tags, settings, std),
        "risk_appetite_drift": lambda: risk_appetite_drift(features, tags, previous, settings, std),
        "product_maturity": lambda: product_maturity(features, maturities, settings),
        "birthday": lambda: birthday(features, tags, birth_dates, settings),
        "dormant": lambda: dormant(features, tags, previous, settings),
        "demand_signal": lambda: demand_signal(features, transfers, settings),
        "aml_red_flag": lambda: aml_red_flag(features, tags, previous, settings, std),
    }
    frames = [rules[t]() for t in ALERT_TYPES if t in settings.enabled]
    frames = [x for x in frames if len(x)]
    if not frames:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    return pd.concat(frames, ignore_index=True)


# --- jobs/tracking/detection.py --------------------------------------------------------------


def alert_inputs(
    conn: Connection, std: Standard, as_of: dt.date, settings: AlertSettings | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(maturities, transfers, birth_dates), read set-based for `detect_alerts`:
    maturities — customer_id, account_id, product_id, product_name, family, term_months, opened_on,
    balance (CNY): open term accounts of the configured families; transfers — customer_id,
    max_transfer (CNY): the largest single non-cash transaction in the lookback window."""
    settings = settings or alert_settings(std)
    fams = [str(f) for f in settings["product_maturity"]["families"]]
    pm = sa.text("""
        SELECT a.owner_id AS customer_id, a.account_id, p.product_id, p.name AS product_name, p.family,
               p.term_months, a.opened_on, a.balance, a.currency
        FROM accounts a JOIN products p ON p.product_id = a.product_id
        WHERE a.owner_type = 'individual' AND a.status <> 'closed' AND p.term_months > 0
          AND p.family IN :fams""").bindparams(sa.bindparam("fams", expanding=True))
    mat = pd.read_sql(pm, conn, params={"fams": fams})
    rate = mat["currency"].map(std.fx_to_cny).fillna(1.0)
    mat["balance"] = pd.to_numeric(mat["balance"], errors="coerce").astype(float) * rate
    mat = mat.drop(columns=["currency"])
    since = dt.datetime.combine(as_of - dt.timedelta(days=int(settings["demand_signal"]["lookback_days"])), dt.time())
    whens = " ".join(f"WHEN '{c}' THEN {float(r)!r}" for c, r in std.fx_to_cny.items() if c.isalpha() and len(c) == 3)
    tr = pd.read_sql(
        sa.text(f"""
        SELECT a.owner_id AS customer_id, MAX(t.amount * (CASE t.currency {whens} ELSE NULL END)) AS max_transfer
        FROM accounts a JOIN transactions t ON t.account_id = a.account_id
        WHERE a.owner_type = 'individual' AND NOT t.is_cash AND t.booked_at >= :since
        GROUP BY a.owner_id"""),
        conn,
        params={"since": since},
    )
    tr["max_transfer"] = pd.to_numeric(tr["max_transfer"], errors="coerce").astype(float)
    born = pd.read_sql(sa.text("SELECT customer_id, birth_date FROM individuals"), conn)
    return mat, tr, born.set_index("customer_id")["birth_date"]


_PREVIOUS_DIMENSIONS = ("risk_consistency", "behaviour_activity", "aml_risk")


def alert_detector(conn: Connection, std: Standard, settings: AlertSettings, previous_run: int | None, as_of: dt.date):
    """`detect_alerts` bound to what a run reads once (maturities, transfers, birthdays): call
    it per partition with that partition's features and tags, so a publish never holds every
    tag of the run at once; it reads the previous run's tags of the partition's customers."""
    maturities, transfers, born = alert_inputs(conn, std, as_of, settings)

    def detect(features: pd.DataFrame, tags: pd.DataFrame) -> pd.DataFrame:
        previous = None
        if previous_run is not None and len(features):  # the partition's stretch of the previous run's key
            ids = features["customer_id"]
            previous = pd.read_sql(
                sa.select(tags_table.c.customer_id, tags_table.c.dimension, tags_table.c.value).where(
                    tags_table.c.run_id == previous_run,
                    tags_table.c.customer_id >= ids.min(),
                    tags_table.c.customer_id <= ids.max(),
                    # `|| ''`: SQLite would otherwise walk the (dimension, value) index over the
                    # whole bank and look each row up, at twice the cost of the key range
                    tags_table.c.dimension.concat("").in_(_PREVIOUS_DIMENSIONS),
                ),
                conn,
            )
        return detect_alerts(features, tags, previous, settings, std, maturities, transfers, born)

    return detect


# --- jobs/tracking/alerts.py -----------------------------------------------------------------


def fingerprint(alert_type: str, customer_id: str, period: str) -> str:
    return hashlib.sha256(f"{alert_type}\x1f{customer_id}\x1f{period}".encode()).hexdigest()


def route_alerts(conn: Connection, alerts: pd.DataFrame) -> pd.DataFrame:
    """Adds rm_id (the customer's current RM) and, for customers without one, routes the alert
    to the branch queue: details.queue = "branch" with the branch_id."""
    out = alerts.copy()
    if out.empty:
        out["rm_id"] = pd.Series(dtype=object)
        return out
    who = pd.read_sql(sa.text("SELECT customer_id, rm_id, branch_id FROM individuals"), conn).set_index("customer_id")
    who = who.reindex(out["customer_id"].to_numpy())
    rm = who["rm_id"].astype(object).where(who["rm_id"].notna(), None).to_numpy()
    branch = who["branch_id"].astype(object).where(who["branch_id"].notna(), None).to_numpy()
    out["rm_id"] = pd.Series(rm, index=out.index, dtype=object)  # object: None stays None, not NaN
    out["details"] = [
        {**d, "queue": "rm", "branch_id": b} if r else {**d, "queue": "branch", "branch_id": b}
        for d, r, b in zip(out["details"], rm, branch)
    ]
    return out


def write_alerts(conn: Connection, alerts: pd.DataFrame, run_id: int, at: dt.datetime) -> int:
    """Insert the routed alerts not raised before (by fingerprint); returns how many are new.
    Called inside the publish transaction, after `lock_feed`: publishers are serialised, so the
    existing-fingerprint check cannot race another run (the UNIQUE constraint backs it up)."""
    if alerts.empty:
        return 0
    fps = [fingerprint(t, c, p) for t, c, p in zip(alerts["alert_type"], alerts["customer_id"], alerts["period"])]
    rows = {}
    for fp, r in zip(fps, alerts.itertuples(index=False)):
        rm = r.rm_id if isinstance(r.rm_id, str) else None  # never NaN: it would be the text 'NaN' on PostgreSQL
        rows.setdefault(
            fp,
            {
                "run_id": run_id,
                "customer_id": r.customer_id,
                "rm_id": rm,
                "alert_type": r.alert_type,
                "severity": r.severity,
                "reason": r.reason,
                "details": {**r.details, "period": r.period},
                "status": "open",
                "created_at": at,
                "fingerprint": fp,
            },
        )
    keys = list(rows)
    seen = set()
    for i in range(0, len(keys), 1_000):
        seen.update(
            conn.execute(
                sa.select(alerts_table.c.fingerprint).where(alerts_table.c.fingerprint.in_(keys[i : i + 1_000]))
            ).scalars()
        )
    new = [rows[k] for k in keys if k not in seen]
    for i in range(0, len(new), 5_000):
        insert_ignore(conn, alerts_table, new[i : i + 5_000], ["fingerprint"])
    return len(new)


def write_run_alerts(conn: Connection, found: list[pd.DataFrame], run_id: int, at: dt.datetime) -> pd.DataFrame:
    """Route and write the alerts detected per partition (new ones only); attrs["written"] counts them."""
    alerts = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=ALERT_COLUMNS)
    alerts = route_alerts(conn, alerts)
    alerts.attrs["written"] = write_alerts(conn, alerts, run_id, at)
    return alerts
