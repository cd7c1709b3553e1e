"""The strategy stage's functions as main had them before the tag grid (d77bf42), kept as the
reference the faster code is held to, row for row. Not imported by the product: a test
(tests/jobs/strategies/test_stage_reference.py) and `bench_strategy.py --reference` install them
with `main_code()` in place of the functions that replaced them, run the stage, and compare what
it wrote with what the code as it is writes.

Each function is main's text unchanged; only the imports differ (the names they read from the
modules around them). What they replaced:
- packages: `assign_packages` over a text pivot (`wide_tags`, `pivot_tags`) → the tag grid;
- engagement: `customer_frame`'s text pivot and its inputs read per row → the grid, per distinct;
- nba: `_decide`'s `isin` on Arrow text, `action_inputs`' inferred text → objects;
- association: `holdings`' inferred text → objects;
- arbitration: `arbitrate`'s due dates and `_reasons` per row → per distinct;
- points: `post_earned`'s events read into Python, `earned_points`' per-row packages and expiry
  dates, `_append_earned`'s per-row dates → the events posted inside the database (`points_post`);
- bulk: `_stored_column`'s bind processing per row → per distinct value.

And as main had them before the next-best actions' first-run work (619038d), at the end:
`suitable_mask` (three lookups per call → one), `recommend` (its holdings deduplicated and
numbered on text → on codes), `association_rules` (customers numbered in text order → in the
order found: the counts do not depend on it) and points' `_due` (the whole ledger grouped →
only the customers with earned points due).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record import bulk
from clientstrata.graph.record.models import Individual, PointsPosting
from clientstrata.jobs.classification.dimensions.risk import suitable
from clientstrata.jobs.classification.standard import Standard
from clientstrata.jobs.strategies import arbitration, engagement, nba, points, rule_cache
from clientstrata.jobs.strategies.actions import PRODUCT_OFFER, ActionSettings, action_settings, catalogue
from clientstrata.jobs.strategies.arbitration import (
    ALERT_NAMES_ZH,
    DECISION_COLUMNS,
    _empty,
    _plain,
    _suppressed,
    _used,
    decide,
)
from clientstrata.jobs.strategies.association import RULE_COLUMNS, Allowed, rank_within
from clientstrata.jobs.strategies.control import in_control
from clientstrata.jobs.strategies.engagement import _READ
from clientstrata.jobs.strategies.learning import posterior_rate
from clientstrata.jobs.strategies.nba import _ALERT_COLUMNS, ActionInputs, _by_customer, _of, _shared
from clientstrata.jobs.strategies.packages import PACKAGE_COLUMNS
from clientstrata.jobs.strategies.playbook import Playbook, Selector
from clientstrata.jobs.strategies.points import _append
from clientstrata.jobs.strategies.points_earn import EARN_COLUMNS, EVENT_COLUMNS, event_queries
from clientstrata.jobs.strategies.points_rules import PointsRules
from clientstrata.jobs.strategies.points_scans import record_scans

__all__ = ["assign_packages", "main_code"]


@contextmanager
def main_code() -> Iterator[None]:
    """Main's functions in place of those that replaced them, for as long as the block runs
    (then put back). `assign_packages` is not installed: call this module's."""
    swaps = [
        (nba, "_decide", _decide),
        (nba, "action_inputs", action_inputs),
        (nba, "holdings", holdings),
        (arbitration, "arbitrate", arbitrate),
        (points, "post_earned", post_earned),
        (bulk, "_stored_column", _stored_column),
        (engagement, "suitable_mask", suitable_mask),
        (engagement, "recommend", recommend),
        (rule_cache, "association_rules", association_rules),
        (points, "_due", _due),
    ]
    before = [(module, name, getattr(module, name)) for module, name, _ in swaps]
    try:
        for module, name, function in swaps:
            setattr(module, name, function)
        yield
    finally:
        for module, name, function in before:
            setattr(module, name, function)


def _events(rows: list[tuple]) -> pd.DataFrame:  # read_events' frame, text inferred as main had it
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)


# ---- jobs/strategies/packages.py


def pivot_tags(
    tags: pd.DataFrame, dims: list[str], columns: list[str], keep: str = "last"
) -> tuple[pd.Index, list[np.ndarray]]:
    """(customers in the order they first appear, one (customers × dims) object array per
    column of `columns`): the `keep` ("last" or "first") tag of a (customer, dimension) wins,
    None where there is none.
    Integer codes, not a pivot on text: a pivot of a run's partition spent most of the stage."""
    codes, uniques = pd.factorize(tags["customer_id"], sort=False, use_na_sentinel=False)
    customers = pd.Index(np.asarray(uniques, dtype=object), name="customer_id", dtype=object)
    d = pd.Index(dims).get_indexer(tags["dimension"])
    rows = np.flatnonzero(d >= 0)
    k = max(len(dims), 1)
    key = codes[rows].astype(np.int64) * k + d[rows]
    if keep == "last":
        _, last = np.unique(key[::-1], return_index=True)
        rows = rows[len(rows) - 1 - last]
    else:
        rows = rows[np.unique(key, return_index=True)[1]]
    out = []
    for col in columns:
        grid = np.full((len(customers), len(dims)), None, dtype=object)
        v = tags[col].iloc[rows].to_numpy(dtype=object)
        grid[codes[rows], d[rows]] = np.where(pd.isna(v), None, v)
        out.append(grid)
    return customers, out


def wide_tags(tags: pd.DataFrame, dimensions: tuple[str, ...] | list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values, Chinese labels): one row per customer, one column per dimension asked for;
    None where a customer has no such tag (no selector over it holds)."""
    dims = list(dict.fromkeys(dimensions))
    t = tags[["customer_id", "dimension", "value", *(["label_zh"] if "label_zh" in tags else [])]]
    customers, (values, zh) = pivot_tags(t, dims, ["value", "label_zh" if "label_zh" in t else "value"])
    return (
        pd.DataFrame(values, index=customers, columns=dims, dtype=object),
        pd.DataFrame(zh, index=customers, columns=dims, dtype=object),
    )


def _holds(values: pd.DataFrame, selector: Selector) -> np.ndarray:
    ok = np.ones(len(values), dtype=bool)
    for dim, allowed in selector.items():
        ok &= values[dim].isin(allowed).to_numpy() if dim in values else False
    return ok


def _why(values: pd.DataFrame, zh: pd.DataFrame, selector: Selector, mask: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """`wealth_tier = wealth, …` and `wealth_tier：财富客户、…` for the rows of `mask`."""
    en = zh_out = None
    for dim in selector:
        e = dim + " = " + values.loc[mask, dim].astype(str)
        z = dim + "：" + zh.loc[mask, dim].fillna(values.loc[mask, dim]).astype(str)
        en, zh_out = (e, z) if en is None else (en + ", " + e, zh_out + "，" + z)
    return en, zh_out


def assign_packages(tags: pd.DataFrame, playbook: Playbook) -> pd.DataFrame:
    """One row per customer of `tags` (PACKAGE_COLUMNS), in the order they first appear."""
    values, zh = wide_tags(tags, playbook.dimensions)
    n = len(values)
    package = np.full(n, None, dtype=object)
    selector = np.full(n, None, dtype=object)
    why_en = np.full(n, None, dtype=object)
    why_zh = np.full(n, None, dtype=object)
    free = np.ones(n, dtype=bool)
    for i, p in enumerate(playbook.packages):
        if not p.selectors:  # the catch-all: everyone no selector above chose
            package[free], selector[free] = p.value, f"packages[{i}]"
            why_en[free] = f"no selector of a package above it holds → {p.label_en} (the default package)"
            why_zh[free] = f"未满足以上任何服务包的选择条件 → {p.label_zh}（默认服务包）"
            free[:] = False
            break
        for j, s in enumerate(p.selectors):
            mask = free & _holds(values, s)
            if not mask.any():
                continue
            en, z = _why(values, zh, s, mask)
            package[mask], selector[mask] = p.value, f"packages[{i}].selectors[{j}]"
            why_en[mask] = (f"selector {j + 1} of {p.value}: " + en + f" → {p.label_en}").to_numpy()
            why_zh[mask] = (f"{p.label_zh}：满足选择条件{j + 1}（" + z + "）").to_numpy()
            free &= ~mask
    return pd.DataFrame(
        {
            "customer_id": values.index.to_numpy(dtype=object),
            "package": package,
            "selector": selector,
            "explanation_zh": why_zh,
            "explanation_en": why_en,
        },
        columns=PACKAGE_COLUMNS,
    )


# ---- jobs/strategies/engagement.py


def customer_frame(
    tags: pd.DataFrame, id_on_record: pd.Series | None = None, dimensions: set[str] | None = None
) -> pd.DataFrame:
    """The customers frame from a run's tags (TAG_COLUMNS, individuals' dimensions): one column
    per dimension (those in `dimensions` besides the ones read here; default every one), age and
    professional from the suitability tag's inputs, risk_level the valid questionnaire level
    (C1..C5, else None), kyc from `id_on_record` (customer_id → bool: an identity document on
    record) and the aml_risk rating (high: enhanced due diligence)."""
    t = tags[tags["customer_id"].notna()]
    if dimensions is not None:
        t = t[t["dimension"].isin(set(dimensions) | set(_READ))]
    dims = sorted(pd.unique(t["dimension"].to_numpy(dtype=object)))
    ids, grids = pivot_tags(t, dims, ["value", "inputs"] if "inputs" in t else ["value"], keep="first")
    out = pd.DataFrame(grids[0], columns=dims, dtype=object)
    out.insert(0, "customer_id", ids.to_numpy(dtype=object))
    has = "suitability" in dims and len(grids) > 1
    raw = grids[1][:, dims.index("suitability")] if has else np.full(len(out), None, dtype=object)
    age, professional = np.full(len(out), np.nan), np.zeros(len(out), dtype=bool)
    for n, i in enumerate(raw):  # one pass: a run's inputs are encoded JSON, one customer's decoded
        i = orjson.loads(i) if isinstance(i, (str, bytes)) else i
        if isinstance(i, dict):
            if i.get("age") is not None:
                age[n] = float(i["age"])
            professional[n] = bool(i.get("professional"))
    out["age"], out["professional"] = age, professional
    rp = out["risk_preference"] if "risk_preference" in out else pd.Series([None] * len(out))
    out["risk_level"] = rp.where(rp.astype(str).str.fullmatch("C[1-5]"), None).astype(object)
    has_id = (
        id_on_record.reindex(out["customer_id"].to_numpy()).fillna(False).astype(bool).to_numpy()
        if id_on_record is not None
        else np.ones(len(out), dtype=bool)
    )
    aml = out["aml_risk"] if "aml_risk" in out else pd.Series([None] * len(out))
    out["kyc"] = np.where(~has_id, "missing", np.where(aml.to_numpy() == "high", "enhanced_due_diligence", "verified"))
    return out


# ---- jobs/strategies/association.py


def holdings(conn, level: str = "product") -> pd.DataFrame:
    """customer_id, item: what each individual holds now — open accounts, running loans
    (status C/D) and cards — as product ids (`level="product"`) or families ("family")."""
    if level not in ("product", "family"):
        raise InvalidInput(f"level must be 'product' or 'family', not {level!r}")
    col = "p.product_id" if level == "product" else "p.family"
    sql = f"""
        SELECT a.owner_id AS customer_id, {col} AS item FROM accounts a
          JOIN products p ON p.product_id = a.product_id
          WHERE a.owner_type = 'individual' AND a.status <> 'closed'
        UNION SELECT a.owner_id, {col} FROM loans l JOIN accounts a ON a.account_id = l.account_id
          JOIN products p ON p.product_id = l.product_id
          WHERE a.owner_type = 'individual' AND l.status IN ('C', 'D')
        UNION SELECT c.holder_id, {col} FROM cards c JOIN products p ON p.product_id = c.product_id"""
    # the driver's own tuples, on the connection's transaction: building a Row per holding and
    # copying it into a tuple was most of this read
    cur = conn.connection.dbapi_connection.cursor()
    try:
        cur.execute(sql)
        rows = cur.fetchall()
    finally:
        cur.close()
    return pd.DataFrame(rows, columns=["customer_id", "item"])


# ---- jobs/strategies/nba.py


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
        who = pd.DataFrame(result.cursor.fetchall(), columns=["customer_id", "id_number", "rm_id"])
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


def _decide(inputs: ActionInputs, tags: pd.DataFrame, alerts: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    selectors = {d for spec in inputs.settings.services.values() for d in spec.get("segments") or {}}
    customers = customer_frame(tags, inputs.id_on_record, selectors)
    ids = customers["customer_id"].to_numpy(dtype=object)
    a = alerts[alerts["customer_id"].isin(ids)][_ALERT_COLUMNS] if len(alerts) else pd.DataFrame(columns=_ALERT_COLUMNS)
    h, hist = _of(inputs.holdings, ids), _of(inputs.history, ids)
    out = decide(customers, a, h, inputs.catalogue, inputs.rules, inputs.settings, today, hist, inputs.learned)
    rm = inputs.rm_of.reindex(out["customer_id"].to_numpy())
    out["rm_id"] = rm.astype(object).where(rm.notna(), None).to_numpy()
    return out


# ---- jobs/strategies/arbitration.py


def _reasons(d: pd.DataFrame, settings: ActionSettings, customers: pd.DataFrame) -> tuple[list[str], list[str]]:
    seg_of = {
        dim: dict(zip(customers["customer_id"], customers[dim]))
        for spec in settings.services.values()
        for dim in spec.get("segments") or {}
        if dim in customers
    }
    en, zh = [], []
    for r in _plain(d).itertuples(index=False):
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
            got = [f"{k} {seg_of[k].get(r.customer_id)}" for k in segs if k in seg_of]
            e = f"{r.label_en} — {', '.join(got) or 'every customer'}"
            z = f"{r.label_zh}——客户分层：{'，'.join(got) or '全体客户'}"
        learned = f" (learned from {int(r.reached)} reached)" if r.reached else ""
        en.append(f"{e}; expected response {r.propensity:.0%}{learned}, value CNY {r.value:,.0f}")
        zh.append(f"{z}；预计响应率{r.propensity:.0%}，预期价值{r.value:,.0f}元")
    return en, zh


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
    c["due_on"] = [as_of + dt.timedelta(days=int(n)) for n in c["due_days"]]
    c["reason_en"], c["reason_zh"] = _reasons(c, settings, customers)
    c["rank"] = c["rank"].astype(np.int64)
    for col in ("product_id", "product_risk", "trigger", "segment"):  # missing is None, never NaN
        c[col] = c[col].astype(object).where(c[col].notna(), None)
    return c[DECISION_COLUMNS]


# ---- jobs/strategies/points_earn.py


def earned_points(events: pd.DataFrame, rules: PointsRules, packages: pd.DataFrame) -> pd.DataFrame:
    """EARN_COLUMNS for the events that earn at least one point (pure). `packages`: customer_id,
    package (a customer without one earns ×1). Points: floor(amount / 100 × points_per_100 ×
    multiplier); they expire `expiry_months` after the event's month-day."""
    if events.empty:
        return pd.DataFrame(columns=EARN_COLUMNS)
    ev = events.reset_index(drop=True)
    rule = pd.Series([None] * len(ev), dtype=object)
    rate = np.zeros(len(ev))
    amount = ev["amount"].astype(float).to_numpy()
    for r in reversed(rules.earn):  # the first rule that takes an event wins: apply the last first
        takes = (ev["kind"] == r.source).to_numpy() & (amount >= r.min_amount)
        if r.families:
            takes &= ev["family"].isin(r.families).to_numpy()
        rule[takes] = r.value
        rate[takes] = r.points_per_100
    by = dict(zip(packages["customer_id"], packages["package"])) if len(packages) else {}
    package = ev["customer_id"].map(by)
    multiplier = package.map(rules.multipliers).fillna(1.0).to_numpy(dtype=float)
    points = np.floor(np.round(amount / 100 * rate * multiplier, 6)).astype(np.int64)
    occurred = pd.to_datetime(ev["occurred_at"], format="ISO8601")  # the driver's text on SQLite
    expires = (occurred + pd.DateOffset(months=rules.expiry_months)).dt.date
    out = pd.DataFrame(
        {
            "customer_id": ev["customer_id"],
            "source": ev["source"],
            "rule": rule,
            "points": points,
            "basis_amount": amount,
            "multiplier": multiplier,
            "package": package.astype(object).where(package.notna(), None),
            "occurred_at": occurred.dt.to_pydatetime(),
            "expires_on": expires,
        }
    )
    return out[out["rule"].notna() & (out["points"] > 0)].reset_index(drop=True)[EARN_COLUMNS]


# ---- jobs/strategies/points.py

_EARN_INSERT = (
    "INSERT INTO points_postings (customer_id, source, kind, rule, points, basis_amount, multiplier, package, "
    "occurred_at, expires_on, posted_at, posted_by) VALUES (?, ?, 'earn', ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (customer_id, source) DO NOTHING"
)


def _rows(conn: Connection, q: sa.Select) -> list[tuple]:
    result = conn.execute(q)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def post_earned(
    conn: Connection,
    playbook: Playbook,
    packages: pd.DataFrame,
    actor: str,
    now: dt.datetime | None = None,
    customer_ids: list[str] | None = None,
) -> dict:
    """Main's posting: the events read into Python (the same queries), the rule applied in
    pandas, the postings appended from Python. Answers as the code now does (a summary)."""
    rules = playbook.points
    if rules is None:
        return {"postings": 0, "points": 0, "events_read": 0}
    now = now or utcnow()
    found = event_queries(conn, rules, customer_ids)
    rows = [r for q in found.queries for r in _rows(conn, q)]
    events = _events(rows) if rows else pd.DataFrame(columns=EVENT_COLUMNS)
    earned = earned_points(events, rules, packages)
    _append_earned(conn, earned, actor, now)
    record_scans(conn, found.scans, now)
    return {"postings": len(earned), "points": int(earned["points"].sum()), "events_read": len(rows)}


def _append_earned(conn: Connection, earned: pd.DataFrame, actor: str, now: dt.datetime) -> int:
    """Append the earned postings and move the balances by exactly the points appended. On SQLite
    through the driver, a column at a time (a first run posts every event the bank ever had:
    SQLAlchemy's per-row parameter handling was most of its cost); elsewhere as `_append`."""
    if earned.empty:
        return 0
    if conn.dialect.name != "sqlite":
        rows = earned.assign(kind="earn", posted_at=now, posted_by=actor).to_dict("records")
        for r in rows:
            r["points"], r["basis_amount"], r["multiplier"] = (
                int(r["points"]),
                float(r["basis_amount"]),
                float(r["multiplier"]),
            )
        return _append(conn, rows, now)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite text for a datetime
    occurred = pd.Series(
        np.datetime_as_string(pd.to_datetime(earned["occurred_at"]).to_numpy("datetime64[us]"), unit="us")
    ).str.replace("T", " ", regex=False)
    expires = np.datetime_as_string(np.asarray(earned["expires_on"], dtype="datetime64[D]"), unit="D")
    package = earned["package"].astype(object)
    params = list(
        zip(
            earned["customer_id"].tolist(),
            earned["source"].tolist(),
            earned["rule"].tolist(),
            earned["points"].astype(np.int64).tolist(),
            earned["basis_amount"].astype(float).tolist(),
            earned["multiplier"].astype(float).tolist(),
            package.where(package.notna(), None).tolist(),
            occurred.tolist(),
            expires.tolist(),
            [stamp] * len(earned),
            [actor] * len(earned),
        )
    )
    customers = sorted(set(earned["customer_id"].tolist()))
    cur = conn.connection.dbapi_connection.cursor()
    try:
        cur.executemany(
            "INSERT INTO points_accounts (customer_id, balance, updated_at) VALUES (?, 0, ?) "
            "ON CONFLICT (customer_id) DO NOTHING",
            [(c, stamp) for c in customers],
        )
        cur.executemany(_EARN_INSERT, params)
        appended = cur.rowcount
        if appended == len(params):
            deltas = earned.groupby("customer_id")["points"].sum()
        else:  # another writer posted some of these sources first: what this call appended, from the ledger
            cur.execute(
                "SELECT customer_id, SUM(points) FROM points_postings "
                "WHERE kind = 'earn' AND posted_at = ? AND posted_by = ? GROUP BY customer_id",
                (stamp, actor),
            )
            deltas = pd.Series(dict(cur.fetchall()), dtype="int64")
        cur.executemany(  # sorted: one lock order
            "UPDATE points_accounts SET balance = balance + ?, updated_at = ? WHERE customer_id = ?",
            [(int(d), stamp, c) for c, d in sorted(deltas.items()) if d],
        )
    finally:
        cur.close()
    return appended


# ---- graph/record/bulk.py


def _stored_column(conn: Connection, column: sa.Column, values: pd.Series) -> list:
    """One column as the driver takes it: missing (None, NaN, NaT) as NULL, timestamps as
    datetimes, then the column type's own bind processing (SQLite stores datetimes as
    SQLAlchemy's fixed-width text, so an appended row compares in SQL like one the ORM wrote)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = list(values.dt.date if isinstance(column.type, sa.Date) else values.dt.to_pydatetime())
    else:
        out = values.to_numpy(dtype=object).tolist()
    missing = pd.isna(values).to_numpy()
    if missing.any():
        out = [None if m else v for v, m in zip(out, missing)]
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return [process(v) for v in out] if process is not None else out


# ---- jobs/strategies/engagement.py, association.py as the tag grid's code had them (619038d)


def suitable_mask(rows: pd.DataFrame, customers: pd.DataFrame) -> np.ndarray:
    """One bool per row (customer_id, product_risk): may that risk level be offered to that
    customer? `suitable()` decides each distinct (level, product level, professional) once; a
    customer missing from `customers` is never suitable for a risk-rated product."""
    if rows.empty:
        return np.zeros(0, dtype=bool)
    c = customers.drop_duplicates("customer_id").set_index("customer_id")
    ids = rows["customer_id"].to_numpy()
    known = pd.Index(c.index).get_indexer(ids) >= 0
    level = c["risk_level"].reindex(ids).astype(object).to_numpy()
    pro = c["professional"].reindex(ids).fillna(False).astype(bool).to_numpy()
    risk = rows["product_risk"].astype(object).to_numpy()
    # one code per distinct (level, product level, professional), decided once; no Python per row
    lv, lv_u = pd.factorize(level, use_na_sentinel=False)
    rk, rk_u = pd.factorize(risk, use_na_sentinel=False)
    combo = (lv.astype(np.int64) * len(rk_u) + rk) * 2 + pro
    distinct, inverse = np.unique(combo, return_inverse=True)

    def plain(v):
        return None if v is None or v != v else v

    decided = np.array(
        [suitable(plain(lv_u[k // 2 // len(rk_u)]), plain(rk_u[k // 2 % len(rk_u)]), bool(k % 2)) for k in distinct],
        dtype=bool,
    )
    ok = decided[inverse.reshape(-1)]
    unrated = pd.isna(rows["product_risk"]).to_numpy()
    return ok & (known | unrated)


def _basket_matrix(baskets: pd.DataFrame):
    from scipy import sparse

    b = baskets[["customer_id", "item"]].dropna()
    rows, customers = pd.factorize(b["customer_id"], sort=True)
    cols, items = pd.factorize(b["item"], sort=True)
    # duplicates dropped on the codes, not on the text
    _, first = np.unique(rows.astype(np.int64) * max(len(items), 1) + cols, return_index=True)
    b, rows, cols = b.iloc[np.sort(first)], rows[np.sort(first)], cols[np.sort(first)]
    x = sparse.csr_matrix((np.ones(len(b), dtype=np.int64), (rows, cols)), shape=(len(customers), len(items)))
    return x, np.asarray(items, dtype=object)


def association_rules(
    baskets: pd.DataFrame,
    min_support: float = 0.01,
    min_confidence: float = 0.1,
    min_lift: float = 1.0,
    max_len: int = 3,
    n_baskets: int | None = None,
) -> pd.DataFrame:
    """Rules A → c with |A| = 1 (and 2 when max_len ≥ 3) from a long frame customer_id, item.
    `n_baskets` is N; by default the number of customers in `baskets` (pass the number of all
    customers to count empty baskets too). Sorted by lift × confidence, best first."""
    if max_len not in (2, 3):
        raise InvalidInput("max_len must be 2 (pairs) or 3 (pairs and triples)")
    x, items = _basket_matrix(baskets)
    n = int(n_baskets if n_baskets is not None else x.shape[0])
    if n <= 0 or x.shape[1] == 0:
        return pd.DataFrame(columns=RULE_COLUMNS)
    if n < x.shape[0]:
        raise InvalidInput(f"n_baskets={n} is fewer than the {x.shape[0]} customers with holdings")
    count = np.asarray(x.sum(axis=0)).ravel()
    pair = (x.T @ x).toarray()  # items × items co-holding counts; diagonal = item counts
    min_count = min_support * n
    out = []

    a, c = np.nonzero(pair >= max(min_count, 1))
    keep = a != c
    a, c = a[keep], c[keep]
    out.append(
        pd.DataFrame(
            {
                "antecedent": [(items[i],) for i in a],
                "consequent": items[c],
                "antecedent_size": 1,
                "n_antecedent": count[a],
                "n_consequent": count[c],
                "n_both": pair[a, c],
            }
        )
    )

    if max_len == 3:
        ia, ib = np.nonzero(np.triu(pair >= max(min_count, 1), k=1))  # frequent pairs a < b
        if len(ia):
            both = x[:, ia].multiply(x[:, ib]).tocsc()  # baskets × frequent pairs
            triple = (both.T @ x).toarray()  # frequent pairs × items
            p, c3 = np.nonzero(triple >= max(min_count, 1))
            keep = (c3 != ia[p]) & (c3 != ib[p])
            p, c3 = p[keep], c3[keep]
            out.append(
                pd.DataFrame(
                    {
                        "antecedent": [(items[ia[j]], items[ib[j]]) for j in p],
                        "consequent": items[c3],
                        "antecedent_size": 2,
                        "n_antecedent": pair[ia[p], ib[p]],
                        "n_consequent": count[c3],
                        "n_both": triple[p, c3],
                    }
                )
            )

    rules = pd.concat(out, ignore_index=True)
    rules["n_baskets"] = n
    rules["support"] = rules["n_both"] / n
    rules["confidence"] = rules["n_both"] / rules["n_antecedent"]
    rules["lift"] = rules["confidence"] / (rules["n_consequent"] / n)
    rules = rules[(rules["confidence"] >= min_confidence) & (rules["lift"] >= min_lift)]
    for col in ("n_antecedent", "n_consequent", "n_both", "n_baskets"):
        rules[col] = rules[col].astype(np.int64)
    order = (rules["lift"] * rules["confidence"]).sort_values(ascending=False, kind="stable").index
    return rules.loc[order, RULE_COLUMNS].reset_index(drop=True)


def recommend(
    customer_holdings: pd.DataFrame, rules: pd.DataFrame, top_n: int = 3, *, allowed: Allowed
) -> pd.DataFrame:
    """Up to `top_n` products per customer that they do not hold yet, ranked by the best
    lift × confidence of a rule whose antecedent they hold.

    `allowed` is mandatory: it receives the candidates as a frame (customer_id, product_id)
    and returns one bool per row; refused candidates are dropped before ranking. Columns:
    customer_id, rank, product_id, score, lift, confidence, because (the antecedent)."""
    cols = ["customer_id", "rank", "product_id", "score", "lift", "confidence", "because"]
    if allowed is None or not callable(allowed):
        raise InvalidInput(
            "recommend needs allowed=: the suitability check is a hard rule in every recommendation path"
        )
    h = customer_holdings[["customer_id", "item"]].dropna().drop_duplicates()
    if h.empty or rules.empty:
        return pd.DataFrame(columns=cols)
    # integer codes in the order of the text (sort=True), so sorting the codes sorts the text:
    # merges and sorts on text keys were most of the cost at a million customers
    cust, customers = pd.factorize(h["customer_id"], sort=True)
    ant = rules["antecedent"].to_numpy(dtype=object)
    names = pd.Index(
        pd.unique(
            np.concatenate([h["item"].to_numpy(dtype=object), rules["consequent"].to_numpy(dtype=object)])
        ).astype(object)
    ).sort_values()
    item = names.get_indexer(h["item"])
    n_items = len(names)
    r = pd.DataFrame(
        {
            "consequent": names.get_indexer(rules["consequent"]),
            "score": (rules["lift"] * rules["confidence"]).to_numpy(dtype=float),
            "lift": rules["lift"].to_numpy(dtype=float),
            "confidence": rules["confidence"].to_numpy(dtype=float),
            "rule": np.arange(len(rules)),
            "size": rules["antecedent_size"].to_numpy(),
        }
    )
    hc = pd.DataFrame({"customer": cust.astype(np.int64), "item": item.astype(np.int64)})
    single = r[r["size"] == 1].assign(item=[names.get_loc(a[0]) if a[0] in names else -1 for a in ant[r["size"] == 1]])
    cand = [hc.merge(single.drop(columns="size"), on="item")]
    double = r[r["size"] == 2]
    if len(double):
        pairs_ant = ant[r["size"] == 2]
        double = double.assign(
            a=[names.get_loc(t[0]) if t[0] in names else -1 for t in pairs_ant],
            b=[names.get_loc(t[1]) if t[1] in names else -1 for t in pairs_ant],
        )
        pairs = hc.merge(hc, on="customer", suffixes=("_a", "_b"))
        pairs = pairs[pairs["item_a"] < pairs["item_b"]].rename(columns={"item_a": "a", "item_b": "b"})
        cand.append(pairs.merge(double.drop(columns="size"), on=["a", "b"]))
    c = pd.concat(cand, ignore_index=True)
    cc, pc = c["customer"].to_numpy(np.int64), c["consequent"].to_numpy(np.int64)
    c = c[~np.isin(cc * n_items + pc, hc["customer"].to_numpy() * n_items + hc["item"].to_numpy())]  # not held
    # per (customer, product) the best score (first of equals in candidate order), as a stable sort would
    order = np.lexsort((-c["score"].to_numpy(), c["consequent"].to_numpy(), c["customer"].to_numpy()))
    c = c.iloc[order]
    key = c["customer"].to_numpy(np.int64) * n_items + c["consequent"].to_numpy(np.int64)
    c = c[np.r_[True, key[1:] != key[:-1]]] if len(c) else c
    if c.empty:
        return pd.DataFrame(columns=cols)
    c = c.assign(
        customer_id=customers.to_numpy(dtype=object)[c["customer"].to_numpy()],
        product_id=names.to_numpy(dtype=object)[c["consequent"].to_numpy()],
    )
    mask = np.asarray(allowed(c[["customer_id", "product_id"]].reset_index(drop=True)), dtype=bool)
    if mask.shape != (len(c),):
        raise InvalidInput(
            f"allowed returned {mask.shape[0] if mask.ndim else 'a scalar'} values "
            f"for {len(c)} candidates: it must return one bool per row"
        )
    c = c[mask]
    c = c.iloc[np.lexsort((c["consequent"].to_numpy(), -c["score"].to_numpy(), c["customer"].to_numpy()))]
    rank = rank_within(c["customer"].to_numpy())
    c = c.assign(rank=rank)[rank <= top_n]
    because = pd.Series([" + ".join(t) for t in ant], dtype=object)
    c = c.assign(because=because.to_numpy()[c["rule"].to_numpy()])
    return c[cols].reset_index(drop=True)


# ---- jobs/strategies/points.py as the tag grid's code had it (619038d)


def _due(conn: Connection, as_of: dt.date, customer_ids: list[str] | None) -> pd.DataFrame:
    """customer_id, earned_due (earned points expiring by `as_of`), debited (redeemed + expired)."""
    p = PointsPosting.__table__.c
    earned_due = sa.func.sum(sa.case((sa.and_(p.kind == "earn", p.expires_on <= as_of), p.points), else_=0))
    debited = -sa.func.sum(sa.case((p.kind != "earn", p.points), else_=0))
    # only the customers with something to expire come back: every run asks, few have any
    q = sa.select(p.customer_id, earned_due, debited).group_by(p.customer_id).having(earned_due > debited)
    if customer_ids is not None:
        q = q.where(p.customer_id.in_(customer_ids))
    return pd.DataFrame([tuple(r) for r in conn.execute(q)], columns=["customer_id", "earned_due", "debited"])
