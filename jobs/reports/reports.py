"""Reports for the classification committee and analysts, as DataFrames.

Every report reads a published run (the latest by default) and works on the tags table
generically, so a dimension another job adds is reportable as soon as it is published; a
dimension with no tags in the run is a clear `MissingDimension` error, never an empty table.
Each frame carries `attrs`: report, title, run_id, summary (one sentence) and notes.
`report_to_dict` and `render_text` turn one into JSON or a printable table (the CLI's
`clientstrata report <name>`); `plot_tier_distribution` and `plot_pareto` draw them
(matplotlib, imported only when called).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record.models import (
    Account,
    Branch,
    ClassificationRun,
    Individual,
    IngestRun,
    MonthlyBalance,
    Product,
    QuarantinedRow,
    RelationshipManager,
    Tag,
)
from clientstrata.jobs.ingest.bundle import ASSET_FAMILIES

__all__ = [
    "MissingDimension",
    "REPORTS",
    "run_report",
    "report_to_dict",
    "render_text",
    "resolve_run",
    "segment_summary",
    "distribution",
    "tier_distribution",
    "contribution_concentration",
    "branch_view",
    "rm_book",
    "data_quality",
    "clusters",
    "plot_tier_distribution",
    "plot_pareto",
]

_T, _R = Tag.__table__, ClassificationRun.__table__


class MissingDimension(InvalidInput):
    """The run has no tags for the dimension a report needs."""

    def __init__(self, run_id: int, dimension: str, present: list[str], hint: str = "") -> None:
        have = ", ".join(present) or "none"
        super().__init__(f"run {run_id} has no {dimension} tags (dimensions in run {run_id}: {have}){hint}")
        self.run_id, self.dimension, self.present = run_id, dimension, present


def resolve_run(conn: Connection, run_id: int | None = None) -> int:
    """`run_id` if it is published, else the latest published run."""
    if run_id is None:
        run_id = conn.execute(sa.select(sa.func.max(_R.c.run_id)).where(_R.c.status == "published")).scalar()
        if run_id is None:
            raise InvalidInput("no published classification run yet: run `clientstrata classify` first")
        return int(run_id)
    status = conn.execute(sa.select(_R.c.status).where(_R.c.run_id == run_id)).scalar()
    if status is None:
        raise NotFound("classification run", str(run_id))
    if status != "published":
        raise InvalidInput(f"run {run_id} is {status}, not published: only published runs are reported")
    return int(run_id)


def _dimensions(conn: Connection, run_id: int) -> list[str]:
    return sorted(conn.execute(sa.select(_T.c.dimension).where(_T.c.run_id == run_id).distinct()).scalars())


def _tags(
    conn: Connection,
    run_id: int,
    dimension: str,
    floats: tuple[str, ...] = (),
    strings: tuple[str, ...] = (),
    hint: str = "",
) -> pd.DataFrame:
    """The run's tags on one dimension, with the named `inputs` fields extracted in SQL (no
    JSON parsing in Python: wealth-tier inputs carry twelve months each)."""
    cols = [_T.c.customer_id, _T.c.value, _T.c.label_zh, _T.c.label_en, _T.c.score]
    cols += [_T.c.inputs[f].as_float().label(f) for f in floats]
    cols += [_T.c.inputs[f].as_string().label(f) for f in strings]
    q = sa.select(*cols).where(_T.c.run_id == run_id, _T.c.dimension == dimension)
    df = pd.DataFrame(conn.execute(q).all(), columns=[c.name for c in cols])
    if df.empty:
        raise MissingDimension(run_id, dimension, _dimensions(conn, run_id), hint)
    for f in floats:
        df[f] = pd.to_numeric(df[f], errors="coerce")
    return df


def _attrs(
    df: pd.DataFrame, report: str, title: str, run_id: int | None, summary: str, notes: list[str] | None = None, **extra
) -> pd.DataFrame:
    df.attrs.update(
        {"report": report, "title": title, "run_id": run_id, "summary": summary, "notes": list(notes or []), **extra}
    )
    return df


def _pct(x: float) -> str:
    return f"{x:.0%}" if abs(x) >= 0.01 or x == 0 else f"{x:.1%}"


def _money(x: float) -> str:
    return f"{x:,.0f}"


# --- distributions ------------------------------------------------------------------------


def distribution(conn: Connection, dimension: str, run_id: int | None = None) -> pd.DataFrame:
    """Customers per value of any dimension in a run, with the mean score."""
    run_id = resolve_run(conn, run_id)
    t = _tags(conn, run_id, dimension)
    g = (
        t.groupby(["value", "label_zh", "label_en"], dropna=False)
        .agg(customers=("customer_id", "size"), mean_score=("score", "mean"))
        .reset_index()
        .sort_values(["customers", "value"], ascending=[False, True], ignore_index=True)
    )
    g["share"] = (g["customers"] / g["customers"].sum()).round(4)
    g["mean_score"] = g["mean_score"].round(2)
    g = g[["value", "label_zh", "label_en", "customers", "share", "mean_score"]]
    top = g.iloc[0]
    return _attrs(
        g,
        "distribution",
        f"{dimension}: customers per value, run {run_id}",
        run_id,
        f"{int(g['customers'].sum()):,} customers in {len(g)} {dimension} values; the largest is "
        f"{top['label_en']} ({top['label_zh']}) with {_pct(top['share'])}",
        dimension=dimension,
    )


def segment_summary(
    conn: Connection, dimension: str, run_id: int | None = None, book: str | None = None
) -> pd.DataFrame:
    """Each value of a dimension in a run as a segment: customers, share, mean score and the
    members' month-average AUM (total and mean, from the same run's wealth_tier inputs; None
    for subjects without one, such as enterprises). For `behaviour_cluster` the description is
    the cluster's (from its centroid); other dimensions have none. Computed values of the run,
    as every report; `book` (a relationship manager's id) counts only that RM's customers."""
    from clientstrata.graph.record.queries import book_subjects
    from clientstrata.jobs.classification.segments import DIMENSION as CLUSTER

    run_id = resolve_run(conn, run_id)
    t, w = _T.alias("t"), _T.alias("w")
    aum = w.c.inputs["aum"].as_float()
    q = (
        sa.select(
            t.c.value,
            t.c.label_zh,
            t.c.label_en,
            sa.func.count().label("customers"),
            sa.func.avg(t.c.score).label("mean_score"),
            sa.func.sum(aum).label("aum_total"),
            sa.func.avg(aum).label("aum_avg"),
        )
        .select_from(
            t.outerjoin(
                w, sa.and_(w.c.run_id == t.c.run_id, w.c.customer_id == t.c.customer_id, w.c.dimension == "wealth_tier")
            )
        )
        .where(t.c.run_id == run_id, t.c.dimension == dimension)
        .group_by(t.c.value, t.c.label_zh, t.c.label_en)
    )
    if book is not None:
        q = q.where(t.c.customer_id.in_(book_subjects(book)))
    cols = ["value", "label_zh", "label_en", "customers", "mean_score", "aum_total", "aum_avg"]
    g = pd.DataFrame([tuple(r) for r in conn.execute(q).all()], columns=cols)
    if g.empty and book is None:
        raise MissingDimension(run_id, dimension, _dimensions(conn, run_id))
    total = int(g["customers"].sum())
    g["share"] = (g["customers"] / total).round(4) if total else 0.0
    for c, nd in (("mean_score", 2), ("aum_total", 2), ("aum_avg", 2)):
        g[c] = pd.to_numeric(g[c], errors="coerce").round(nd)
    clusters = dimension == CLUSTER
    g["description_en"] = g["label_en"] if clusters else None
    g["description_zh"] = g["label_zh"] if clusters else None
    g = g.sort_values(["customers", "value"], ascending=[False, True], ignore_index=True)
    g = g.astype(object).where(g.notna(), None)
    return _attrs(
        g,
        "segments",
        f"{dimension} segments, run {run_id}",
        run_id,
        f"{total:,} customers in {len(g)} {dimension} segments",
        dimension=dimension,
    )


def tier_distribution(conn: Connection, run_id: int | None = None, dimension: str = "wealth_tier") -> pd.DataFrame:
    """Customers and AUM per wealth tier (or household_wealth_tier), lowest tier first."""
    run_id = resolve_run(conn, run_id)
    t = _tags(conn, run_id, dimension, floats=("aum",))
    notes = []
    if t["aum"].isna().all():
        t["aum"] = t["score"]
        notes.append(f"{dimension} tags carry no inputs.aum: AUM taken from the tag score")
    g = (
        t.groupby(["value", "label_zh", "label_en"], dropna=False)
        .agg(customers=("customer_id", "size"), aum=("aum", "sum"), floor=("aum", "min"))
        .reset_index()
        .sort_values(["floor", "value"], ignore_index=True)
        .drop(columns="floor")
    )
    n, total = int(g["customers"].sum()), float(g["aum"].sum())
    g["share"] = (g["customers"] / n).round(4)
    g["aum"] = g["aum"].round(2)
    g["aum_share"] = (g["aum"] / total).round(4) if total else 0.0
    g = g[["value", "label_zh", "label_en", "customers", "share", "aum", "aum_share"]]
    top = g.iloc[-1]
    summary = (
        f"{n:,} customers, AUM {_money(total)} CNY; {top['label_en']} ({top['label_zh']}) is "
        f"{_pct(top['share'])} of customers and holds {_pct(top['aum_share'])} of AUM"
    )
    return _attrs(
        g,
        "tiers",
        f"{dimension} distribution, run {run_id}",
        run_id,
        summary,
        notes,
        customers=n,
        aum=round(total, 2),
        dimension=dimension,
    )


# --- contribution concentration ---------------------------------------------------------


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
        t = _tags(conn, run_id, "value_contribution", floats=("contribution",))
        x, basis = t["contribution"], "contribution"
        if x.isna().all():
            why = f"run {run_id}'s value_contribution tags carry no inputs.contribution"
    except MissingDimension:
        why = f"run {run_id} has no value_contribution tags"
    if why:
        t = _tags(
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
    summary = f"{_pct(k / n)} of customers bring {_pct(cum[k - 1])} of {word}; the top 10% bring {_pct(top10)}"
    return _attrs(
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


# --- branch and RM views ------------------------------------------------------------------


def _month_minus(month: str, n: int) -> str:
    return (pd.Period(month, "M") - n).strftime("%Y-%m")


def _run_month(conn: Connection, run_id: int) -> tuple[str, str | None]:
    month = conn.execute(
        sa.select(sa.func.max(_T.c.inputs["month"].as_string())).where(
            _T.c.run_id == run_id, _T.c.dimension == "wealth_tier"
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
    b, a, p, i = (MonthlyBalance.__table__, Account.__table__, Product.__table__, Individual.__table__)
    q = (
        sa.select(i.c.branch_id, b.c.month, a.c.currency, sa.func.sum(b.c.avg_daily_balance).label("amount"))
        .select_from(
            b.join(a, a.c.account_id == b.c.account_id)
            .join(p, p.c.product_id == a.c.product_id)
            .join(i, i.c.customer_id == a.c.owner_id)
        )
        .where(a.c.owner_type == "individual", p.c.family.in_(ASSET_FAMILIES), b.c.month.in_([month, before]))
        .group_by(i.c.branch_id, b.c.month, a.c.currency)
    )
    bal = pd.DataFrame(conn.execute(q).all(), columns=["branch_id", "month", "currency", "amount"])
    rate = bal["currency"].map(fx)
    if rate.isna().any():
        raise InvalidInput(f"no exchange rate to CNY for {', '.join(sorted(set(bal.loc[rate.isna(), 'currency'])))}")
    bal["aum"] = bal["amount"].astype(float) * rate
    wide = bal.pivot_table(index="branch_id", columns="month", values="aum", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(columns=[before, month], fill_value=0.0)
    people = pd.DataFrame(
        conn.execute(
            sa.select(i.c.branch_id, sa.func.count().label("customers"))
            .select_from(i.join(_T, _T.c.customer_id == i.c.customer_id))
            .where(_T.c.run_id == run_id, _T.c.dimension == "wealth_tier")
            .group_by(i.c.branch_id)
        ).all(),
        columns=["branch_id", "customers"],
    )
    br = Branch.__table__
    names = pd.DataFrame(
        conn.execute(sa.select(br.c.branch_id, br.c.name, br.c.city)).all(), columns=["branch_id", "name", "city"]
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
        f"AUM {_money(total)} CNY in {month} across {len(g)} branches, {growth:+.1%} on {before}"
        if total_before
        else f"AUM {_money(total)} CNY in {month}; none in {before}"
    )
    if len(g) and total_before:
        best = g.loc[g["change"].idxmax()]
        summary += f"; largest gain: {best['name'] or best['branch_id']} ({best['change']:+,.0f})"
    return _attrs(
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
    t = _tags(conn, run_id, dimension, floats=("aum",))
    t["aum"] = t["aum"].fillna(t["score"])
    i, rm = Individual.__table__, RelationshipManager.__table__
    who = pd.DataFrame(conn.execute(sa.select(i.c.customer_id, i.c.rm_id)).all(), columns=["customer_id", "rm_id"])
    rms = pd.DataFrame(
        conn.execute(sa.select(rm.c.rm_id, rm.c.name, rm.c.branch_id, rm.c.grade)).all(),
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
    return _attrs(g, "rm-book", f"RM books by {dimension}, run {run_id}", run_id, summary, tiers=order)


# --- data quality -------------------------------------------------------------------------


def data_quality(conn: Connection, ingest_id: int | None = None) -> pd.DataFrame:
    """Per table of an ingest (the latest by default): rows read, loaded and quarantined,
    whether loaded + quarantined = read, the rows held in the quarantine table for it, and
    the top reasons (from the quarantined rows, one reason per failed rule)."""
    from clientstrata.jobs.ingest.load import _rule

    ir, qt = IngestRun.__table__, QuarantinedRow.__table__
    if ingest_id is None:
        ingest_id = conn.execute(sa.select(sa.func.max(ir.c.ingest_id))).scalar()
        if ingest_id is None:
            raise InvalidInput("nothing ingested yet: run `clientstrata ingest DIR` first")
    row = conn.execute(sa.select(ir).where(ir.c.ingest_id == ingest_id)).mappings().first()
    if row is None:
        raise NotFound("ingest", str(ingest_id))
    summary = row["summary"] or {}
    tables = [*(summary.get("tables") or {}).values(), *(summary.get("derived") or {}).values()]
    g = pd.DataFrame(
        [{k: t.get(k) for k in ("table", "source_file", "read", "loaded", "quarantined", "derived")} for t in tables],
        columns=["table", "source_file", "read", "loaded", "quarantined", "derived"],
    )
    held = pd.DataFrame(
        conn.execute(sa.select(qt.c.table_name, qt.c.reason).where(qt.c.ingest_id == ingest_id)).all(),
        columns=["table", "reason"],
    )
    reasons: dict[str, list[str]] = {}
    if len(held):
        parts = held.assign(reason=held["reason"].str.split("; ")).explode("reason")
        parts["rule"] = parts["reason"].map(_rule)
        counts = parts.groupby(["table", "rule"]).size().rename("rows").reset_index()
        counts = counts.sort_values(["table", "rows", "rule"], ascending=[True, False, True])
        for tbl, grp in counts.groupby("table"):
            reasons[tbl] = [f"{n:,} × {r}" for r, n in zip(grp["rule"].head(3), grp["rows"].head(3))]
    from_summary = {
        t["table"]: [f"{r['rows']:,} × {r['reason']}" for r in t.get("top_reasons", [])[:3]] for t in tables
    }
    g["in_quarantine"] = g["table"].map(held["table"].value_counts()).fillna(0).astype(int)
    g["balanced"] = (g["loaded"] + g["quarantined"]) == g["read"]
    g["quarantine_rate"] = np.where(g["read"] > 0, (g["quarantined"] / g["read"].where(g["read"] > 0)).round(4), 0.0)
    g["top_reasons"] = [" | ".join(reasons.get(t) or from_summary.get(t) or []) for t in g["table"]]
    notes = [f"ingest #{ingest_id} of {row['source']} ({row['format']}), finished {row['finished_at']}"]
    if (g["quarantined"] > g["in_quarantine"]).any():
        notes.append(
            "some quarantined rows were already held from an earlier ingest of the same rows "
            "(quarantine keeps one copy per row); their reasons come from the ingest summary"
        )
    if not g["balanced"].all():
        notes.append("UNBALANCED: loaded + quarantined ≠ read for " + ", ".join(g.loc[~g["balanced"], "table"]))
    src = g[~g["derived"].astype(bool)]
    read, quarantined = int(src["read"].sum()), int(src["quarantined"].sum())
    summary_line = (
        f"ingest #{ingest_id}: read {read:,}, loaded {int(src['loaded'].sum()):,}, quarantined "
        f"{quarantined:,} ({_pct(quarantined / read) if read else '0%'}) in {len(src)} files"
    )
    return _attrs(
        g,
        "data-quality",
        f"Data quality, ingest #{ingest_id}",
        None,
        summary_line,
        notes,
        ingest_id=int(ingest_id),
        read=read,
        quarantined=quarantined,
    )


# --- clusters ------------------------------------------------------------------------------


def clusters(conn: Connection, run_id: int | None = None, fit: bool = False, seed: int = 0) -> pd.DataFrame:
    """Size and description of each behaviour cluster in the run (dimension
    behaviour_cluster). With `fit=True` and no cluster tags in the run, fit k-means on the
    current record instead and say so (nothing is published)."""
    from clientstrata.jobs.classification.segments import DIMENSION

    run_id = resolve_run(conn, run_id)
    try:
        t = _tags(
            conn,
            run_id,
            DIMENSION,
            hint=""
            if fit
            else "; `clientstrata report clusters --fit` fits them on the current data without publishing",
        )
    except MissingDimension:
        if not fit:
            raise
        from clientstrata.jobs.classification import features as F
        from clientstrata.jobs.classification.segments import assign_clusters, behaviour_features, fit_clusters
        from clientstrata.jobs.classification.standard import load_standard

        # what a run would cluster on, range by range (memory stays bounded by a range)
        parts = F.iter_individual_features(conn, load_standard(), progress=False)
        behaviour = pd.concat([behaviour_features(p) for p in parts], ignore_index=True)
        model = fit_clusters(behaviour, seed=seed)
        t = assign_clusters(behaviour, model)[["customer_id", "value", "label_zh", "label_en", "score"]]
        scores = ", ".join(f"k={k}: {v:.3f}" for k, v in sorted(model.scores.items()))
        note = (
            f"run {run_id} has no {DIMENSION} tags: fitted now on the current record, not published "
            f"(model {model.model_id}, k={model.k} by the highest silhouette; {scores})"
        )
        return _cluster_frame(t, run_id, [note], model=model.to_dict())
    return _cluster_frame(t, run_id, [])


def _cluster_frame(t: pd.DataFrame, run_id: int, notes: list[str], **extra) -> pd.DataFrame:
    g = (
        t.groupby(["value", "label_en", "label_zh"])
        .agg(customers=("customer_id", "size"), mean_distance=("score", "mean"))
        .reset_index()
    )
    g["share"] = (g["customers"] / g["customers"].sum()).round(4)
    g["mean_distance"] = g["mean_distance"].round(3)
    g = g.sort_values(["customers", "value"], ascending=[False, True], ignore_index=True)
    g = g[["value", "customers", "share", "label_en", "label_zh", "mean_distance"]]
    summary = f"{len(g)} behaviour clusters; largest {g.iloc[0]['value']} ({_pct(g.iloc[0]['share'])}): {g.iloc[0]['label_en']}"
    return _attrs(g, "clusters", f"Behaviour clusters, run {run_id}", run_id, summary, notes, **extra)


# --- registry, rendering, plots ---------------------------------------------------------------

REPORTS: dict[str, Callable[..., pd.DataFrame]] = {
    "tiers": tier_distribution,
    "concentration": contribution_concentration,
    "branches": branch_view,
    "rm-book": rm_book,
    "data-quality": data_quality,
    "clusters": clusters,
    "distribution": distribution,
}


def run_report(name: str, engine=None, **options) -> pd.DataFrame:
    """Run a report by its CLI name; options not given (None) take the report's default."""
    import inspect

    from clientstrata.graph.record.db import get_engine, migrate

    if name not in REPORTS:
        raise InvalidInput(f"no report {name!r}; reports: {', '.join(REPORTS)}")
    fn = REPORTS[name]
    params = inspect.signature(fn).parameters
    unknown = [k for k, v in options.items() if v is not None and k not in params]
    if unknown:
        raise InvalidInput(f"report {name} takes no {', '.join('--' + k.replace('_', '-') for k in unknown)}")
    if (
        "dimension" in params
        and params["dimension"].default is inspect.Parameter.empty
        and options.get("dimension") is None
    ):
        raise InvalidInput(f"report {name} needs --dimension (e.g. wealth_tier, cooperation_depth)")
    engine = engine or get_engine()
    migrate(engine)
    with engine.connect() as conn:
        return fn(conn, **{k: v for k, v in options.items() if v is not None and k in params})


def _plain(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def report_to_dict(df: pd.DataFrame) -> dict:
    rows = [{k: _plain(v) for k, v in r.items()} for r in df.to_dict("records")]
    meta = {k: _plain(v) for k, v in df.attrs.items()}
    return {**meta, "rows": rows}


def render_text(df: pd.DataFrame, max_rows: int = 60) -> str:
    a = df.attrs
    shown = df.head(max_rows)
    body = shown.to_string(index=False, float_format=lambda x: f"{x:,.4g}" if abs(x) < 1 else f"{x:,.2f}")
    lines = [a.get("title", ""), body]
    if len(df) > max_rows:
        lines.append(f"… {len(df) - max_rows:,} more rows (--json for all)")
    if a.get("summary"):
        lines.append(a["summary"])
    lines += [f"note: {n}" for n in a.get("notes", [])]
    return "\n".join(line for line in lines if line)


def _pyplot():
    # A bare Figure needs no GUI backend and no pyplot state; Jupyter's inline backend shows it.
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plots need matplotlib: pip install 'clientstrata[plot]'", name="matplotlib") from exc
    return Figure


_CJK_FAMILIES = (
    "Noto Sans CJK",
    "Noto Sans SC",
    "Source Han Sans",
    "WenQuanYi",
    "SimHei",
    "Microsoft YaHei",
    "PingFang",
    "Heiti",
    "Sarasa",
)


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in sorted(names) if any(n.startswith(c) for c in _CJK_FAMILIES)), None)


def plot_tier_distribution(df: pd.DataFrame):
    """Bars: share of customers and share of AUM per tier (from `tier_distribution`)."""
    Figure = _pyplot()
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    x = np.arange(len(df))
    ax.bar(x - 0.2, df["share"], width=0.4, label="customers")
    ax.bar(x + 0.2, df["aum_share"], width=0.4, label="AUM")
    cjk = _cjk_font()
    if cjk:
        ax.set_xticks(x, [f"{e}\n{z}" for e, z in zip(df["label_en"], df["label_zh"])], fontfamily=cjk)
    else:  # no font with Chinese glyphs installed: English labels only, rather than empty boxes
        ax.set_xticks(x, list(df["label_en"]))
    ax.set_ylabel("share")
    ax.set_title(df.attrs.get("title", "tier distribution"))
    ax.legend()
    fig.tight_layout()
    return fig


def plot_pareto(df: pd.DataFrame):
    """Cumulative contribution share against customer share, largest contributors first
    (from `contribution_concentration`), with the target point marked."""
    Figure = _pyplot()
    curve = np.asarray(df.attrs["curve"])
    fig = Figure(figsize=(6, 5))
    ax = fig.add_subplot()
    ax.plot(curve[:, 0], curve[:, 1], label=df.attrs.get("basis", "contribution"))
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="equal shares")
    xs, ys = df.attrs["customer_share_for_target"], df.attrs["share_reached"]
    ax.scatter([xs], [ys], color="red", zorder=3)
    ax.annotate(df.attrs["summary"].split(";")[0], (xs, ys), textcoords="offset points", xytext=(10, -15))
    ax.set_xlabel("share of customers (largest first)")
    ax.set_ylabel(f"cumulative share of {df.attrs.get('basis', 'contribution')}")
    ax.set_title(df.attrs.get("title", "concentration"))
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig
