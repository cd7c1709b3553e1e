"""How customers spread over a dimension's values: distribution, segment summaries, the tier
pyramid, and behaviour clusters with their descriptions."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .base import (
    MissingDimension,
    money,
    pct,
    resolve_run,
    run_dimensions,
    run_tags,
    tags_table,
    with_attrs,
)


def distribution(conn: Connection, dimension: str, run_id: int | None = None) -> pd.DataFrame:
    """Customers per value of any dimension in a run, with the mean score."""
    run_id = resolve_run(conn, run_id)
    t = run_tags(conn, run_id, dimension)
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
    return with_attrs(
        g,
        "distribution",
        f"{dimension}: customers per value, run {run_id}",
        run_id,
        f"{int(g['customers'].sum()):,} customers in {len(g)} {dimension} values; the largest is "
        f"{top['label_en']} ({top['label_zh']}) with {pct(top['share'])}",
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
    from clientstrata.graph.record.access import book_subjects
    from clientstrata.jobs.classification.segments import DIMENSION as CLUSTER

    run_id = resolve_run(conn, run_id)
    t, w = tags_table.alias("t"), tags_table.alias("w")
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
        raise MissingDimension(run_id, dimension, run_dimensions(conn, run_id))
    total = int(g["customers"].sum())
    g["share"] = (g["customers"] / total).round(4) if total else 0.0
    for c, nd in (("mean_score", 2), ("aum_total", 2), ("aum_avg", 2)):
        g[c] = pd.to_numeric(g[c], errors="coerce").round(nd)
    clusters = dimension == CLUSTER
    g["description_en"] = g["label_en"] if clusters else None
    g["description_zh"] = g["label_zh"] if clusters else None
    g = g.sort_values(["customers", "value"], ascending=[False, True], ignore_index=True)
    g = g.astype(object).where(g.notna(), None)
    return with_attrs(
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
    t = run_tags(conn, run_id, dimension, floats=("aum",))
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
        f"{n:,} customers, AUM {money(total)} CNY; {top['label_en']} ({top['label_zh']}) is "
        f"{pct(top['share'])} of customers and holds {pct(top['aum_share'])} of AUM"
    )
    return with_attrs(
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


def clusters(conn: Connection, run_id: int | None = None, fit: bool = False, seed: int = 0) -> pd.DataFrame:
    """Size and description of each behaviour cluster in the run (dimension
    behaviour_cluster). With `fit=True` and no cluster tags in the run, fit k-means on the
    current record instead and say so (nothing is published)."""
    from clientstrata.jobs.classification.segments import DIMENSION

    run_id = resolve_run(conn, run_id)
    try:
        t = run_tags(
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
    summary = f"{len(g)} behaviour clusters; largest {g.iloc[0]['value']} ({pct(g.iloc[0]['share'])}): {g.iloc[0]['label_en']}"
    return with_attrs(g, "clusters", f"Behaviour clusters, run {run_id}", run_id, summary, notes, **extra)
