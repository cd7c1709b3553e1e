"""Classification runs: numbered, atomic (published whole or not at all), kept as history."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..graph.db import count_rows, get_engine, migrate
from ..graph.errors import InvalidInput
from ..graph.models import ClassificationRun, IngestRun, Tag
from ..graph.store import GraphStore, open_graph
from . import features as F
from .classify import classify_enterprises, classify_partition, population_parameters
from .progress import bar
from .standard import load_standard

__all__ = ["classify", "RunReport", "latest_run_id"]

BATCH = 5_000


@dataclass
class RunReport:
    run_id: int
    standard_version: str
    customers: int
    tags: int
    distribution: pd.DataFrame  # dimension, value, customers

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "standard_version": self.standard_version,
                "customers": self.customers, "tags": self.tags,
                "distribution": {d: dict(zip(g["value"], g["customers"].astype(int)))
                                 for d, g in self.distribution.groupby("dimension")}}

    def __repr__(self) -> str:
        return f"RunReport(run_id={self.run_id}, customers={self.customers}, tags={self.tags})"


def latest_run_id(conn) -> int | None:
    runs = ClassificationRun.__table__
    return conn.execute(sa.select(sa.func.max(runs.c.run_id)).where(runs.c.status == "published")).scalar()


def build_tags(conn, graph: GraphStore, std, progress: bool | None = None) -> pd.DataFrame:
    """Features from the record and the graph (read in keyset ranges of customers), population
    parameters once over everyone, then every individual dimension per partition and the
    enterprise dimensions: one tags frame."""
    parts = list(F.iter_individual_features(conn, graph, std, progress=progress))
    params = population_parameters(parts, std)
    tags = [classify_partition(p, std, params) for p in parts]
    tags.append(classify_enterprises(F.enterprise_features(conn, std), std))
    out = pd.concat(tags, ignore_index=True)
    out["score"] = out["score"].astype(object).where(out["score"].notna(), None)  # NULL, not NaN, in the record
    return out


def classify(engine: Engine | None = None, graph: GraphStore | None = None,
             standard: str | Path | None = None, progress: bool | None = None,
             _fail_after_rows: int | None = None) -> RunReport:
    """Run every dimension over every individual and publish the run atomically."""
    std = load_standard(standard)
    engine = engine or get_engine()
    migrate(engine)
    runs = ClassificationRun.__table__
    with engine.begin() as conn:  # reserve the run number; it is visible as "running"
        snapshot = {"ingest_id": conn.execute(sa.select(sa.func.max(IngestRun.ingest_id))).scalar(),
                    "individuals": count_rows(conn, sa.table("individuals"))}
        run_id = conn.execute(sa.insert(runs).values(
            status="running", standard_version=std.version, standard_sha256=std.sha256,
            snapshot=snapshot, started_at=dt.datetime.now())).inserted_primary_key[0]
    own_graph = graph is None
    graph = graph or open_graph()
    try:
        if snapshot["individuals"] and not graph.counts().get("Individual"):
            raise InvalidInput("the customer graph is empty: run `clientstrata sync-graph` first")
        with engine.connect() as conn:
            tags = build_tags(conn, graph, std)
        tags["run_id"] = run_id
        records = tags.to_dict("records")
        # Tags and the status flip share one transaction: readers see all of the run or none.
        with engine.begin() as conn, bar(len(records), desc=f"publish run {run_id}", progress=progress) as pbar:
            for i in range(0, len(records), BATCH):
                conn.execute(sa.insert(Tag.__table__), records[i:i + BATCH])
                pbar.update(len(records[i:i + BATCH]))
                if _fail_after_rows is not None and i + BATCH >= _fail_after_rows:
                    raise RuntimeError("simulated failure mid-publish")  # tests: tags written, not published
            conn.execute(sa.update(runs).where(runs.c.run_id == run_id).values(
                status="published", published_at=dt.datetime.now(), customer_count=int(snapshot["individuals"])))
    except BaseException as exc:
        with engine.begin() as conn:
            conn.execute(sa.update(runs).where(runs.c.run_id == run_id).values(
                status="failed", error=str(exc)[:2000]))
        raise
    finally:
        if own_graph:
            graph.close()
    dist = (tags.groupby(["dimension", "value"]).size().rename("customers").reset_index())
    return RunReport(run_id, std.version, int(snapshot["individuals"]), len(tags), dist)
