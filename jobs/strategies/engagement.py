"""Engagement policies (参与策略): which actions may be taken for which customer.

Pure and vectorised: a customers frame, their alerts and holdings, the catalogue and the
cross-sell rules in, candidate (customer, action) rows out. Three policies, in order:
- applicability — a service action fires on its triggers (the customer's alerts of those types)
  and its segment selectors (every listed dimension holds one of the listed values); a product
  offer comes from the association rules (a product the customer does not hold, that customers
  holding what they hold also hold), or from its family's base rate when no rule names it;
- eligibility — age (the block's minimum, an action's own range), KYC (no product offer without
  verified identity and outside enhanced due diligence), not already held;
- suitability (适当性) — a hard rule: every row that carries a product risk level passes
  `jobs.classification.dimensions.risk.suitable` or is dropped. `suitable_mask` is the one
  check, applied here and again by the arbitration on its output.
"""

from __future__ import annotations

import re

import numpy as np
import orjson
import pandas as pd

from clientstrata.jobs.classification.dimensions.risk import suitable

from .actions import PRODUCT_OFFER, ActionSettings
from .association import recommend
from .tag_grid import TagCodes, pivot_tags

__all__ = ["CUSTOMER_COLUMNS", "KYC_STATUSES", "customer_frame", "suitable_mask", "candidates", "CANDIDATE_COLUMNS"]

# The customers frame every policy reads; one more column per dimension (its value) for the
# segment selectors.
CUSTOMER_COLUMNS = ["customer_id", "age", "kyc", "risk_level", "professional"]
KYC_STATUSES = ("verified", "missing", "enhanced_due_diligence")
_READ = ("wealth_tier", "risk_preference", "suitability", "aml_risk")  # what the policies read themselves
CANDIDATE_COLUMNS = [
    "customer_id",
    "action_key",
    "trigger",
    "trigger_reason",
    "prior_mean",
    "rule_confidence",
    "rule_lift",
    "because",
]


def customer_frame(
    tags: pd.DataFrame | TagCodes, id_on_record: pd.Series | None = None, dimensions: set[str] | None = None
) -> pd.DataFrame:
    """The customers frame from a run's tags (TAG_COLUMNS, individuals' dimensions; or their
    grid, `tag_grid.pivot_tags`): one column per dimension (those in `dimensions` besides the
    ones read here; default every one), age and professional from the suitability tag's inputs,
    risk_level the valid questionnaire level (C1..C5, else None), kyc from `id_on_record`
    (customer_id → bool: an identity document on record) and the aml_risk rating (high:
    enhanced due diligence). A customer with no tag of those dimensions is not in it; a
    (customer, dimension) with several tags reads the first."""
    grid = tags if isinstance(tags, TagCodes) else pivot_tags(tags)
    wanted = [d for d in grid.dimensions if dimensions is None or d in set(dimensions) | set(_READ)]
    named = ~pd.isna(grid.customers) if len(grid) else np.zeros(0, dtype=bool)
    if dimensions is None:
        who = np.flatnonzero(named)
    else:  # in the order they first appear among the tags of those dimensions
        rows = np.stack([grid.rows(d, "first") for d in wanted], axis=1) if wanted else np.full((len(grid), 1), -1)
        first = np.where(rows >= 0, rows, np.iinfo(np.int64).max).min(axis=1)
        who = np.flatnonzero(named & (rows >= 0).any(axis=1))
        who = who[np.argsort(first[who], kind="stable")]
    dims = sorted(d for d in wanted if (grid.rows(d, "first")[who] >= 0).any())
    out = pd.DataFrame(
        np.stack([grid.values(d, "first")[who] for d in dims], axis=1) if dims else np.empty((len(who), 0), object),
        columns=dims,
        dtype=object,
    )
    out.insert(0, "customer_id", grid.customers[who])
    has = "suitability" in dims and "inputs" in grid.tags
    raw = grid.objects_at("inputs", "suitability", who, "first") if has else np.full(len(out), None, dtype=object)
    out["age"], out["professional"] = _age_and_professional(raw)
    out["risk_level"] = _questionnaire_level(grid, who) if "risk_preference" in dims else None
    out["risk_level"] = out["risk_level"].astype(object)
    has_id = (
        _on_record(id_on_record, out["customer_id"].to_numpy())
        if id_on_record is not None
        else np.ones(len(out), dtype=bool)
    )
    high = grid.holds("aml_risk", ["high"], "first")[who] if "aml_risk" in dims else np.zeros(len(out), dtype=bool)
    out["kyc"] = np.where(~has_id, "missing", np.where(high, "enhanced_due_diligence", "verified"))
    return out


def _on_record(id_on_record: pd.Series, ids: np.ndarray) -> np.ndarray:
    """Per id, its flag in `id_on_record` (False where it has none, or none is known): found by
    position in the index, whose hash table the bank's series keeps for every partition (a
    `reindex` built a new series and filled its gaps on objects, three times the lookup)."""
    at = id_on_record.index.get_indexer(ids)
    flags = np.append(id_on_record.fillna(False).astype(bool).to_numpy(), False)
    return flags[at]


def _age_and_professional(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Age (NaN where unknown) and the professional flag from each suitability tag's inputs: a
    run's are encoded JSON, read once per distinct text (a partition's customers share a few
    thousand); one customer's are already decoded."""
    if pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        codes, texts = pd.factorize(raw)  # no inputs: -1, the last entry below
        age, professional = _read_inputs([*texts, None])
        return age[codes], professional[codes]
    return _read_inputs(raw)


def _read_inputs(raw) -> tuple[np.ndarray, np.ndarray]:
    age, professional = np.full(len(raw), np.nan), np.zeros(len(raw), dtype=bool)
    for n, i in enumerate(raw):
        i = orjson.loads(i) if isinstance(i, (str, bytes)) else i
        if isinstance(i, dict):
            if i.get("age") is not None:
                age[n] = float(i["age"])
            professional[n] = bool(i.get("professional"))
    return age, professional


def _questionnaire_level(grid: TagCodes, who: np.ndarray) -> np.ndarray:
    """The risk_preference value where it is a questionnaire level (C1..C5), else None: decided
    once per distinct value."""
    level = np.array(
        [v if re.fullmatch("C[1-5]", str(v)) else None for v in grid.vocabulary[:-1]] + [None], dtype=object
    )
    return level[grid.codes("risk_preference", "first")[who]]


def suitable_mask(rows: pd.DataFrame, customers: pd.DataFrame) -> np.ndarray:
    """One bool per row (customer_id, product_risk): may that risk level be offered to that
    customer? `suitable()` decides each distinct (level, product level, professional) once; a
    customer missing from `customers` is never suitable for a risk-rated product."""
    if rows.empty:
        return np.zeros(0, dtype=bool)
    c = customers.drop_duplicates("customer_id")
    # each row's customer found once (one lookup, not one per column read); a row whose customer
    # is missing reads the appended gap: no level, not professional
    at = pd.Index(c["customer_id"].to_numpy(dtype=object), dtype=object).get_indexer(rows["customer_id"].to_numpy())
    known = at >= 0
    level = np.append(c["risk_level"].to_numpy(dtype=object), None)[at]
    pro = np.append(c["professional"].fillna(False).astype(bool).to_numpy(), False)[at]
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


def _selected(customers: pd.DataFrame, segments: dict) -> np.ndarray:
    keep = np.ones(len(customers), dtype=bool)
    for dim, values in (segments or {}).items():
        col = customers[dim] if dim in customers else pd.Series([None] * len(customers))
        keep &= col.isin(list(values)).to_numpy()
    return keep


def _aged(customers: pd.DataFrame, lo, hi) -> np.ndarray:
    age = customers["age"].astype(float).to_numpy()
    ok = np.ones(len(customers), dtype=bool)
    if lo is not None:
        ok &= age >= float(lo)
    if hi is not None:
        ok &= age <= float(hi)
    return ok


def _services(customers, alerts, cat, settings) -> list[pd.DataFrame]:
    out = []
    services = cat[cat["action"] != PRODUCT_OFFER].set_index("action")
    for name, spec in settings.services.items():
        if name not in services.index:
            continue
        who = customers[
            _selected(customers, spec.get("segments")) & _aged(customers, spec.get("min_age"), spec.get("max_age"))
        ]
        triggers = list(spec.get("triggers") or [])
        if triggers:
            fired = alerts[alerts["alert_type"].isin(triggers)].drop_duplicates("customer_id")
            fired = fired[fired["customer_id"].isin(who["customer_id"])]
            ids, trig, why = fired["customer_id"], fired["alert_type"], fired["reason"]
        else:
            ids, trig, why = who["customer_id"], None, None
        out.append(
            pd.DataFrame(
                {
                    "customer_id": ids.to_numpy(dtype=object),
                    "action_key": name,
                    "trigger": trig.to_numpy(dtype=object) if trig is not None else None,
                    "trigger_reason": why.to_numpy(dtype=object) if why is not None else None,
                    "prior_mean": float(services.at[name, "base_rate"]),
                    "rule_confidence": np.nan,
                    "rule_lift": np.nan,
                    "because": None,
                },
                columns=CANDIDATE_COLUMNS,
            )
        )
    return out


def _offers(customers, holdings, cat, rules, settings) -> pd.DataFrame:
    """Cross-sell candidates from the association rules; `recommend` itself refuses unsuitable
    products (its `allowed` is this module's `suitable_mask`)."""
    offers = cat[cat["action"] == PRODUCT_OFFER]
    ok = customers["kyc"].eq("verified").to_numpy() if settings.eligibility["products_need_kyc"] else True
    who = customers[ok & _aged(customers, settings.eligibility["min_age"], None)]
    if offers.empty or who.empty or rules is None or rules.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    h = holdings[holdings["customer_id"].isin(who["customer_id"])]
    risk = offers.set_index("product_id")["product_risk"]

    def allowed(c: pd.DataFrame) -> np.ndarray:
        return suitable_mask(c.assign(product_risk=c["product_id"].map(risk)), who)

    r = rules[rules["consequent"].isin(offers["product_id"])]
    rec = recommend(h, r, top_n=len(offers), allowed=allowed)
    key = offers.set_index("product_id")["action_key"]
    return pd.DataFrame(
        {
            "customer_id": rec["customer_id"].to_numpy(dtype=object),
            "action_key": rec["product_id"].map(key).to_numpy(dtype=object),
            "trigger": "cross_sell",
            "trigger_reason": None,
            "prior_mean": rec["confidence"].astype(float).clip(0.0001, 0.9999).to_numpy(),
            "rule_confidence": rec["confidence"].astype(float).to_numpy(),
            "rule_lift": rec["lift"].astype(float).to_numpy(),
            "because": rec["because"].to_numpy(dtype=object),
        },
        columns=CANDIDATE_COLUMNS,
    )


def candidates(
    customers: pd.DataFrame,
    alerts: pd.DataFrame,
    holdings: pd.DataFrame,
    cat: pd.DataFrame,
    rules: pd.DataFrame | None,
    settings: ActionSettings,
) -> pd.DataFrame:
    """Every (customer, action) the policies allow (CANDIDATE_COLUMNS), suitability applied.
    alerts: customer_id, alert_type, reason; holdings: customer_id, item (product ids)."""
    adults = customers[_aged(customers, settings.eligibility["min_age"], None)]
    parts = [*_services(adults, alerts, cat, settings), _offers(customers, holdings, cat, rules, settings)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    c = pd.concat(parts, ignore_index=True)
    risk = cat.set_index("action_key")["product_risk"]
    c = c[suitable_mask(c.assign(product_risk=c["action_key"].map(risk)), customers)]
    return c.reset_index(drop=True)
