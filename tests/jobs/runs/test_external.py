"""Publishing a cluster's output (`jobs/runs/external.py`): features and tags made elsewhere, as
Parquet, publish as the run would have computed them — and anything that does not fit the
record or the standard is refused with the previous run left live."""

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import InvalidInput
from clientstrata.jobs.classification.classify import classify_partition, population_parameters
from clientstrata.jobs.classification.dimensions._tags import inputs_text
from clientstrata.jobs.classification.features.engine import conformer, duckdb_raw, feature_query
from clientstrata.jobs.governance.standards import live_standard
from clientstrata.jobs.runs.external import MANIFEST, write_manifest
from clientstrata.jobs.runs.history import get_run
from clientstrata.jobs.runs.pipeline import classify, latest_run_id, queue_run


def _write(df: pd.DataFrame, path: Path) -> None:
    path.mkdir(parents=True)
    half = len(df) // 2  # two part files, as a cluster writes them
    for i, chunk in enumerate((df.iloc[:half], df.iloc[half:])):
        pq.write_table(
            pa.Table.from_pandas(chunk.reset_index(drop=True), preserve_index=False), path / f"part-{i}.parquet"
        )


def _cluster_output(engine, folder: Path) -> pd.DataFrame:
    """What the Spark job writes, made here with the same functions: the raw features, the
    individual tags (no behaviour cluster) with their inputs as the record's JSON text."""
    with engine.connect() as conn:
        std = live_standard(conn)
        write_manifest(conn, folder, std)
        query, as_of, has_txn = feature_query(conn, std)
        raw = duckdb_raw(conn, query, as_of)
    features = conformer(query, as_of, has_txn)(raw)
    tags = classify_partition(features, std, population_parameters(features, std))
    tags["inputs"] = inputs_text(tags["inputs"])
    _write(raw.sample(frac=1, random_state=1), folder / "features")  # in no particular order
    _write(tags.astype({c: object for c in tags.columns if c != "score"}), folder / "tags")
    return tags


def test_a_cluster_output_publishes_as_the_run_made_it(loaded, tmp_path):
    engine, graph = loaded
    _cluster_output(engine, tmp_path)
    report = classify(engine, graph, progress=False, tags_from=tmp_path)
    # the same tags, text for text: nothing staged, nothing written, no change in the feed
    assert report.run_id == 2 and report.tags > 0
    assert report.staged == report.spans_opened == report.changes == 0
    with engine.connect() as conn:
        snap = conn.execute(sa.text("SELECT snapshot FROM classification_runs WHERE run_id = 2")).scalar()
    assert str(tmp_path) in str(snap)


def test_a_changed_tag_in_the_cluster_output_is_published_and_fed(loaded, tmp_path, customer_in):
    engine, graph = loaded
    cid = customer_in("wealth_tier", "mass")[0]
    tags = _cluster_output(engine, tmp_path)
    row = (tags["customer_id"] == cid) & (tags["dimension"] == "wealth_tier")
    tags.loc[row, ["value", "label_en"]] = ["affluent", "Affluent"]
    (tmp_path / "tags" / "part-0.parquet").unlink()
    (tmp_path / "tags" / "part-1.parquet").unlink()
    (tmp_path / "tags").rmdir()
    _write(tags.astype({c: object for c in tags.columns if c != "score"}), tmp_path / "tags")
    report = classify(engine, graph, progress=False, tags_from=tmp_path)
    assert report.changes == 1 and report.spans_opened == 1
    with engine.connect() as conn:
        fed = conn.execute(
            sa.text("SELECT customer_id, dimension, old_value, new_value FROM classification_changes WHERE run_id = 2")
        ).all()
    assert [tuple(r) for r in fed] == [(cid, "wealth_tier", "mass", "affluent")]


def _drop_a_tag(folder: Path) -> None:
    t = pq.read_table(folder / "tags").to_pandas()
    for f in (folder / "tags").iterdir():
        f.unlink()
    pq.write_table(pa.Table.from_pandas(t.iloc[1:]), folder / "tags" / "part-0.parquet")


def _other_standard(folder: Path) -> None:
    m = json.loads((folder / MANIFEST).read_text())
    (folder / MANIFEST).write_text(json.dumps({**m, "standard_sha256": "0" * 64, "standard_version": "2020.1"}))


def _older_ingest(folder: Path) -> None:
    m = json.loads((folder / MANIFEST).read_text())
    (folder / MANIFEST).write_text(json.dumps({**m, "ingest_id": (m["ingest_id"] or 0) - 1}))


def _no_features(folder: Path) -> None:
    for f in (folder / "features").iterdir():
        f.unlink()
    (folder / "features").rmdir()


def _garbage_tags(folder: Path) -> None:
    (folder / "tags" / "part-0.parquet").write_bytes(b"not parquet")


def _drop_a_customer(folder: Path) -> None:
    f = pq.read_table(folder / "features").to_pandas()
    for p in (folder / "features").iterdir():
        p.unlink()
    pq.write_table(pa.Table.from_pandas(f.iloc[1:]), folder / "features" / "part-0.parquet")


@pytest.mark.parametrize(
    "damage, says",
    [
        (_drop_a_tag, "one tag per customer and dimension"),
        (_other_standard, "made with standard '2020.1'"),
        (_older_ingest, "the record has changed since the extract"),
        (_no_features, "no features/ dataset"),
        (_garbage_tags, "not a readable Parquet dataset"),
        (_drop_a_customer, "the record has"),
    ],
)
def test_a_cluster_output_that_does_not_fit_is_refused_and_the_live_run_stays(loaded, tmp_path, damage, says):
    # refused as a standard that is not live is: before a run is numbered, nothing written; the
    # error names the folder and what is wrong with it
    engine, graph = loaded
    _cluster_output(engine, tmp_path)
    damage(tmp_path)
    before = _written(engine)
    with pytest.raises(InvalidInput, match=says) as refused:
        classify(engine, graph, progress=False, tags_from=tmp_path)
    assert str(refused.value).startswith(f"{tmp_path}: refused, nothing published: ")
    with engine.connect() as conn:
        assert latest_run_id(conn) == 1
    assert _written(engine) == before


def _written(engine) -> dict:
    with engine.connect() as conn:
        return {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("classification_runs", "audit_log", "standards")
        }


def test_a_queued_run_given_a_folder_that_does_not_fit_is_recorded_failed_with_the_reason(loaded, tmp_path):
    # a queued run has its number already: refused as a queued run with a replaced standard is
    engine, graph = loaded
    queued = queue_run(engine, requested_by="ops")
    with pytest.raises(InvalidInput, match="no manifest.json"):
        classify(engine, graph, progress=False, run_id=queued, tags_from=tmp_path)
    with engine.connect() as conn:
        run = get_run(conn, queued)
        assert latest_run_id(conn) == 1
    assert run["status"] == "failed" and run["error"].startswith(f"{tmp_path}: refused, nothing published: ")
