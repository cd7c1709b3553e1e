"""Alert rules (客户跟踪): pure and vectorised, one function per alert type.

This run's features and tags, the previous published run's tags and the standard's alert
settings in, one row per alert out (customer_id, alert_type, severity, reason — in words, with
the customer's figures — details, period). No database: the facts the features frame does not
hold (term products' maturity dates, the largest single transfer, birth dates) come in as frames,
read by `jobs.tracking.detection`.

Proportional to what can fire: a partition's tags are laid out once as arrays in the features'
order (`_lay_out`), each rule builds words only for its hits, and the previous run's tags are
asked for only for the customers whose "became …"/"rose" condition could hold (`previous` may be
a lookup, `Previous`, that reads just those).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import orjson
import pandas as pd

from clientstrata.jobs.classification.dimensions._tags import fmt, fmt_many
from clientstrata.jobs.classification.features import aum_columns
from clientstrata.jobs.classification.standard import Standard

from .settings import ALERT_TYPES, AlertSettings

__all__ = [
    "ALERT_COLUMNS",
    "PREVIOUS_DIMENSIONS",
    "Previous",
    "next_maturity",
    "next_birthday",
    "detect_alerts",
    "aum_outflow",
    "near_upgrade",
    "risk_appetite_drift",
    "product_maturity",
    "birthday",
    "dormant",
    "demand_signal",
    "aml_red_flag",
]

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
_WIDE = ("aml_risk",)  # the dimensions whose score and inputs a rule reads


PREVIOUS_DIMENSIONS = ("risk_consistency", "behaviour_activity", "aml_risk")  # what the rules compare with
# the previous run's tags: a frame (customer_id, dimension, value), or a lookup
# `(dimension, customer_ids) -> values indexed by customer_id` that reads only the ids asked
Previous = pd.DataFrame | Callable[[str, np.ndarray], pd.Series] | None
Laid = dict[str, dict[str, np.ndarray]]  # dimension -> column -> values in the features' order


def _lay_out(tags: pd.DataFrame | None, ids: np.ndarray, dimensions=_RULE_DIMENSIONS) -> Laid:
    """The rules' dimensions of a tags frame as arrays aligned to `ids` (None where a customer
    has none; a customer's first row wins), built once per partition: splitting and reindexing
    the Arrow-text frame per rule read cost more than the rules themselves."""
    if tags is None or tags.empty:
        return {}
    # the rules' rows first, each column converted once (Arrow text → objects is the cost here);
    # the score and inputs only of the dimensions read for them
    keep = tags["dimension"].isin(dimensions).to_numpy()
    dims, customers = (tags[c][keep].to_numpy(dtype=object) for c in ("dimension", "customer_id"))
    wide = np.isin(dims, _WIDE)
    cols = {"value": tags["value"][keep].to_numpy(dtype=object)}
    for c in ("score", "inputs"):
        if c in tags:
            cols[c] = np.full(len(dims), None, dtype=object)
            cols[c][wide] = tags[c].take(np.flatnonzero(keep)[wide]).to_numpy(dtype=object)
    out: Laid = {}
    for d in dimensions:
        rows = np.flatnonzero(dims == d)
        if not len(rows):
            continue
        rows = rows[~pd.Index(customers[rows], dtype=object).duplicated()]  # each customer's first row
        at = pd.Index(customers[rows], dtype=object).get_indexer(ids)
        found = at >= 0
        out[d] = {}
        for c, values in cols.items():
            if c != "value" and d not in _WIDE:
                continue
            col = np.full(len(ids), None, dtype=object)
            col[found] = values[rows[at[found]]]
            col[pd.isna(col)] = None
            out[d][c] = col
    return out


def _tag(tags: Laid | pd.DataFrame | None, dimension: str, ids: pd.Series, column: str = "value") -> pd.Series:
    """One dimension's column per customer (aligned to `ids`; None where absent)."""
    by = tags if isinstance(tags, dict) else _lay_out(tags, ids.to_numpy(dtype=object), (dimension,))
    if dimension not in by or column not in by[dimension]:
        return pd.Series([None] * len(ids), index=ids.index, dtype=object)
    return pd.Series(by[dimension][column], index=ids.index, dtype=object)


def _before(previous: Laid | Callable | None, dimension: str, ids: pd.Series, need: np.ndarray) -> np.ndarray:
    """The previous run's value of `dimension` for the customers in `need`, None elsewhere (and
    where they had none): a rule asks only where its answer can depend on it."""
    out = np.full(len(ids), None, dtype=object)
    if previous is None or not need.any():
        return out
    if isinstance(previous, dict):
        if dimension in previous:
            out[need] = previous[dimension]["value"][need]
        return out
    j = np.flatnonzero(need)
    asked = ids.to_numpy(dtype=object)[j]
    got = previous(dimension, asked)
    if len(got):
        vals = got[~got.index.duplicated()].reindex(asked).to_numpy(dtype=object, copy=True)
        vals[pd.isna(vals)] = None
        out[j] = vals
    return out


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
    pref = _tag(tags, "risk_preference", ids).to_numpy()
    held = f["max_risk_held"].fillna(0).astype(int).to_numpy()
    bought = f["max_risk_bought"].fillna(0).astype(int).to_numpy()
    conservative = np.isin(pref.astype(str), [str(x) for x in cfg["conservative_levels"]])
    risky = np.maximum(held, bought) >= int(cfg["min_product_risk"])
    # the previous value decides "became" (only where it is above appetite now) and is told in
    # every hit's details
    above = now == "above_appetite"
    before = _before(previous, "risk_consistency", ids, above | (conservative & risky))
    became = above & (before != None) & (before != "above_appetite")  # noqa: E711
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


def next_maturity(opened, term, as_of: dt.date) -> np.ndarray:
    """The first maturity on or after `as_of` per account (term products roll over at maturity),
    as datetime64[D]: opened_on plus the smallest whole number of terms (at least one) that
    reaches `as_of`, a day past the month's end falling on its last day. Column-wise: a run
    reads every term account of the bank and keeps those maturing soon."""
    start = pd.DatetimeIndex(pd.to_datetime(np.asarray(opened, dtype=object))).normalize()
    term = np.asarray(term, dtype=np.int64)
    ref = pd.Timestamp(as_of)
    base = (start.year.to_numpy() - 1970) * 12 + start.month.to_numpy() - 1  # months since 1970-01
    day = start.day.to_numpy()
    k = np.maximum(1, -(-((ref.year - 1970) * 12 + ref.month - 1 - base) // term))

    def at(k: np.ndarray) -> np.ndarray:
        month = (base + k * term).astype("datetime64[M]")
        last = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(np.int64)
        return month.astype("datetime64[D]") + (np.minimum(day, last) - 1)

    d = at(k)
    while (late := d < np.datetime64(ref.date(), "D")).any():  # the month reached, the day not yet
        k = k + late
        d = at(k)
    return d


def product_maturity(f: pd.DataFrame, maturities: pd.DataFrame | None, s: AlertSettings) -> pd.DataFrame:
    cfg = s["product_maturity"]
    if maturities is None or maturities.empty or f.empty:
        return _frame([], "product_maturity", cfg["severity"], [], [], [])
    as_of = pd.Timestamp(f["as_of"].iloc[0]).date()
    # the partition's accounts, found by hash (Arrow text's `isin` converts its argument value by value)
    ids = pd.Index(f["customer_id"].to_numpy(dtype=object), dtype=object)
    m = maturities[ids.get_indexer(maturities["customer_id"].to_numpy(dtype=object)) >= 0].copy()
    if m.empty:
        return _frame([], "product_maturity", cfg["severity"], [], [], [])
    m["opened_on"] = pd.to_datetime(m["opened_on"]).dt.date
    due = next_maturity(m["opened_on"], m["term_months"].astype(int), as_of)
    days = (due - np.datetime64(as_of, "D")).astype(np.int64)
    soon = (days >= 0) & (days <= int(cfg["within_days"]))
    m = m[soon].assign(matures_on=due[soon].astype(object), days=days[soon])
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
    d = next_birthday(b, at)
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


def next_birthday(born: pd.DatetimeIndex, at: pd.Timestamp) -> pd.DatetimeIndex:
    """Each birthday's next date on or after `at` (a day): this year's (29 Feb → 28 Feb in other
    years), or next year's if it has passed. Column-wise: a run reads every birth date of the bank
    and keeps those within the window."""

    def nxt(y: int) -> pd.DatetimeIndex:
        feb29 = (born.month == 2) & (born.day == 29) & (not _leap(y))
        return pd.to_datetime(pd.DataFrame({"year": y, "month": born.month, "day": np.where(feb29, 28, born.day)}))

    d = pd.DatetimeIndex(nxt(at.year))
    return d.where(d >= at, pd.DatetimeIndex(nxt(at.year + 1)))


def _leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def dormant(f: pd.DataFrame, tags: pd.DataFrame, previous: pd.DataFrame | None, s: AlertSettings) -> pd.DataFrame:
    cfg = s["dormant"]
    ids = f["customer_id"]
    now = _tag(tags, "behaviour_activity", ids).to_numpy()
    before = _before(previous, "behaviour_activity", ids, now == "dormant")
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
    rank_now = now.map(order).astype(float).to_numpy()
    listed = now.isin(cfg["ratings"]).to_numpy()
    # a rise needs a rating above the lowest now; the previous rating is told in every hit's details
    on_rise = bool(cfg["on_rise"])
    before = pd.Series(_before(previous, "aml_risk", ids, listed | (on_rise & (rank_now > 0))), ids.index, object)
    score = pd.to_numeric(_tag(tags, "aml_risk", ids, "score"), errors="coerce").to_numpy(dtype=float)
    inputs = _tag(tags, "aml_risk", ids, "inputs").to_numpy()
    rank_before = before.map(order).astype(float).to_numpy()
    rose = on_rise & (rank_now > rank_before)  # NaN (no previous) compares False
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
    previous: Previous,
    settings: AlertSettings,
    std: Standard,
    maturities: pd.DataFrame | None = None,
    transfers: pd.DataFrame | None = None,
    birth_dates: pd.Series | None = None,
) -> pd.DataFrame:
    """Every enabled alert type over one partition of customers (features from
    `jobs.features`, `tags` this run's, `previous` the previous published run's — None on the
    first run, when the "became …" rules have nothing to compare with; or a lookup that reads
    the customers asked). Pure and vectorised."""
    ids = features["customer_id"].to_numpy(dtype=object)
    tags = _lay_out(tags, ids)
    previous = previous if previous is None or callable(previous) else _lay_out(previous, ids, PREVIOUS_DIMENSIONS)
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
