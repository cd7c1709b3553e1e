"""Per-customer features read from the relational record (and the graph).

Reads aggregate in SQL so a million customers' transactions never travel to Python row
by row; the results are DataFrames keyed by customer_id.

`individual_features` — one row per individual, every column a dimension reads (amounts CNY,
dates `YYYY-MM-DD` text, counts over the 12 months before `as_of`):
  identity      customer_id, as_of, age, gender, occupation, region, is_pep, has_id_number, tenure_years
  household     household_id, household_role, household_size (1 without one), children — confirmed
                households only: a candidate (inferred, awaiting review) does not pool AUM yet
  assets        `aum:YYYY-MM` (last 12 months), aum (latest), `hh_aum:YYYY-MM` (household; own
                when no household), bal_deposit / bal_wealth_management / bal_fund / bal_insurance
  products      families (comma-joined, held now), max_risk_held, max_risk_bought (0 = none, 1..5 = R1..R5)
  questionnaire q_level (0 = none, 1..5), q_score, q_assessed_on, q_valid_until, q_professional
  credit        annual_income, credit_score, salary_monthly, employed, controls_enterprise, linked_industries,
                loans_count, loans_A..loans_D, loans_outstanding, loan_monthly_payment, max_dpd, has_mortgage
  transactions  txn_count, txn_amount, cash_count, cash_amount, cross_border_count, high_risk_country_count,
                structuring_count, rapid_in_out_count, ch_mobile / ch_online / ch_branch / ch_atm / ch_pos,
                days_since_last_txn (NaN: none), txn_data (the record holds transactions at all)
  graph         payroll_employer, controls, household_members, co_holders, supply_chain — the
                counts `GraphStore.ecosystem_features` answers, read here in SQL from the tables
                sync-graph projects, per range (loading a million-customer graph cost minutes)

`enterprise_features` — one row per enterprise: industry, size, registered_capital,
annual_revenue, loans_*, max_dpd, suppliers, buyers, employees, payroll_employees, controllers.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.jobs.ingest.bundle import ASSET_FAMILIES

__all__ = [
    "customers",
    "monthly_aum",
    "current_aum",
    "product_families",
    "reference_date",
    "individual_features",
    "iter_individual_features",
    "enterprise_features",
    "aum_columns",
    "ecosystem_counts",
    "AUM_PREFIX",
    "HH_AUM_PREFIX",
]


def _frame(conn: Connection, sql: str, **params) -> pd.DataFrame:
    return pd.read_sql(sa.text(sql), conn, params=params)


def customers(conn: Connection) -> pd.DataFrame:
    return _frame(conn, "SELECT customer_id, name, birth_date, branch_id, rm_id FROM individuals ORDER BY customer_id")


def _to_cny(df: pd.DataFrame, amount: str, fx: dict[str, float]) -> pd.Series:
    rate = df["currency"].map(fx)
    unknown = sorted(set(df.loc[rate.isna(), "currency"]))
    if unknown:
        raise ValueError(f"no exchange rate to CNY for {', '.join(unknown)}: add it to the standard's fx_to_cny")
    return df[amount] * rate


def monthly_aum(conn: Connection, fx: dict[str, float]) -> pd.DataFrame:
    """Long frame customer_id, month, aum (CNY): monthly daily-average balances of the asset
    accounts an individual owns. Accounts without monthly figures count with their current
    balance in the latest month, so a bank that sends only balances still gets tiers."""
    fams = ", ".join(f"'{f}'" for f in ASSET_FAMILIES)  # constants, not input
    monthly = _frame(
        conn,
        f"""
        SELECT a.owner_id AS customer_id, b.month, a.currency, SUM(b.avg_daily_balance) AS amount
        FROM balances_monthly b JOIN accounts a ON a.account_id = b.account_id
        JOIN products p ON p.product_id = a.product_id
        WHERE a.owner_type = 'individual' AND p.family IN ({fams})
        GROUP BY a.owner_id, b.month, a.currency""",
    )
    latest = monthly["month"].max() if len(monthly) else None
    current = _frame(
        conn,
        f"""
        SELECT a.owner_id AS customer_id, a.currency, SUM(a.balance) AS amount
        FROM accounts a JOIN products p ON p.product_id = a.product_id
        WHERE a.owner_type = 'individual' AND p.family IN ({fams}) AND a.balance IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM balances_monthly b WHERE b.account_id = a.account_id)
        GROUP BY a.owner_id, a.currency""",
    )
    if len(current):
        current["month"] = latest or pd.Timestamp.today().strftime("%Y-%m")
        monthly = pd.concat([monthly, current], ignore_index=True)
    monthly["aum"] = _to_cny(monthly, "amount", fx) if len(monthly) else 0.0
    out = monthly.groupby(["customer_id", "month"], as_index=False)["aum"].sum()
    return out.sort_values(["customer_id", "month"]).reset_index(drop=True)


def current_aum(monthly: pd.DataFrame) -> pd.Series:
    """AUM in the latest month of the data, per customer (0 for those without that month)."""
    if monthly.empty:
        return pd.Series(dtype=float, name="aum")
    latest = monthly["month"].max()
    return monthly[monthly["month"] == latest].set_index("customer_id")["aum"]


def product_families(conn: Connection) -> pd.DataFrame:
    """customer_id, families: the sorted, comma-joined product families an individual holds
    now (open accounts, running loans, cards)."""
    df = _frame(
        conn,
        """
        SELECT a.owner_id AS customer_id, p.family FROM accounts a
          JOIN products p ON p.product_id = a.product_id
          WHERE a.owner_type = 'individual' AND a.status <> 'closed'
        UNION SELECT a.owner_id, 'loan' FROM loans l JOIN accounts a ON a.account_id = l.account_id
          WHERE a.owner_type = 'individual' AND l.status IN ('C', 'D')
        UNION SELECT c.holder_id, 'card' FROM cards c""",
    )
    if df.empty:
        return pd.DataFrame(columns=["customer_id", "families"])
    return (
        df.drop_duplicates()
        .sort_values(["customer_id", "family"])
        .groupby("customer_id")["family"]
        .agg(",".join)
        .rename("families")
        .reset_index()
    )


# --- the wide features frames every dimension reads ---------------------------------------

CHANNELS = ("mobile", "online", "branch", "atm", "pos")
CHUNK = 50_000
AUM_PREFIX, HH_AUM_PREFIX = "aum:", "hh_aum:"


def aum_columns(features: pd.DataFrame, prefix: str = AUM_PREFIX) -> list[str]:
    """The monthly AUM columns (`aum:YYYY-MM`), oldest first."""
    return sorted(c for c in features.columns if c.startswith(prefix))


def _scalar(conn: Connection, sql: str, **params):
    return conn.execute(sa.text(sql), params).scalar()


def _as_date(x) -> dt.date | None:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    return pd.Timestamp(x).date()


def reference_date(conn: Connection) -> dt.date:
    """The date the data describes: the end of the latest balance month, or the latest dated
    event in the record (PKDD'99 has no balances). Ages, tenures and recency count from here,
    so a rerun on the same data gives the same tags whatever the wall clock says."""
    month = _scalar(conn, "SELECT MAX(month) FROM balances_monthly")
    found = []
    if month:
        found.append((pd.Period(month, "M").end_time).date())
    # the latest booking account by account: one seek each in (account_id, booked_at), where a
    # plain MAX(booked_at) read all 43M transactions of a 1M-customer bank (40 s)
    for sql in (
        "SELECT MAX((SELECT MAX(t.booked_at) FROM transactions t WHERE t.account_id = a.account_id)) FROM accounts a",
        "SELECT MAX(opened_on) FROM accounts",
        "SELECT MAX(granted_on) FROM loans",
        "SELECT MAX(issued_on) FROM cards",
        "SELECT MAX(assessed_on) FROM risk_questionnaires",
    ):
        d = _as_date(_scalar(conn, sql))
        if d:
            found.append(d)
    return max(found) if found else dt.date.today()


def _flag(s: pd.Series) -> pd.Series:
    """A boolean column as read from SQLite (0/1) or PostgreSQL (bool), missing = False."""
    return pd.to_numeric(s.astype(object).where(s.notna(), 0), errors="coerce").fillna(0).astype(bool)


def _ranges(conn: Connection, size: int):
    """Keyset ranges (first id, last id, count) of `size` customers, in id order, one page of
    ids in memory at a time."""
    after = ""
    while True:
        ids = list(
            conn.execute(
                sa.text("SELECT customer_id FROM individuals WHERE customer_id > :after ORDER BY customer_id LIMIT :n"),
                {"after": after, "n": size},
            ).scalars()
        )
        if not ids:
            return
        yield ids[0], ids[-1], len(ids)
        after = ids[-1]


def _fx_case(col: str, fx: dict[str, float]) -> str:
    """SQL converting an amount to CNY; rates are floats from the validated standard."""
    whens = " ".join(f"WHEN '{c}' THEN {float(r)!r}" for c, r in fx.items() if c.isalpha() and len(c) == 3)
    return f"(CASE {col} {whens} ELSE NULL END)"


def individual_features(
    conn: Connection,
    graph,
    std,
    as_of: dt.date | None = None,
    chunk: int = CHUNK,
    progress: bool | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """One row per individual with every column the dimensions read (see `jobs/dimensions`).

    Customers are read in keyset ranges of customer_id (`chunk` at a time) and every table is
    aggregated in SQL per range, so memory is bounded by the chunk, not by the transactions."""
    return pd.concat(
        list(iter_individual_features(conn, graph, std, as_of, chunk, progress, workers)), ignore_index=True
    )


def iter_individual_features(
    conn: Connection,
    graph,
    std,
    as_of: dt.date | None = None,
    chunk: int | None = None,
    progress: bool | None = None,
    workers: int | None = None,
):
    """`individual_features` one keyset range at a time (a generator of DataFrames, in id
    order). `graph` is no longer read (the ecosystem counts come from SQL, `ecosystem_counts`);
    kept for callers.

    With more than one range, `workers` processes (default: one per core) build ranges side by
    side, each on its own connection: the aggregation is SQL and pandas, which hold one core
    each, so threads would not help. A database only this process can see (SQLite in memory)
    is read here, one range after another."""
    from clientstrata.jobs.progress import bar

    as_of = as_of or reference_date(conn)
    total = conn.execute(sa.text("SELECT COUNT(*) FROM individuals")).scalar()
    months = list(conn.execute(sa.text("SELECT DISTINCT month FROM balances_monthly ORDER BY month DESC")).scalars())[
        :12
    ][::-1]
    months = months or [pd.Timestamp(as_of).strftime("%Y-%m")]
    has_txn = _scalar(conn, "SELECT 1 FROM transactions LIMIT 1") is not None
    ranges = list(_ranges(conn, chunk or CHUNK))
    url = conn.engine.url
    workers = min(workers or os.cpu_count() or 1, len(ranges))
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        workers = 1
    with bar(total, desc="features", unit="customers", progress=progress) as pbar:
        if workers <= 1:
            for lo, hi, n in ranges:
                yield _range_features(conn, std, as_of, months, lo, hi, has_txn)
                pbar.update(n)
            return
        job = partial(
            _range_features_in_worker, url.render_as_string(hide_password=False), std, as_of, months, has_txn=has_txn
        )
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            for part, (_, _, n) in zip(pool.map(job, [r[0] for r in ranges], [r[1] for r in ranges]), ranges):
                pbar.update(n)
                yield part


def _range_features(
    conn: Connection, std, as_of: dt.date, months: list[str], lo: str, hi: str, has_txn: bool
) -> pd.DataFrame:
    from clientstrata.graph.stores.base import ECOSYSTEM_FEATURES

    part = _chunk_features(conn, std, as_of, months, lo, hi, has_txn)
    part = part.merge(ecosystem_counts(conn, lo, hi), on="customer_id", how="left")
    for k in ECOSYSTEM_FEATURES:
        part[k] = part[k].fillna(0).astype("int64") if k in part else 0
    return part


def _range_features_in_worker(
    url: str, std, as_of: dt.date, months: list[str], lo: str, hi: str, has_txn: bool
) -> pd.DataFrame:
    from clientstrata.graph.record.db import engine_for

    engine = _WORKER_ENGINES.get(url) or _WORKER_ENGINES.setdefault(url, engine_for(url))
    with engine.connect() as conn:
        return _range_features(conn, std, as_of, months, lo, hi, has_txn)


_WORKER_ENGINES: dict[str, object] = {}  # per worker process: one engine (and pool) per database


# The graph's ecosystem counts (networkx_store.ecosystem_features) as SQL over one range: the
# relationships sync-graph projects from these tables, with the same distinct-ness.
_ECOSYSTEM_SQL = {
    "payroll_employer": """
        SELECT customer_id, 1 AS n FROM employment
        WHERE payroll AND customer_id >= :lo AND customer_id <= :hi GROUP BY customer_id""",
    "controls": """
        SELECT customer_id, COUNT(DISTINCT enterprise_id) AS n FROM enterprise_control
        WHERE customer_id >= :lo AND customer_id <= :hi GROUP BY customer_id""",
    "household_members": """
        SELECT m.customer_id, COUNT(*) AS n FROM household_members m
        JOIN household_members o ON o.household_id = m.household_id AND o.customer_id <> m.customer_id
        WHERE m.customer_id >= :lo AND m.customer_id <= :hi GROUP BY m.customer_id""",
    "co_holders": """
        WITH held AS (
            SELECT owner_id AS cid, account_id FROM accounts
            WHERE owner_type = 'individual' AND owner_id >= :lo AND owner_id <= :hi
            UNION SELECT customer_id, account_id FROM account_holders
            WHERE role <> 'owner' AND customer_id >= :lo AND customer_id <= :hi)
        SELECT cid AS customer_id, COUNT(DISTINCT hid) AS n FROM (
            SELECT held.cid, a.owner_id AS hid FROM held JOIN accounts a ON a.account_id = held.account_id
            WHERE a.owner_type = 'individual'
            UNION ALL SELECT held.cid, h.customer_id FROM held JOIN account_holders h ON h.account_id = held.account_id
            WHERE h.role <> 'owner') x
        WHERE hid <> cid GROUP BY cid""",
    "supply_chain": """
        SELECT cid AS customer_id, COUNT(DISTINCT other) AS n FROM (
            SELECT c.customer_id AS cid, s.buyer_id AS other FROM enterprise_control c
            JOIN supply_chain s ON s.supplier_id = c.enterprise_id
            WHERE c.customer_id >= :lo AND c.customer_id <= :hi
            UNION ALL SELECT c.customer_id, s.supplier_id FROM enterprise_control c
            JOIN supply_chain s ON s.buyer_id = c.enterprise_id
            WHERE c.customer_id >= :lo AND c.customer_id <= :hi) x
        GROUP BY cid""",
}


def ecosystem_counts(conn: Connection, lo: str, hi: str) -> pd.DataFrame:
    """customer_id and the ECOSYSTEM_FEATURES counts of the individuals in [lo, hi] that have any."""
    from clientstrata.graph.stores.base import ECOSYSTEM_FEATURES

    parts = [
        _frame(conn, _ECOSYSTEM_SQL[k], lo=lo, hi=hi).set_index("customer_id")["n"].rename(k)
        for k in ECOSYSTEM_FEATURES
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["customer_id", *ECOSYSTEM_FEATURES])
    out = pd.concat(parts, axis=1).reindex(columns=list(ECOSYSTEM_FEATURES))
    return out.fillna(0).astype("int64").rename_axis("customer_id").reset_index()


def _chunk_features(
    conn: Connection, std, as_of: dt.date, months: list[str], lo: str, hi: str, has_txn: bool
) -> pd.DataFrame:
    rng = {"lo": lo, "hi": hi}
    fx = std.fx_to_cny
    year_ago = as_of - dt.timedelta(days=365)
    people = _frame(
        conn,
        """
        SELECT i.customer_id, i.birth_date, i.gender, i.occupation, i.annual_income, i.credit_score,
               i.is_pep, i.id_number IS NOT NULL AS has_id_number, i.onboarded_on, b.region,
               CASE WHEN h.household_id IS NOT NULL THEN m.household_id END AS household_id,
               CASE WHEN h.household_id IS NOT NULL THEN m.role END AS household_role
        FROM individuals i LEFT JOIN branches b ON b.branch_id = i.branch_id
        LEFT JOIN household_members m ON m.customer_id = i.customer_id
        LEFT JOIN households h ON h.household_id = m.household_id AND h.status = 'confirmed'
        WHERE i.customer_id >= :lo AND i.customer_id <= :hi ORDER BY i.customer_id""",
        **rng,
    )
    f = pd.DataFrame({"customer_id": people["customer_id"]})
    ref = pd.Timestamp(as_of)
    f["as_of"] = as_of.isoformat()
    birth = pd.to_datetime(people["birth_date"], errors="coerce")
    f["age"] = ((ref - birth).dt.days / 365.25).astype(float)
    for c in ("gender", "occupation", "region", "household_id", "household_role"):
        f[c] = people[c].astype(object).where(people[c].notna(), None)
    f["annual_income"] = pd.to_numeric(people["annual_income"], errors="coerce").astype(float)
    f["credit_score"] = pd.to_numeric(people["credit_score"], errors="coerce").astype(float)
    f["is_pep"] = _flag(people["is_pep"])
    f["has_id_number"] = _flag(people["has_id_number"])

    # household size and children (whole household, even members outside this range)
    hh = _frame(
        conn,
        """
        SELECT hm.household_id, COUNT(*) AS household_size,
               SUM(CASE WHEN hm.role = 'child' THEN 1 ELSE 0 END) AS children
        FROM household_members hm WHERE hm.household_id IN (
            SELECT household_id FROM household_members WHERE customer_id >= :lo AND customer_id <= :hi)
        GROUP BY hm.household_id""",
        **rng,
    )
    f = f.merge(hh, on="household_id", how="left")
    f["household_size"] = f["household_size"].fillna(1).astype("int64")
    f["children"] = f["children"].fillna(0).astype("int64")

    # monthly AUM (own and household), balances by family in the latest month, pivoted in SQL:
    # a column per month, so a range returns one row per customer and per household instead
    # of one per month and family. Every join starts from the customers in range (CROSS JOIN
    # keeps SQLite's join order; PostgreSQL plans it as an inner join): started from products,
    # SQLite read every asset account of the bank for each range.
    fams = ", ".join(f"'{x}'" for x in ASSET_FAMILIES)  # constants, not input
    cny = _fx_case("a.currency", fx)
    month_params = {f"m{i}": m for i, m in enumerate(months)}  # months are data: bound, not formatted
    last = f"m{len(months) - 1}"
    per_month = ", ".join(
        f"SUM(CASE WHEN b.month = :{k} THEN b.avg_daily_balance * {cny} END) AS {k}" for k in month_params
    )
    per_family = ", ".join(
        f"SUM(CASE WHEN b.month = :{last} AND p.family = '{x}' THEN b.avg_daily_balance * {cny} END) AS bal_{x}"
        for x in ASSET_FAMILIES
    )
    own = _frame(
        conn,
        f"""
        SELECT a.owner_id AS customer_id, {per_month}, {per_family}
        FROM accounts a CROSS JOIN balances_monthly b CROSS JOIN products p
        WHERE b.account_id = a.account_id AND p.product_id = a.product_id
          AND a.owner_type = 'individual' AND a.owner_id >= :lo AND a.owner_id <= :hi
          AND p.family IN ({fams}) AND b.month >= :first
        GROUP BY a.owner_id""",
        first=months[0],
        **month_params,
        **rng,
    )
    cur_family = ", ".join(
        f"SUM(CASE WHEN p.family = '{x}' THEN a.balance * {cny} END) AS bal_{x}" for x in ASSET_FAMILIES
    )
    current = _frame(
        conn,
        f"""
        SELECT a.owner_id AS customer_id, SUM(a.balance * {cny}) AS {last}, {cur_family}
        FROM accounts a CROSS JOIN products p
        WHERE p.product_id = a.product_id AND a.owner_type = 'individual' AND a.owner_id >= :lo AND a.owner_id <= :hi
          AND p.family IN ({fams}) AND a.balance IS NOT NULL AND a.status <> 'closed'
          AND NOT EXISTS (SELECT 1 FROM balances_monthly b WHERE b.account_id = a.account_id)
        GROUP BY a.owner_id""",
        **rng,
    )
    cid = f["customer_id"]
    own = own.set_index("customer_id").reindex(cid).astype(float).fillna(0.0)
    current = current.set_index("customer_id").reindex(cid).astype(float).fillna(0.0)
    for k, m in month_params.items():  # accounts without monthly figures count in the latest month
        f[AUM_PREFIX + m] = (own[k] + current[k] if k == last else own[k]).to_numpy()
    f["aum"] = f[AUM_PREFIX + months[-1]]
    for fam in ASSET_FAMILIES:
        f[f"bal_{fam}"] = (own[f"bal_{fam}"] + current[f"bal_{fam}"]).to_numpy()

    hh_aum = _frame(
        conn,
        f"""
        SELECT hm.household_id, {per_month}
        FROM (SELECT DISTINCT household_id FROM household_members
              WHERE customer_id >= :lo AND customer_id <= :hi) hh
        CROSS JOIN household_members hm CROSS JOIN accounts a CROSS JOIN balances_monthly b CROSS JOIN products p
        WHERE hm.household_id = hh.household_id AND a.owner_id = hm.customer_id AND a.owner_type = 'individual'
          AND b.account_id = a.account_id AND p.product_id = a.product_id
          AND p.family IN ({fams}) AND b.month >= :first
        GROUP BY hm.household_id""",
        first=months[0],
        **month_params,
        **rng,
    )
    hh_cur = _frame(
        conn,
        f"""
        SELECT hm.household_id, SUM(a.balance * {cny}) AS aum
        FROM (SELECT DISTINCT household_id FROM household_members
              WHERE customer_id >= :lo AND customer_id <= :hi) hh
        CROSS JOIN household_members hm CROSS JOIN accounts a CROSS JOIN products p
        WHERE hm.household_id = hh.household_id AND a.owner_id = hm.customer_id AND a.owner_type = 'individual'
          AND p.product_id = a.product_id AND p.family IN ({fams})
          AND a.balance IS NOT NULL AND a.status <> 'closed'
          AND NOT EXISTS (SELECT 1 FROM balances_monthly b WHERE b.account_id = a.account_id)
        GROUP BY hm.household_id""",
        **rng,
    )
    hid = f["household_id"].fillna("\0")
    hwide = hh_aum.set_index("household_id").reindex(hid).astype(float).fillna(0.0)
    hwide[last] += hh_cur.set_index("household_id")["aum"].reindex(hid).astype(float).fillna(0.0).to_numpy()
    alone = f["household_id"].isna().to_numpy()
    for k, m in month_params.items():  # no household: a household of one
        f[HH_AUM_PREFIX + m] = np.where(alone, f[AUM_PREFIX + m], hwide[k].to_numpy())

    # products held (owned, co-held as joint holder or authorised user, cards, running loans) and
    # bought; AUM above counts owned accounts only, so a joint account is not counted twice
    prods = _frame(
        conn,
        """
        SELECT a.owner_id AS customer_id, p.family,
               MAX(CASE WHEN a.status <> 'closed' THEN CAST(SUBSTR(p.risk_level, 2, 1) AS INTEGER) END) AS risk_held,
               MAX(CASE WHEN a.opened_on >= :since THEN CAST(SUBSTR(p.risk_level, 2, 1) AS INTEGER) END) AS risk_bought,
               SUM(CASE WHEN a.status <> 'closed' THEN 1 ELSE 0 END) AS open_accounts, MIN(a.opened_on) AS first_opened
        FROM accounts a JOIN products p ON p.product_id = a.product_id
        WHERE a.owner_type = 'individual' AND a.owner_id >= :lo AND a.owner_id <= :hi
        GROUP BY a.owner_id, p.family""",
        since=year_ago,
        **rng,
    )
    extra = _frame(
        conn,
        """
        SELECT a.owner_id AS customer_id, 'loan' AS family FROM loans l JOIN accounts a ON a.account_id = l.account_id
          WHERE a.owner_type = 'individual' AND l.status IN ('C', 'D') AND a.owner_id >= :lo AND a.owner_id <= :hi
        UNION SELECT c.holder_id, 'card' FROM cards c WHERE c.holder_id >= :lo AND c.holder_id <= :hi
        UNION SELECT h.customer_id, p.family FROM account_holders h JOIN accounts a ON a.account_id = h.account_id
          JOIN products p ON p.product_id = a.product_id
          WHERE a.status <> 'closed' AND h.customer_id >= :lo AND h.customer_id <= :hi""",
        **rng,
    )
    held = pd.concat([prods.loc[prods["open_accounts"] > 0, ["customer_id", "family"]], extra], ignore_index=True)
    held = held.drop_duplicates().sort_values(["customer_id", "family"])
    fam_str = held.groupby("customer_id")["family"].agg(",".join)
    f["families"] = fam_str.reindex(f["customer_id"]).fillna("").to_numpy()
    by = prods.groupby("customer_id")
    f["max_risk_held"] = by["risk_held"].max().reindex(f["customer_id"]).fillna(0).astype("int64").to_numpy()
    f["max_risk_bought"] = by["risk_bought"].max().reindex(f["customer_id"]).fillna(0).astype("int64").to_numpy()
    first = pd.to_datetime(by["first_opened"].min().reindex(f["customer_id"]), errors="coerce").to_numpy()
    since = pd.to_datetime(people["onboarded_on"], errors="coerce").to_numpy()
    since = np.where(pd.isna(since), first, since)
    f["tenure_years"] = ((ref - pd.to_datetime(since)).days / 365.25).astype(float)

    # latest risk questionnaire
    q = _frame(
        conn,
        """
        SELECT customer_id, assessed_on, score, risk_level, valid_until, is_professional
        FROM risk_questionnaires WHERE customer_id >= :lo AND customer_id <= :hi""",
        **rng,
    )
    q["assessed_on"] = pd.to_datetime(q["assessed_on"], errors="coerce")
    q = (
        q.sort_values(["customer_id", "assessed_on"])
        .drop_duplicates("customer_id", keep="last")
        .set_index("customer_id")
    )
    q = q.reindex(f["customer_id"])
    f["q_level"] = pd.to_numeric(q["risk_level"].str.slice(1, 2), errors="coerce").fillna(0).astype("int64").to_numpy()
    f["q_score"] = pd.to_numeric(q["score"], errors="coerce").astype(float).to_numpy()
    f["q_assessed_on"] = q["assessed_on"].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    f["q_valid_until"] = (
        pd.to_datetime(q["valid_until"], errors="coerce").dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    )
    f["q_professional"] = _flag(q["is_professional"]).to_numpy()
    for c in ("q_assessed_on", "q_valid_until"):
        f[c] = f[c].astype(object).where(f[c].notna(), None)

    # loans (PKDD'99 status A–D), employment and control
    mortgage_term = std.dimensions.get("lifecycle_stage", {}).get("mortgage_min_term_months", 120)
    loans = _frame(
        conn,
        """
        SELECT a.owner_id AS customer_id, l.status, l.principal, l.outstanding, l.monthly_payment,
               l.term_months, l.days_past_due
        FROM loans l JOIN accounts a ON a.account_id = l.account_id
        WHERE a.owner_type = 'individual' AND a.owner_id >= :lo AND a.owner_id <= :hi""",
        **rng,
    )
    running = loans["status"].isin(["C", "D"])
    loans["out"] = np.where(
        running,
        pd.to_numeric(loans["outstanding"], errors="coerce").fillna(pd.to_numeric(loans["principal"], errors="coerce")),
        0.0,
    )
    loans["pay"] = np.where(running, pd.to_numeric(loans["monthly_payment"], errors="coerce").fillna(0.0), 0.0)
    loans["mortgage"] = running & (pd.to_numeric(loans["term_months"], errors="coerce") >= mortgage_term)
    lg = loans.groupby("customer_id")
    f["loans_count"] = lg.size().reindex(cid).fillna(0).astype("int64").to_numpy()
    f["loans_outstanding"] = lg["out"].sum().reindex(cid).fillna(0.0).to_numpy()
    f["loan_monthly_payment"] = lg["pay"].sum().reindex(cid).fillna(0.0).to_numpy()
    for s in "ABCD":
        f[f"loans_{s}"] = (
            loans[loans["status"] == s].groupby("customer_id").size().reindex(cid).fillna(0).astype("int64").to_numpy()
        )
    f["max_dpd"] = (
        pd.to_numeric(lg["days_past_due"].max().reindex(cid), errors="coerce").fillna(0).astype(float).to_numpy()
    )
    f["has_mortgage"] = lg["mortgage"].any().reindex(cid).fillna(False).astype(bool).to_numpy()

    emp = _frame(
        conn,
        """
        SELECT e.customer_id, e.payroll, e.monthly_salary, en.industry FROM employment e
        JOIN enterprises en ON en.enterprise_id = e.enterprise_id
        WHERE e.customer_id >= :lo AND e.customer_id <= :hi""",
        **rng,
    )
    eg = emp.groupby("customer_id")
    f["salary_monthly"] = pd.to_numeric(eg["monthly_salary"].sum().reindex(cid), errors="coerce").fillna(0.0).to_numpy()
    f["employed"] = cid.isin(emp["customer_id"]).to_numpy()
    ctl = _frame(
        conn,
        """
        SELECT c.customer_id, en.industry FROM enterprise_control c
        JOIN enterprises en ON en.enterprise_id = c.enterprise_id
        WHERE c.customer_id >= :lo AND c.customer_id <= :hi""",
        **rng,
    )
    inds = pd.concat([emp[["customer_id", "industry"]], ctl], ignore_index=True).dropna().drop_duplicates()
    f["linked_industries"] = (
        inds.sort_values("industry").groupby("customer_id")["industry"].agg(",".join).reindex(cid).fillna("").to_numpy()
    )
    f["controls_enterprise"] = cid.isin(ctl["customer_id"]).to_numpy()

    # twelve months of transactions, aggregated in SQL
    aml = std.dimensions.get("aml_risk", {})
    thr = float(aml.get("cash_reporting_threshold", 50_000))
    lo_amt = thr * (1 - float(aml.get("structuring_margin", 0.1)))
    risky = [c for c in aml.get("high_risk_countries", []) if str(c).isalpha() and len(str(c)) == 2]
    risky_sql = ", ".join(f"'{c}'" for c in risky) or "''"
    amt = f"(t.amount * {_fx_case('t.currency', fx)})"
    chan = ", ".join(f"SUM(CASE WHEN t.channel = '{c}' THEN 1 ELSE 0 END) AS ch_{c}" for c in CHANNELS)
    tx = _frame(
        conn,
        f"""
        SELECT a.owner_id AS customer_id, COUNT(*) AS txn_count, SUM({amt}) AS txn_amount,
               SUM(CASE WHEN t.is_cash THEN {amt} ELSE 0 END) AS cash_amount,
               SUM(CASE WHEN t.is_cash THEN 1 ELSE 0 END) AS cash_count,
               SUM(CASE WHEN t.counterparty_country <> 'CN' THEN 1 ELSE 0 END) AS cross_border_count,
               SUM(CASE WHEN t.counterparty_country IN ({risky_sql}) THEN 1 ELSE 0 END) AS high_risk_country_count,
               SUM(CASE WHEN t.is_cash AND t.direction = 'credit' AND {amt} >= :slo AND {amt} < :shi
                        THEN 1 ELSE 0 END) AS structuring_count,
               MAX(t.booked_at) AS last_txn, {chan}
        FROM accounts a JOIN transactions t ON t.account_id = a.account_id
        WHERE a.owner_type = 'individual' AND a.owner_id >= :lo AND a.owner_id <= :hi AND t.booked_at >= :since
        GROUP BY a.owner_id""",
        slo=lo_amt,
        shi=thr,
        since=dt.datetime.combine(year_ago, dt.time()),
        **rng,
    )
    tx = tx.set_index("customer_id").reindex(cid)
    for c in [
        "txn_count",
        "cash_count",
        "cross_border_count",
        "high_risk_country_count",
        "structuring_count",
        *(f"ch_{c}" for c in CHANNELS),
    ]:
        f[c] = pd.to_numeric(tx[c], errors="coerce").fillna(0).astype("int64").to_numpy()
    for c in ("txn_amount", "cash_amount"):
        f[c] = pd.to_numeric(tx[c], errors="coerce").fillna(0.0).astype(float).to_numpy()
    last = pd.to_datetime(tx["last_txn"], errors="coerce")
    f["days_since_last_txn"] = ((ref + pd.Timedelta(days=1) - last).dt.days).astype(float).to_numpy()
    f["txn_data"] = has_txn

    # rapid in-and-out: windows of `window_days` where at least min_amount came in and
    # out_ratio of it left again (days bucketed, an approximation that stays in SQL + numpy)
    rio = aml.get("rapid_in_out", {"window_days": 3, "min_amount": 50_000, "out_ratio": 0.8})
    days = _frame(
        conn,
        f"""
        SELECT a.owner_id AS customer_id, DATE(t.booked_at) AS day,
               SUM(CASE WHEN t.direction = 'credit' THEN {amt} ELSE 0 END) AS amount_in,
               SUM(CASE WHEN t.direction = 'debit' THEN {amt} ELSE 0 END) AS amount_out
        FROM accounts a JOIN transactions t ON t.account_id = a.account_id
        WHERE a.owner_type = 'individual' AND a.owner_id >= :lo AND a.owner_id <= :hi AND t.booked_at >= :since
        GROUP BY a.owner_id, DATE(t.booked_at)
        HAVING SUM({amt}) >= :min_amount""",
        since=dt.datetime.combine(year_ago, dt.time()),
        min_amount=float(rio["min_amount"]),
        **rng,
    )
    if len(days):
        d = (pd.to_datetime(days["day"]) - pd.Timestamp("1970-01-01")).dt.days // int(rio["window_days"])
        w = days.assign(w=d).groupby(["customer_id", "w"])[["amount_in", "amount_out"]].sum()
        hit = (w["amount_in"] >= float(rio["min_amount"])) & (
            w["amount_out"] >= float(rio["out_ratio"]) * w["amount_in"]
        )
        f["rapid_in_out_count"] = hit.groupby(level=0).sum().reindex(cid).fillna(0).astype("int64").to_numpy()
    else:
        f["rapid_in_out_count"] = 0
    return f


def enterprise_features(conn: Connection, std) -> pd.DataFrame:
    """One row per enterprise: declared attributes, loans on its accounts, and its ties to
    other customers (suppliers, buyers, employees paid through the bank)."""
    e = _frame(
        conn,
        """
        SELECT enterprise_id, industry, size, registered_capital, annual_revenue, founded_on
        FROM enterprises ORDER BY enterprise_id""",
    )
    eid = e["enterprise_id"]
    f = pd.DataFrame(
        {
            "enterprise_id": eid,
            "industry": e["industry"].astype(object).where(e["industry"].notna(), None),
            "size": e["size"].astype(object).where(e["size"].notna(), None),
            "registered_capital": pd.to_numeric(e["registered_capital"], errors="coerce").astype(float),
            "annual_revenue": pd.to_numeric(e["annual_revenue"], errors="coerce").astype(float),
        }
    )
    loans = _frame(
        conn,
        """
        SELECT a.owner_id AS enterprise_id, l.status, l.principal, l.outstanding, l.days_past_due
        FROM loans l JOIN accounts a ON a.account_id = l.account_id WHERE a.owner_type = 'enterprise'""",
    )
    running = loans["status"].isin(["C", "D"])
    loans["out"] = np.where(
        running,
        pd.to_numeric(loans["outstanding"], errors="coerce").fillna(pd.to_numeric(loans["principal"], errors="coerce")),
        0.0,
    )
    lg = loans.groupby("enterprise_id")
    f["loans_count"] = lg.size().reindex(eid).fillna(0).astype("int64").to_numpy()
    f["loans_outstanding"] = lg["out"].sum().reindex(eid).fillna(0.0).to_numpy()
    for s in "ABCD":
        f[f"loans_{s}"] = (
            loans[loans["status"] == s]
            .groupby("enterprise_id")
            .size()
            .reindex(eid)
            .fillna(0)
            .astype("int64")
            .to_numpy()
        )
    f["max_dpd"] = (
        pd.to_numeric(lg["days_past_due"].max().reindex(eid), errors="coerce").fillna(0).astype(float).to_numpy()
    )
    counts = {
        "suppliers": "SELECT buyer_id AS enterprise_id, COUNT(*) AS n FROM supply_chain GROUP BY buyer_id",
        "buyers": "SELECT supplier_id AS enterprise_id, COUNT(*) AS n FROM supply_chain GROUP BY supplier_id",
        "employees": "SELECT enterprise_id, COUNT(*) AS n FROM employment GROUP BY enterprise_id",
        "payroll_employees": "SELECT enterprise_id, COUNT(*) AS n FROM employment WHERE payroll GROUP BY enterprise_id",
        "controllers": "SELECT enterprise_id, COUNT(DISTINCT customer_id) AS n FROM enterprise_control GROUP BY enterprise_id",
    }
    for name, sql in counts.items():
        c = _frame(conn, sql).set_index("enterprise_id")["n"]
        f[name] = pd.to_numeric(c.reindex(eid), errors="coerce").fillna(0).astype("int64").to_numpy()
    return f
