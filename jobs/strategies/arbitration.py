"""Arbitration (仲裁): from the candidates the policies allow to each customer's top-k actions.

`decide` is the pure entry, DataFrame in and out, run per partition for the whole bank in a
classification run and for one customer on request (`jobs.strategies.nba.next_best_actions`):

    priority = propensity^w_p × value^w_v × lever^w_l      (weights: `actions.weights`)

propensity being the learned response rate (`learning.posterior_rate`: the base rate or the
cross-sell rule's confidence as prior, the recorded outcomes as evidence). Then the contact policy:
an action reached within its cooldown, or declined within `declined_suppress_days`, is not
offered; at most `max_per_channel` actions per customer per channel in `period_days`, counting
those already reached; then the top `top_k` per customer. Each chosen row is checked against
the action's control group (`control.in_control`): held-out rows are kept (the effect is
measured against them) but flagged `control` and never delivered. Every row says why, in
Chinese and English. Suitability is checked again on the output: no path returns a product
above the customer's level.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .actions import PRODUCT_OFFER, ActionSettings
from .association import rank_within
from .control import in_control
from .distinct import distinct_rows
from .engagement import candidates, suitable_mask
from .learning import REACHED, posterior_rate

__all__ = ["DECISION_COLUMNS", "HISTORY_COLUMNS", "ALERT_NAMES_ZH", "decide", "arbitrate"]

DECISION_COLUMNS = [
    "customer_id",
    "rank",
    "action",
    "action_key",
    "product_id",
    "product_risk",
    "channel",
    "trigger",
    "segment",
    "propensity",
    "value",
    "lever",
    "priority",
    "control",
    "reason_en",
    "reason_zh",
    "due_on",
]
# Recorded outcomes the contact policy reads: one row per outcome of an action taken before.
HISTORY_COLUMNS = ["nba_id", "customer_id", "action_key", "channel", "outcome", "at"]
ALERT_NAMES_ZH = {
    "aum_outflow": "资产流失预警",
    "near_upgrade": "临界升级",
    "risk_appetite_drift": "风险偏好漂移",
    "product_maturity": "产品即将到期",
    "birthday": "生日关怀",
    "dormant": "账户休眠",
    "demand_signal": "需求信号",
    "aml_red_flag": "反洗钱预警",
}


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=DECISION_COLUMNS)


def _suppressed(c: pd.DataFrame, history: pd.DataFrame | None, settings: ActionSettings, as_of: dt.date) -> np.ndarray:
    """Rows whose action is in its cooldown (reached since as_of − cooldown_days) or was declined
    since as_of − declined_suppress_days."""
    if history is None or history.empty or c.empty:
        return np.zeros(len(c), dtype=bool)
    h = history.assign(day=pd.to_datetime(history["at"]).dt.normalize())
    today = pd.Timestamp(as_of)
    last = h[h["outcome"].isin(REACHED)].groupby(["customer_id", "action_key"])["day"].max().rename("last_reached")
    declined = h[h["outcome"] == "declined"].groupby(["customer_id", "action_key"])["day"].max().rename("declined")
    j = (
        c[["customer_id", "action_key", "cooldown_days"]]
        .join(last, on=["customer_id", "action_key"])
        .join(declined, on=["customer_id", "action_key"])
    )
    cool = (today - j["last_reached"]).dt.days < j["cooldown_days"].astype(float)
    dec = (today - j["declined"]).dt.days < float(settings.contact["declined_suppress_days"])
    return (cool.fillna(False) | dec.fillna(False)).to_numpy(dtype=bool)


def _used(history: pd.DataFrame | None, settings: ActionSettings, as_of: dt.date) -> pd.Series:
    """(customer_id, channel) → actions already reached in the contact period."""
    if history is None or history.empty:
        return pd.Series(dtype=np.int64)
    h = history[history["outcome"].isin(REACHED)]
    since = pd.Timestamp(as_of) - pd.Timedelta(days=int(settings.contact["period_days"]))
    h = h[pd.to_datetime(h["at"]) >= since]
    return h.groupby(["customer_id", "channel"])["nba_id"].nunique().rename("used")


# what a reason's words read of an action row (besides the customer's segments): the action,
# its labels, its product's risk and its value are the catalogue's row for the action key (one
# row per key: `arbitrate` finds it by the key), so the key tells them apart, one column for five
_WORDED = [
    "action_key",
    "rule_confidence",
    "rule_lift",
    "because",
    "trigger",
    "trigger_reason",
    "reached",
    "propensity",
]


def _reasons(d: pd.DataFrame, settings: ActionSettings, customers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's reason in English and Chinese: worded once per distinct wording (what the
    words read: the action, its rule or trigger, the customer's segments, the rates) and handed
    to every row that has it — a partition's 50,000 actions have a few thousand."""
    if d.empty:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=object)
    dims = list(
        dict.fromkeys(
            dim for spec in settings.services.values() for dim in spec.get("segments") or {} if dim in customers
        )
    )
    by = customers.drop_duplicates("customer_id", keep="last")  # a customer's segments: its last row's
    at = pd.Index(by["customer_id"].to_numpy(dtype=object)).get_indexer(d["customer_id"].to_numpy(dtype=object))
    segments = {dim: np.append(by[dim].to_numpy(dtype=object), None)[at] for dim in dims}
    first, inverse = distinct_rows([d[c] for c in _WORDED] + list(segments.values()))
    en, zh = [], []
    for i, r in zip(first, _plain(d.iloc[first]).itertuples(index=False)):
        if r.action == PRODUCT_OFFER:
            risk = r.product_risk or "no risk rating"
            lift = "" if r.rule_lift != r.rule_lift else f", lift {r.rule_lift:.1f}"
            conf = "" if r.rule_confidence != r.rule_confidence else f"{r.rule_confidence:.0%} of customers who hold "
            e = f"{r.label_en} ({risk}) — {conf}{r.because} also hold it{lift}; suitable for this customer"
            z = (
                f"{r.label_zh}（{r.product_risk or '无风险评级'}）——持有{r.because}的客户中"
                f"{'' if r.rule_confidence != r.rule_confidence else f'{r.rule_confidence:.0%}'}也持有"
                f"{'' if r.rule_lift != r.rule_lift else f'（提升度{r.rule_lift:.1f}）'}，符合适当性"
            )
        elif isinstance(r.trigger, str):
            e = f"{r.label_en} — {r.trigger.replace('_', ' ')}: {r.trigger_reason}"
            z = f"{r.label_zh}——触发：{ALERT_NAMES_ZH.get(r.trigger, r.trigger)}"
        else:
            segs = settings.services.get(r.action, {}).get("segments") or {}
            got = [f"{k} {segments[k][i]}" for k in segs if k in segments]
            e = f"{r.label_en} — {', '.join(got) or 'every customer'}"
            z = f"{r.label_zh}——客户分层：{'，'.join(got) or '全体客户'}"
        learned = f" (learned from {int(r.reached)} reached)" if r.reached else ""
        en.append(f"{e}; expected response {r.propensity:.0%}{learned}, value CNY {r.value:,.0f}")
        zh.append(f"{z}；预计响应率{r.propensity:.0%}，预期价值{r.value:,.0f}元")
    return np.asarray(en, dtype=object)[inverse], np.asarray(zh, dtype=object)[inverse]


def arbitrate(
    cands: pd.DataFrame,
    customers: pd.DataFrame,
    cat: pd.DataFrame,
    settings: ActionSettings,
    as_of: dt.date,
    history: pd.DataFrame | None = None,
    learned: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Candidates (`engagement.candidates`) to the ranked decisions (DECISION_COLUMNS)."""
    if cands.empty:
        return _empty()
    # the catalogue's columns by position, not a merge on the text key (an inner merge keeps
    # the candidates' order, and so does this)
    keys = pd.Index(cat["action_key"].to_numpy(dtype=object))
    pos = keys.get_indexer(cands["action_key"])
    known = pos >= 0
    c = cands[known].reset_index(drop=True)
    info = cat.drop(columns=["base_rate", "action_key"]).iloc[pos[known]].reset_index(drop=True)
    c = pd.concat([c, info], axis=1)
    if learned is not None and len(learned):
        ev = learned.drop_duplicates("action_key").set_index("action_key")
        c["reached"] = ev["reached"].reindex(c["action_key"]).to_numpy()
        c["responded"] = ev["responded"].reindex(c["action_key"]).to_numpy()
    else:
        c["reached"], c["responded"] = np.nan, np.nan
    c["reached"] = c["reached"].fillna(0).astype(np.int64)
    c["propensity"] = posterior_rate(c["prior_mean"], settings.prior_strength, c["reached"], c["responded"])
    w = settings.weights
    c["priority"] = (
        c["propensity"] ** float(w["propensity"]) * c["value"] ** float(w["value"]) * c["lever"] ** float(w["lever"])
    )
    c = c[~_suppressed(c, history, settings, as_of)]
    # sorted and grouped on integer codes in the text's order (factorize sort=True), not on text
    cust = pd.factorize(c["customer_id"], sort=True)[0].astype(np.int64)
    act = pd.factorize(c["action_key"], sort=True)[0].astype(np.int64)
    order = np.lexsort((act, -c["priority"].to_numpy(dtype=float), cust))
    c, cust, act = c.iloc[order], cust[order], act[order]
    first = ~pd.Series(cust * (int(act.max(initial=0)) + 1) + act).duplicated().to_numpy()
    c, cust = c[first], cust[first]
    used = _used(history, settings, as_of)
    c = c.join(used, on=["customer_id", "channel"]) if len(used) else c.assign(used=0)
    cap = c["channel"].map(settings.contact["max_per_channel"]).fillna(0) - c["used"].fillna(0)
    chan = pd.factorize(c["channel"])[0].astype(np.int64)
    per_channel = pd.Series(cust * (int(chan.max(initial=0)) + 1) + chan)
    keep = per_channel.groupby(per_channel.to_numpy(), sort=False).cumcount().to_numpy() < cap.to_numpy()
    c, cust = c[keep], cust[keep]
    rank = rank_within(cust)
    c = c.assign(rank=rank)[rank <= settings.top_k]
    c = c[suitable_mask(c, customers)]  # the hard rule, once more on what leaves
    if c.empty:
        return _empty()
    c = c.reset_index(drop=True)
    c["control"] = in_control(c, c["control_share"].to_numpy(), str(settings.control["salt"]))
    seg = customers.drop_duplicates("customer_id").set_index("customer_id")
    c["segment"] = (
        seg["wealth_tier"].reindex(c["customer_id"].to_numpy()).to_numpy(dtype=object) if "wealth_tier" in seg else None
    )
    days, distinct = pd.factorize(c["due_days"])  # a date per distinct number of days, not per row
    c["due_on"] = np.array([as_of + dt.timedelta(days=int(n)) for n in distinct], dtype=object)[days]
    c["reason_en"], c["reason_zh"] = _reasons(c, settings, customers)
    c["rank"] = c["rank"].astype(np.int64)
    for col in ("product_id", "product_risk", "trigger", "segment"):  # missing is None, never NaN
        c[col] = c[col].astype(object).where(c[col].notna(), None)
    return c[DECISION_COLUMNS]


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as Python objects: `isin` on Arrow strings walks them in Python, 100× slower."""
    text = [c for c in df.columns if pd.api.types.is_string_dtype(df[c]) and df[c].dtype != object]
    return df.astype({c: object for c in text}) if text else df


def decide(
    customers: pd.DataFrame,
    alerts: pd.DataFrame,
    holdings: pd.DataFrame,
    cat: pd.DataFrame,
    rules: pd.DataFrame | None,
    settings: ActionSettings,
    as_of: dt.date,
    history: pd.DataFrame | None = None,
    learned: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The next-best actions of `customers` (engagement policies, then arbitration): the same
    function for a partition of the bank and for one customer."""
    customers, alerts, holdings = (_plain(customers), _plain(alerts), _plain(holdings))
    cands = candidates(customers, alerts, holdings, cat, rules, settings)
    return arbitrate(cands, customers, cat, settings, as_of, history, learned)
