"""Publishing what a cluster computed: a Spark job's features and individual tags, as Parquet.

Past one machine the run splits (docs/cluster.md): `extract` writes the record's tables as
Parquet with what the cluster needs to know; `run_spark_job` (on the cluster) runs the feature
definitions and the dimensions over them (`classification.spark`) and writes two datasets; and
`classify(tags_from=folder)` publishes them here — the one step that must be a single
transaction on the record. The folder holds

- `extracts/`, one Parquet file per table the features read, and `standard.yaml`, the run's
  standard verbatim;
- `manifest.json`, written with the extracts (`write_manifest`): the latest ingest, the data's
  date, its balance months, whether it has transactions, and the standard's sha256. A record
  that has taken an ingest since, or a standard other than the run's, is refused: the tags
  would describe other data or rules;
- `features/`: the raw result of the features query (`features_dataframe`), conformed here as
  DuckDB's result is, so alerts, next-best actions and packages read the same frame;
- `tags/`: `classify_dataframe`'s tags, their inputs JSON text from the same encoder, so a tag
  Spark made and the same tag made here compare equal and a re-run writes nothing.

The behaviour cluster (the live model) and the enterprise dimensions are classified here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record.models import IngestRun
from clientstrata.jobs.classification.dimensions import DIMENSIONS, TAG_COLUMNS
from clientstrata.jobs.classification.features.engine import conformer, feature_query
from clientstrata.jobs.classification.features.extract import read_tables, write_parquet
from clientstrata.jobs.classification.features.individual import CHUNK
from clientstrata.jobs.classification.features.reference import recent_months
from clientstrata.jobs.classification.standard import Standard, parse_standard
from clientstrata.jobs.governance.standards import standard_text

__all__ = ["MANIFEST", "extract", "write_manifest", "run_spark_job", "read_external"]

MANIFEST, STANDARD = "manifest.json", "standard.yaml"
_CLUSTER = "behaviour_cluster"  # classified where the run publishes, with the live model


def _latest_ingest(conn: Connection) -> int | None:
    return conn.execute(sa.select(sa.func.max(IngestRun.ingest_id))).scalar()


def write_manifest(conn: Connection, folder: Path, std: Standard) -> dict:
    """Record, beside the extracts, what they were taken from and what the features query
    needs on a cluster that cannot see the record (its date, months, transactions)."""
    _, as_of, has_txn = feature_query(conn, std)
    manifest = {
        "ingest_id": _latest_ingest(conn),
        "as_of": as_of.isoformat(),
        "months": recent_months(conn, as_of),
        "has_txn": has_txn,
        "standard_version": std.version,
        "standard_sha256": std.sha256,
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STANDARD).write_text(standard_text(None, std), encoding="utf-8")
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest


def extract(conn: Connection, folder: Path, std: Standard) -> dict:
    """The record's last year as Parquet in `folder/extracts`, with the manifest and standard."""
    manifest = write_manifest(conn, folder, std)
    since = dt.datetime.combine(dt.date.fromisoformat(manifest["as_of"]) - dt.timedelta(days=365), dt.time())
    write_parquet(read_tables(conn, since), folder / "extracts")
    return manifest


def run_spark_job(spark, folder: Path) -> None:
    """On the cluster: the features (Spark SQL, the same definitions DuckDB runs) and the
    individual tags (`classify_partition` per partition) of `folder`'s extracts, written to
    `folder/features` and `folder/tags`. Needs nothing but the folder: no record, no secrets."""
    from clientstrata.jobs.classification.features.definitions import feature_sql
    from clientstrata.jobs.classification.spark import (
        classify_dataframe,
        features_dataframe,
        spark_population_parameters,
    )

    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    std = parse_standard((folder / STANDARD).read_text(encoding="utf-8"), str(folder / STANDARD))
    as_of = dt.date.fromisoformat(manifest["as_of"])
    query = feature_sql(std, as_of, manifest["months"], manifest["has_txn"], "spark")
    extracts = {p.stem: str(p) for p in sorted((folder / "extracts").glob("*.parquet"))}
    raw = features_dataframe(spark, extracts, query.sql)
    conform = conformer(query, as_of, manifest["has_txn"])
    params = spark_population_parameters(raw, std, conform)
    raw.write.mode("overwrite").parquet(str(folder / "features"))
    classify_dataframe(raw, std, params, conform).write.mode("overwrite").parquet(str(folder / "tags"))


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.exists():
        raise InvalidInput(f"no {name}/ dataset (the Spark job writes features/ and tags/)")
    try:
        return pq.read_table(path).to_pandas()
    except Exception as exc:  # a damaged or foreign file: say which, not the reader's internals
        raise InvalidInput(f"{name}/ is not a readable Parquet dataset ({type(exc).__name__})") from None


def _check_manifest(conn: Connection, folder: Path, std: Standard) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise InvalidInput(f"no {MANIFEST} (write it with the extracts: external.write_manifest)") from None
    except ValueError:
        raise InvalidInput(f"{MANIFEST} is not JSON") from None
    if manifest.get("standard_sha256") != std.sha256:
        raise InvalidInput(
            f"the tags were made with standard {manifest.get('standard_version')!r} "
            f"({str(manifest.get('standard_sha256'))[:12]}), not the run's {std.version!r} ({std.sha256[:12]})"
        )
    if manifest.get("ingest_id") != _latest_ingest(conn):
        raise InvalidInput(
            f"the record has changed since the extract (ingest {manifest.get('ingest_id')}, now "
            f"{_latest_ingest(conn)}): extract and run the Spark job again"
        )
    return manifest


def read_external(
    conn: Connection, folder: Path, std: Standard
) -> tuple[list[pd.DataFrame], Callable[[pd.DataFrame], pd.DataFrame]]:
    """The Spark job's output in `folder`, checked: (the features in partitions of CHUNK
    customers in id order, `given(part)` → that partition's individual tags in key order).
    A folder that does not fit is refused (`InvalidInput`) with its path and what is wrong."""
    folder = Path(folder)
    try:
        return _checked(conn, folder, std)
    except InvalidInput as exc:
        # `classify` reads the folder before a run is numbered: the refusal writes nothing
        raise InvalidInput(f"{folder}: refused, nothing published: {exc}") from None


def _checked(
    conn: Connection, folder: Path, std: Standard
) -> tuple[list[pd.DataFrame], Callable[[pd.DataFrame], pd.DataFrame]]:
    manifest = _check_manifest(conn, folder, std)
    query, as_of, has_txn = feature_query(conn, std, pd.Timestamp(manifest["as_of"]).date())
    raw = _read(folder, "features")
    missing = sorted(set(query.kinds) - {"as_of", "txn_data"} - set(raw.columns))
    if missing:
        raise InvalidInput(f"features/ lacks columns the definitions make: {', '.join(missing[:10])}")
    features = conformer(query, as_of, has_txn)(raw)
    ids = features["customer_id"].to_numpy(dtype=object)
    order = np.argsort(ids, kind="stable")
    features, ids = features.iloc[order].reset_index(drop=True), ids[order]
    if len(ids) and (ids[1:] == ids[:-1]).any():
        raise InvalidInput("features/ holds a customer more than once")
    individuals = conn.execute(sa.text("SELECT COUNT(*) FROM individuals")).scalar()
    if len(ids) != individuals:
        raise InvalidInput(f"features/ holds {len(ids):,} customers; the record has {individuals:,}")

    tags = _read(folder, "tags")
    absent = [c for c in TAG_COLUMNS if c not in tags.columns]
    if absent:
        raise InvalidInput(f"tags/ lacks the columns {', '.join(absent)}")
    tags = tags[TAG_COLUMNS].astype({c: object for c in TAG_COLUMNS if c != "score"})
    tags["score"] = pd.to_numeric(tags["score"], errors="coerce").astype(float)
    dims = sorted(d.name for d in DIMENSIONS if d.subject == "individual" and d.name in std.dimensions)
    dims = [d for d in dims if d != _CLUSTER]
    wrong = sorted(set(tags["dimension"]) - set(dims))
    if wrong:
        raise InvalidInput(f"tags/ holds dimensions this standard does not make here: {', '.join(wrong[:10])}")
    if (tags["standard_version"] != std.version).any():
        raise InvalidInput(f"tags/ holds tags of another standard version than {std.version!r}")
    if not all(isinstance(i, str) for i in tags["inputs"].tolist()):
        raise InvalidInput("tags/ inputs must be JSON text (classify_dataframe writes them so)")
    key = tags["customer_id"].to_numpy(dtype=object) + "\x00" + tags["dimension"].to_numpy(dtype=object)
    korder = np.argsort(key, kind="stable")
    tags = tags.iloc[korder].reset_index(drop=True)
    tag_ids = tags["customer_id"].to_numpy(dtype=object)
    if len(tags) != len(ids) * len(dims) or (key[korder][1:] == key[korder][:-1]).any():
        raise InvalidInput(
            f"tags/ must hold one tag per customer and dimension: {len(ids):,} × {len(dims)}, not {len(tags):,}"
        )
    if len(ids) and not (tag_ids[:: len(dims)] == ids).all():
        raise InvalidInput("tags/ and features/ hold different customers")

    def given(part: pd.DataFrame) -> pd.DataFrame:
        lo, hi = np.searchsorted(tag_ids, part["customer_id"].iloc[[0, -1]].to_numpy(dtype=object), side="left")
        return tags.iloc[lo : hi + len(dims)].reset_index(drop=True)

    parts = [features.iloc[s : s + CHUNK].reset_index(drop=True) for s in range(0, len(features), CHUNK)]
    return parts, given
