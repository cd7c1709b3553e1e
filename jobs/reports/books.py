"""Branch and relationship-manager views: each branch's and each RM's book by tier, with AUM movement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record.models import (
    Account,
    Branch,
    Individual,
    MonthlyBalance,
    Product,
    RelationshipManager,
)
from clientstrata.jobs.ingest.bundle import ASSET_FAMILIES

from .base import (
    money,
    resolve_run,
    run_tags,
    tags_table,
    with_attrs,
)


def _month_minus(month: str, n: int) -> str:
    return (pd.Period(month, "M") - n).strftime("%Y-%m")


def _run_month(conn: Connection, run_id: int) -> tuple[str, str | None]:
    month = conn.execute(
        sa.select(sa.func.max(tags_table.c.inputs["month"].as_string())).where(
            tags_table.c.run_id == run_id, tags_table.c.dimension == "wealth_tier"
        )
    ).scalar()
    if month:
        return month, None
    month = conn.execute(sa.select(sa.func.max(MonthlyBalance.__table__.c.month))).scalar()
    if not month:
        raise InvalidInput("balances_monthly is empty: no branch AUM to report")
    return month, f"run {run_id} has no wealth_tier month: using the latest month in balances_monthly"


def branch_view(
    conn: Connection, run_id: int | None = None, months_back: int = 3, fx: dict[str, float] | None = None
) -> pd.DataFrame:
    """AUM (month daily averages of individuals' asset accounts, CNY) per home branch in the
    run's month and `months_back` months before, with the change; customers from the run."""
    from clientstrata.jobs.classification.standard import load_standard

    if months_back < 1:
        raise InvalidInput("months_back must be ≥ 1")
    run_id = resolve_run(conn, run_id)
    month, note = _run_month(conn, run_id)
    before = _month_minus(month, months_back)
    fx = fx or load_standard().fx_to_cny
    balances, accounts, products, individuals = (
        MonthlyBalance.__table__,
        Account.__table__,
        Product.__table__,
        Individual.__table__,
    )
    q = (
        sa.select(
            individuals.c.branch_id,
            balances.c.month,
            accounts.c.currency,
            sa.func.sum(balances.c.avg_daily_balance).label("amount"),
        )
        .select_from(
            balances.join(accounts, accounts.c.account_id == balances.c.account_id)
            .join(products, products.c.product_id == accounts.c.product_id)
            .join(individuals, individuals.c.customer_id == accounts.c.owner_id)
        )
        .where(
            accounts.c.owner_type == "individual",
            products.c.family.in_(ASSET_FAMILIES),
            balances.c.month.in_([month, before]),
        )
        .group_by(individuals.c.branch_id, balances.c.month, accounts.c.currency)
    )
    bal = pd.DataFrame([tuple(r) for r in conn.execute(q)], columns=["branch_id", "month", "currency", "amount"])
    rate = bal["currency"].map(fx)
    if rate.isna().any():
        raise InvalidInput(f"no exchange rate to CNY for {', '.join(sorted(set(bal.loc[rate.isna(), 'currency'])))}")
    bal["aum"] = bal["amount"].astype(float) * rate
    wide = bal.pivot_table(index="branch_id", columns="month", values="aum", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(columns=[before, month], fill_value=0.0)
    people = pd.DataFrame(
        conn.execute(
            sa.select(individuals.c.branch_id, sa.func.count().label("customers"))
            .select_from(individuals.join(tags_table, tags_table.c.customer_id == individuals.c.customer_id))
            .where(tags_table.c.run_id == run_id, tags_table.c.dimension == "wealth_tier")
            .group_by(individuals.c.branch_id)
        ).all(),
        columns=["branch_id", "customers"],
    )
    branches = Branch.__table__
    names = pd.DataFrame(
        conn.execute(sa.select(branches.c.branch_id, branches.c.name, branches.c.city)).all(),
        columns=["branch_id", "name", "city"],
    )
    g = names.merge(wide.reset_index(), on="branch_id", how="outer").merge(people, on="branch_id", how="left")
    g["branch_id"] = g["branch_id"].fillna("(none)")
    g = g.rename(columns={before: "aum_before", month: "aum"}).fillna({"aum_before": 0.0, "aum": 0.0, "customers": 0})
    g["customers"] = g["customers"].astype(int)
    g["change"] = (g["aum"] - g["aum_before"]).round(2)
    g["change_pct"] = np.where(
        g["aum_before"] > 0, (g["change"] / g["aum_before"].where(g["aum_before"] > 0)).round(4), np.nan
    )
    g[["aum", "aum_before"]] = g[["aum", "aum_before"]].round(2)
    g = g.sort_values(["aum", "branch_id"], ascending=[False, True], ignore_index=True)
    g = g[["branch_id", "name", "city", "customers", "aum_before", "aum", "change", "change_pct"]]
    total, total_before = float(g["aum"].sum()), float(g["aum_before"].sum())
    growth = (total - total_before) / total_before if total_before else float("nan")
    summary = (
        f"AUM {money(total)} CNY in {month} across {len(g)} branches, {growth:+.1%} on {before}"
        if total_before
        else f"AUM {money(total)} CNY in {month}; none in {before}"
    )
    if len(g) and total_before:
        best = g.loc[g["change"].idxmax()]
        summary += f"; largest gain: {best['name'] or best['branch_id']} ({best['change']:+,.0f})"
    return with_attrs(
        g,
        "branches",
        f"AUM by branch, {before} → {month}, run {run_id}",
        run_id,
        summary,
        [note] if note else [],
        month=month,
        month_before=before,
    )


def rm_book(conn: Connection, run_id: int | None = None, dimension: str = "wealth_tier") -> pd.DataFrame:
    """Per relationship manager: customers, AUM and tier mix (customers per tier value, one
    column each) from the run's wealth tiers; customers without an RM in one '(none)' row."""
    run_id = resolve_run(conn, run_id)
    t = run_tags(conn, run_id, dimension, floats=("aum",))
    t["aum"] = t["aum"].fillna(t["score"])
    individuals, managers = Individual.__table__, RelationshipManager.__table__
    who = pd.DataFrame(
        conn.execute(sa.select(individuals.c.customer_id, individuals.c.rm_id)).all(), columns=["customer_id", "rm_id"]
    )
    rms = pd.DataFrame(
        conn.execute(sa.select(managers.c.rm_id, managers.c.name, managers.c.branch_id, managers.c.grade)).all(),
        columns=["rm_id", "rm_name", "branch_id", "grade"],
    )
    t = t.merge(who, on="customer_id", how="left")
    t["rm_id"] = t["rm_id"].fillna("(none)")  # customers without an RM: one row
    order = t.groupby("value")["aum"].min().sort_values().index.tolist()  # tiers low → high
    mix = t.pivot_table(index="rm_id", columns="value", values="customer_id", aggfunc="size", fill_value=0)
    mix = mix.reindex(columns=order, fill_value=0)
    g = t.groupby("rm_id").agg(customers=("customer_id", "size"), aum=("aum", "sum")).join(mix).reset_index()
    g = rms.merge(g, on="rm_id", how="right").fillna({"rm_name": "", "branch_id": "", "grade": ""})
    g["aum"] = g["aum"].round(2)
    g = g.sort_values(["aum", "rm_id"], ascending=[False, True], ignore_index=True)
    g = g[["rm_id", "rm_name", "branch_id", "grade", "customers", "aum", *order]]
    managed = g[g["rm_id"] != "(none)"]
    unassigned = int(g.loc[g["rm_id"] == "(none)", "customers"].sum())
    summary = (
        f"{len(managed):,} RMs manage {int(managed['customers'].sum()):,} customers "
        f"(median book {int(managed['customers'].median()) if len(managed) else 0:,}); "
        f"{unassigned:,} customers have no RM"
    )
    return with_attrs(g, "rm-book", f"RM books by {dimension}, run {run_id}", run_id, summary, tiers=order)
