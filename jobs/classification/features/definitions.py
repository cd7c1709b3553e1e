"""The individual features, defined once as SQL over the extracts (`extract.EXTRACTS`).

Plain ANSI aggregates, CASE, UNION, ROW_NUMBER and CAST, which DuckDB (a run on one
machine) and Spark SQL (a run on a cluster, over Parquet extracts) both read; dates and times
arrive as timestamps (the extract parsed them once, with the TRY_CAST these definitions used to
apply to text), so a NULL or malformed date is already NULL here; the few things
the two spell differently go through `DIALECTS` (seconds since the epoch, a sorted comma-joined
list). Every value is inlined as a literal: numbers from the validated standard, dates the run
computed, months checked to be `YYYY-MM` — nothing a user typed reaches the text unchecked.

The query returns one row per individual with the columns of `COLUMNS` (month columns under
safe aliases `aum_mN` / `hh_aum_mN`, renamed by `engine`), in customer_id order."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from clientstrata.graph.stores.base import ECOSYSTEM_FEATURES
from clientstrata.jobs.classification.standard import Standard
from clientstrata.jobs.ingest.bundle import ASSET_FAMILIES

from .transactions import TRANSACTION_CHANNELS

__all__ = ["DIALECTS", "FeatureQuery", "feature_sql"]

DIALECTS = {
    "duckdb": {"secs": "epoch({})", "list_agg": "string_agg({0}, ',' ORDER BY {0})"},
    "spark": {"secs": "unix_seconds({})", "list_agg": "array_join(array_sort(collect_list({0})), ',')"},
}
_MONTH = re.compile(r"^\d{4}-\d{2}$")


@dataclass(frozen=True)
class FeatureQuery:
    """The SQL and what its columns become: `kinds` maps every output column to
    'object' (None when missing) | 'str'
    (pandas' string dtype, never missing) | 'float' | 'int' | 'bool'; `renames` maps the month aliases to `aum:YYYY-MM` names."""

    sql: str
    kinds: dict[str, str]
    renames: dict[str, str]


def _lit(x: str) -> str:
    return "'" + str(x).replace("'", "''") + "'"


def _num(x) -> str:
    return f"CAST({float(x)!r} AS DOUBLE)"


def feature_sql(std: Standard, as_of: dt.date, months: list[str], has_txn: bool, dialect: str) -> FeatureQuery:
    """The features query for `dialect` ('duckdb' or 'spark')."""
    d = DIALECTS[dialect]
    for m in months:
        if not _MONTH.match(m):
            raise ValueError(f"balance month {m!r} is not YYYY-MM")

    def secs(x: str) -> str:
        return d["secs"].format(x)

    def ts(x: str) -> str:  # the extracts' times are timestamps already (parsed once in `extract`)
        return f"CAST({x} AS TIMESTAMP)"

    def days(later: str, earlier: str) -> str:  # whole days between two timestamps, floored like pandas
        return f"FLOOR(({secs(later)} - {secs(earlier)}) / 86400)"

    def agg(x: str) -> str:
        return d["list_agg"].format(x)

    fx = std.fx_to_cny
    whens = " ".join(f"WHEN {_lit(c)} THEN {_num(r)}" for c, r in fx.items() if c.isalpha() and len(c) == 3)

    def cny(col: str) -> str:
        return f"(CASE {col} {whens} ELSE NULL END)"

    ref = f"TIMESTAMP '{as_of.isoformat()} 00:00:00'"
    ref_next = f"TIMESTAMP '{(as_of + dt.timedelta(days=1)).isoformat()} 00:00:00'"
    year_ago = as_of - dt.timedelta(days=365)
    since = f"TIMESTAMP '{year_ago.isoformat()} 00:00:00'"
    families = ", ".join(_lit(f) for f in ASSET_FAMILIES)
    mk = {f"m{i}": m for i, m in enumerate(months)}
    last = f"m{len(months) - 1}"
    mortgage_term = std.dimensions.get("lifecycle_stage", {}).get("mortgage_min_term_months", 120)
    aml = std.dimensions.get("aml_risk", {})
    thr = float(aml.get("cash_reporting_threshold", 50_000))
    slo = thr * (1 - float(aml.get("structuring_margin", 0.1)))
    risky = [c for c in aml.get("high_risk_countries", []) if str(c).isalpha() and len(str(c)) == 2]
    risky_sql = ", ".join(_lit(c) for c in risky) or "''"
    rio = aml.get("rapid_in_out", {"window_days": 3, "min_amount": 50_000, "out_ratio": 0.8})
    rio_min, rio_ratio, rio_days = _num(rio["min_amount"]), _num(rio["out_ratio"]), int(rio["window_days"])

    per_month = ", ".join(f"SUM(CASE WHEN month = {_lit(m)} THEN v END) AS {k}" for k, m in mk.items())
    per_family = ", ".join(
        f"SUM(CASE WHEN month = {_lit(mk[last])} AND family = {_lit(x)} THEN v END) AS bal_{x}" for x in ASSET_FAMILIES
    )
    cur_family = ", ".join(f"SUM(CASE WHEN family = {_lit(x)} THEN v END) AS bal_{x}" for x in ASSET_FAMILIES)
    chan = ", ".join(f"SUM(CASE WHEN channel = {_lit(c)} THEN 1 ELSE 0 END) AS ch_{c}" for c in TRANSACTION_CHANNELS)
    hh_month = ", ".join(f"SUM(CASE WHEN b.month = {_lit(m)} THEN b.v END) AS {k}" for k, m in mk.items())
    running = "l.status IN ('C', 'D')"
    risk = "TRY_CAST(SUBSTR(p.risk_level, 2, 1) AS INTEGER)"

    def month_col(k: str) -> str:
        own = f"COALESCE(om.{k}, 0)" + (" + COALESCE(oc.cur, 0)" if k == last else "")
        return own

    def hh_col(k: str) -> str:
        pooled = f"COALESCE(hm.{k}, 0)" + (" + COALESCE(hc.cur, 0)" if k == last else "")
        return f"CASE WHEN pp.household_id IS NULL THEN {month_col(k)} ELSE {pooled} END"

    tenure_from = f"COALESCE({ts('pp.onboarded_on')}, pc.first_opened)"
    select = [
        "pp.customer_id",
        f"{days(ref, ts('pp.birth_date'))} / 365.25 AS age",
        "pp.gender",
        "pp.occupation",
        "pp.region",
        "pp.household_id",
        "pp.household_role",
        "pp.annual_income",
        "pp.credit_score",
        "COALESCE(pp.is_pep, 0) <> 0 AS is_pep",
        "COALESCE(pp.has_id_number, 0) <> 0 AS has_id_number",
        "COALESCE(hs.household_size, 1) AS household_size",
        "COALESCE(hs.children, 0) AS children",
        *(f"{month_col(k)} AS aum_{k}" for k in mk),
        f"{month_col(last)} AS aum",
        *(f"COALESCE(om.bal_{x}, 0) + COALESCE(oc.bal_{x}, 0) AS bal_{x}" for x in ASSET_FAMILIES),
        *(f"{hh_col(k)} AS hh_aum_{k}" for k in mk),
        "COALESCE(fam.families, '') AS families",
        "COALESCE(pc.risk_held, 0) AS max_risk_held",
        "COALESCE(pc.risk_bought, 0) AS max_risk_bought",
        f"{days(ref, tenure_from)} / 365.25 AS tenure_years",
        "COALESCE(TRY_CAST(SUBSTR(q.risk_level, 2, 1) AS INTEGER), 0) AS q_level",
        "q.score AS q_score",
        "CAST(CAST(q.assessed AS DATE) AS STRING) AS q_assessed_on",
        f"CAST(CAST({ts('q.valid_until')} AS DATE) AS STRING) AS q_valid_until",
        "COALESCE(q.is_professional, 0) <> 0 AS q_professional",
        "COALESCE(ln.loans_count, 0) AS loans_count",
        "COALESCE(ln.loans_outstanding, 0) AS loans_outstanding",
        "COALESCE(ln.loan_monthly_payment, 0) AS loan_monthly_payment",
        *(f"COALESCE(ln.loans_{s}, 0) AS loans_{s}" for s in "ABCD"),
        "COALESCE(ln.max_dpd, 0) AS max_dpd",
        "COALESCE(ln.has_mortgage, 0) > 0 AS has_mortgage",
        "COALESCE(em.salary, 0) AS salary_monthly",
        "em.customer_id IS NOT NULL AS employed",
        "COALESCE(ind.industries, '') AS linked_industries",
        "ct.customer_id IS NOT NULL AS controls_enterprise",
        "COALESCE(tx.txn_count, 0) AS txn_count",
        "COALESCE(tx.cash_count, 0) AS cash_count",
        "COALESCE(tx.cross_border_count, 0) AS cross_border_count",
        "COALESCE(tx.high_risk_country_count, 0) AS high_risk_country_count",
        "COALESCE(tx.structuring_count, 0) AS structuring_count",
        *(f"COALESCE(tx.ch_{c}, 0) AS ch_{c}" for c in TRANSACTION_CHANNELS),
        "COALESCE(tx.txn_amount, 0) AS txn_amount",
        "COALESCE(tx.cash_amount, 0) AS cash_amount",
        f"{days(ref_next, 'tx.last_txn')} AS days_since_last_txn",
        "COALESCE(ri.n, 0) AS rapid_in_out_count",
        *(f"COALESCE(eco_{k}.n, 0) AS {k}" for k in ECOSYSTEM_FEATURES),
    ]
    sql = f"""
WITH
pp AS (
  SELECT i.customer_id, i.birth_date, i.gender, i.occupation, i.annual_income, i.credit_score, i.is_pep,
         i.has_id_number, i.onboarded_on, b.region,
         CASE WHEN h.household_id IS NOT NULL THEN m.household_id END AS household_id,
         CASE WHEN h.household_id IS NOT NULL THEN m.role END AS household_role
  FROM individuals i LEFT JOIN branches b ON b.branch_id = i.branch_id
  LEFT JOIN household_members m ON m.customer_id = i.customer_id
  LEFT JOIN households h ON h.household_id = m.household_id AND h.status = 'confirmed'),
hs AS (
  SELECT household_id, COUNT(*) AS household_size, SUM(CASE WHEN role = 'child' THEN 1 ELSE 0 END) AS children
  FROM household_members GROUP BY household_id),
asset AS (
  SELECT a.account_id, a.owner_id, a.balance, a.status, p.family, {cny("a.currency")} AS rate
  FROM accounts a JOIN products p ON p.product_id = a.product_id
  WHERE a.owner_type = 'individual' AND p.family IN ({families})),
bal AS (
  SELECT x.owner_id, b.month, x.family, b.avg_daily_balance * x.rate AS v
  FROM asset x JOIN balances_monthly b ON b.account_id = x.account_id WHERE b.month >= {_lit(months[0])}),
cur AS (
  SELECT x.owner_id, x.family, x.balance * x.rate AS v FROM asset x
  WHERE x.balance IS NOT NULL AND x.status <> 'closed'
    AND NOT EXISTS (SELECT 1 FROM balances_monthly b WHERE b.account_id = x.account_id)),
om AS (SELECT owner_id, {per_month}, {per_family} FROM bal GROUP BY owner_id),
oc AS (SELECT owner_id, SUM(v) AS cur, {cur_family} FROM cur GROUP BY owner_id),
hm AS (
  SELECT m.household_id, {hh_month}
  FROM household_members m JOIN bal b ON b.owner_id = m.customer_id GROUP BY m.household_id),
hc AS (
  SELECT m.household_id, SUM(c.v) AS cur
  FROM household_members m JOIN cur c ON c.owner_id = m.customer_id GROUP BY m.household_id),
prods AS (
  SELECT a.owner_id AS customer_id, p.family,
         MAX(CASE WHEN a.status <> 'closed' THEN {risk} END) AS risk_held,
         MAX(CASE WHEN {ts("a.opened_on")} >= TIMESTAMP '{year_ago.isoformat()} 00:00:00' THEN {risk} END)
           AS risk_bought,
         SUM(CASE WHEN a.status <> 'closed' THEN 1 ELSE 0 END) AS open_accounts,
         MIN({ts("a.opened_on")}) AS first_opened
  FROM accounts a JOIN products p ON p.product_id = a.product_id
  WHERE a.owner_type = 'individual' GROUP BY a.owner_id, p.family),
pc AS (
  SELECT customer_id, MAX(risk_held) AS risk_held, MAX(risk_bought) AS risk_bought,
         MIN(first_opened) AS first_opened FROM prods GROUP BY customer_id),
held AS (
  SELECT customer_id, family FROM prods WHERE open_accounts > 0
  UNION SELECT a.owner_id, 'loan' FROM loans l JOIN accounts a ON a.account_id = l.account_id
    WHERE a.owner_type = 'individual' AND {running}
  UNION SELECT holder_id, 'card' FROM cards
  UNION SELECT h.customer_id, p.family FROM account_holders h JOIN accounts a ON a.account_id = h.account_id
    JOIN products p ON p.product_id = a.product_id WHERE a.status <> 'closed'),
fam AS (SELECT customer_id, {agg("family")} AS families FROM held GROUP BY customer_id),
q AS (
  SELECT customer_id, score, risk_level, valid_until, is_professional, {ts("assessed_on")} AS assessed,
         ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY {ts("assessed_on")} DESC NULLS FIRST) AS rn
  FROM risk_questionnaires),
ln AS (
  SELECT a.owner_id AS customer_id, COUNT(*) AS loans_count,
         SUM(CASE WHEN {running} THEN COALESCE(l.outstanding, l.principal) ELSE 0 END) AS loans_outstanding,
         SUM(CASE WHEN {running} THEN COALESCE(l.monthly_payment, 0) ELSE 0 END) AS loan_monthly_payment,
         {", ".join(f"SUM(CASE WHEN l.status = '{s}' THEN 1 ELSE 0 END) AS loans_{s}" for s in "ABCD")},
         MAX(l.days_past_due) AS max_dpd,
         MAX(CASE WHEN {running} AND l.term_months >= {_num(mortgage_term)} THEN 1 ELSE 0 END) AS has_mortgage
  FROM loans l JOIN accounts a ON a.account_id = l.account_id
  WHERE a.owner_type = 'individual' GROUP BY a.owner_id),
em AS (
  SELECT e.customer_id, SUM(e.monthly_salary) AS salary
  FROM employment e JOIN enterprises en ON en.enterprise_id = e.enterprise_id GROUP BY e.customer_id),
ct AS (
  SELECT DISTINCT c.customer_id FROM enterprise_control c JOIN enterprises en ON en.enterprise_id = c.enterprise_id),
inds AS (
  SELECT e.customer_id, en.industry FROM employment e JOIN enterprises en ON en.enterprise_id = e.enterprise_id
    WHERE en.industry IS NOT NULL
  UNION SELECT c.customer_id, en.industry FROM enterprise_control c
    JOIN enterprises en ON en.enterprise_id = c.enterprise_id WHERE en.industry IS NOT NULL),
ind AS (SELECT customer_id, {agg("industry")} AS industries FROM inds GROUP BY customer_id),
t AS (
  SELECT a.owner_id AS customer_id, {ts("t.booked_at")} AS booked, t.direction, t.channel,
         t.amount * {cny("t.currency")} AS amt, COALESCE(t.is_cash, 0) <> 0 AS cash,
         t.counterparty_country AS country
  FROM transactions t JOIN accounts a ON a.account_id = t.account_id
  WHERE a.owner_type = 'individual' AND {ts("t.booked_at")} >= {since}),
tx AS (
  SELECT customer_id, COUNT(*) AS txn_count, SUM(amt) AS txn_amount,
         SUM(CASE WHEN cash THEN amt ELSE 0 END) AS cash_amount,
         SUM(CASE WHEN cash THEN 1 ELSE 0 END) AS cash_count,
         SUM(CASE WHEN country <> 'CN' THEN 1 ELSE 0 END) AS cross_border_count,
         SUM(CASE WHEN country IN ({risky_sql}) THEN 1 ELSE 0 END) AS high_risk_country_count,
         SUM(CASE WHEN cash AND direction = 'credit' AND amt >= {_num(slo)} AND amt < {_num(thr)}
                  THEN 1 ELSE 0 END) AS structuring_count,
         MAX(booked) AS last_txn, {chan}
  FROM t GROUP BY customer_id),
rd AS (
  SELECT customer_id, CAST(booked AS DATE) AS day,
         SUM(CASE WHEN direction = 'credit' THEN amt ELSE 0 END) AS amount_in,
         SUM(CASE WHEN direction = 'debit' THEN amt ELSE 0 END) AS amount_out
  FROM t GROUP BY customer_id, CAST(booked AS DATE) HAVING SUM(amt) >= {rio_min}),
rw AS (
  SELECT customer_id, FLOOR({secs("CAST(day AS TIMESTAMP)")} / 86400 / {rio_days}) AS w,
         SUM(amount_in) AS amount_in, SUM(amount_out) AS amount_out
  FROM rd GROUP BY customer_id, FLOOR({secs("CAST(day AS TIMESTAMP)")} / 86400 / {rio_days})),
ri AS (
  SELECT customer_id, SUM(CASE WHEN amount_in >= {rio_min} AND amount_out >= {rio_ratio} * amount_in
                               THEN 1 ELSE 0 END) AS n
  FROM rw GROUP BY customer_id),
eco_payroll_employer AS (
  SELECT customer_id, 1 AS n FROM employment WHERE COALESCE(payroll, 0) <> 0 GROUP BY customer_id),
eco_controls AS (
  SELECT customer_id, COUNT(DISTINCT enterprise_id) AS n FROM enterprise_control GROUP BY customer_id),
eco_household_members AS (
  SELECT m.customer_id, COUNT(*) AS n FROM household_members m
  JOIN household_members o ON o.household_id = m.household_id AND o.customer_id <> m.customer_id
  GROUP BY m.customer_id),
co_held AS (
  SELECT owner_id AS cid, account_id FROM accounts WHERE owner_type = 'individual'
  UNION SELECT customer_id, account_id FROM account_holders WHERE role <> 'owner'),
eco_co_holders AS (
  SELECT cid AS customer_id, COUNT(DISTINCT hid) AS n FROM (
    SELECT c.cid, a.owner_id AS hid FROM co_held c JOIN accounts a ON a.account_id = c.account_id
    WHERE a.owner_type = 'individual'
    UNION ALL SELECT c.cid, h.customer_id FROM co_held c JOIN account_holders h ON h.account_id = c.account_id
    WHERE h.role <> 'owner') x
  WHERE hid <> cid GROUP BY cid),
eco_supply_chain AS (
  SELECT cid AS customer_id, COUNT(DISTINCT other) AS n FROM (
    SELECT c.customer_id AS cid, s.buyer_id AS other FROM enterprise_control c
    JOIN supply_chain s ON s.supplier_id = c.enterprise_id
    UNION ALL SELECT c.customer_id, s.supplier_id FROM enterprise_control c
    JOIN supply_chain s ON s.buyer_id = c.enterprise_id) x
  GROUP BY cid)
SELECT {", ".join(select)}
FROM pp
LEFT JOIN hs ON hs.household_id = pp.household_id
LEFT JOIN om ON om.owner_id = pp.customer_id
LEFT JOIN oc ON oc.owner_id = pp.customer_id
LEFT JOIN hm ON hm.household_id = pp.household_id
LEFT JOIN hc ON hc.household_id = pp.household_id
LEFT JOIN fam ON fam.customer_id = pp.customer_id
LEFT JOIN pc ON pc.customer_id = pp.customer_id
LEFT JOIN q ON q.customer_id = pp.customer_id AND q.rn = 1
LEFT JOIN ln ON ln.customer_id = pp.customer_id
LEFT JOIN em ON em.customer_id = pp.customer_id
LEFT JOIN ct ON ct.customer_id = pp.customer_id
LEFT JOIN ind ON ind.customer_id = pp.customer_id
LEFT JOIN tx ON tx.customer_id = pp.customer_id
LEFT JOIN ri ON ri.customer_id = pp.customer_id
{" ".join(f"LEFT JOIN eco_{k} ON eco_{k}.customer_id = pp.customer_id" for k in ECOSYSTEM_FEATURES)}
ORDER BY pp.customer_id"""
    return FeatureQuery(
        sql,
        _kinds(mk),
        {**{f"aum_{k}": f"aum:{m}" for k, m in mk.items()}} | {f"hh_aum_{k}": f"hh_aum:{m}" for k, m in mk.items()},
    )


def _kinds(mk: dict[str, str]) -> dict[str, str]:
    """Every column of the features frame in order, with its kind (`engine` conforms the dtypes)."""
    o, t, f, i, b = "object", "str", "float", "int", "bool"
    cols = [("customer_id", t), ("as_of", t), ("age", f)]
    cols += [(c, o) for c in ("gender", "occupation", "region", "household_id", "household_role")]
    cols += [("annual_income", f), ("credit_score", f), ("is_pep", b), ("has_id_number", b)]
    cols += [("household_size", i), ("children", i)]
    cols += [(f"aum_{k}", f) for k in mk] + [("aum", f)] + [(f"bal_{x}", f) for x in ASSET_FAMILIES]
    cols += [(f"hh_aum_{k}", f) for k in mk]
    cols += [("families", t), ("max_risk_held", i), ("max_risk_bought", i), ("tenure_years", f)]
    cols += [("q_level", i), ("q_score", f), ("q_assessed_on", o), ("q_valid_until", o), ("q_professional", b)]
    cols += [("loans_count", i), ("loans_outstanding", f), ("loan_monthly_payment", f)]
    cols += [(f"loans_{s}", i) for s in "ABCD"] + [("max_dpd", f), ("has_mortgage", b)]
    cols += [("salary_monthly", f), ("employed", b), ("linked_industries", t), ("controls_enterprise", b)]
    cols += [(c, i) for c in ("txn_count", "cash_count", "cross_border_count", "high_risk_country_count")]
    cols += [("structuring_count", i)] + [(f"ch_{c}", i) for c in TRANSACTION_CHANNELS]
    cols += [("txn_amount", f), ("cash_amount", f), ("days_since_last_txn", f), ("txn_data", b)]
    cols += [("rapid_in_out_count", i)] + [(k, i) for k in ECOSYSTEM_FEATURES]
    return dict(cols)
