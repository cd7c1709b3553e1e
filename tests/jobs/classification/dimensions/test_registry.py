"""The registry, and the promise that makes Spark possible: a partition's tags depend only on
its rows, the standard and the run's population parameters."""

import json

import numpy as np
import pandas as pd
import pytest

from clientstrata.jobs.classification import features as F
from clientstrata.jobs.classification.classify import (
    DIMENSIONS,
    ENTERPRISE,
    INDIVIDUAL,
    TAG_COLUMNS,
    classify_enterprises,
    classify_partition,
    population_parameters,
)
from clientstrata.jobs.classification.dimensions import explain_frame
from clientstrata.jobs.classification.standard import KNOWN_DIMENSIONS, load_standard
from clientstrata.jobs.ingest.load import ingest
from clientstrata.jobs.ingest.sync import sync_graph

STD = load_standard()
CONTRACT = {  # other modules code against these names
    "wealth_tier",
    "household_wealth_tier",
    "value_contribution",
    "risk_preference",
    "risk_consistency",
    "suitability",
    "lifecycle_stage",
    "relationship_stage",
    "cooperation_depth",
    "demand_tier",
    "credit_risk_tier",
    "aml_risk",
    "behaviour_rfm",
    "behaviour_channel",
    "behaviour_activity",
    "behaviour_loyalty",
    "business_categories",
    "composite_segment",
}


def test_the_registry_is_the_contract():
    assert set(INDIVIDUAL) == CONTRACT
    assert set(ENTERPRISE) == {
        "enterprise_industry",
        "enterprise_size",
        "enterprise_credit_tier",
        "enterprise_ecosystem_role",
    }
    assert {d.name for d in DIMENSIONS} == set(KNOWN_DIMENSIONS)
    assert [d.name for d in DIMENSIONS if d.population] == ["value_contribution"]


@pytest.fixture
def bank(engine, graph, bundle_dir):
    ingest(bundle_dir, engine=engine, progress=False)
    sync_graph(engine, graph, progress=False)
    with engine.connect() as conn:
        yield F.individual_features(conn, STD, progress=False), F.enterprise_features(conn, STD), conn, graph


def test_classify_partition_is_partition_independent(bank):
    feats = bank[0]
    params = population_parameters(feats, STD)
    whole = classify_partition(feats, STD, params)
    rng = np.random.default_rng(3)
    shuffled = feats.iloc[rng.permutation(len(feats))]
    parts = [shuffled.iloc[:17], shuffled.iloc[17:150], shuffled.iloc[150:]]
    assert population_parameters(parts, STD) == params
    pieces = pd.concat([classify_partition(p, STD, params) for p in parts], ignore_index=True)
    key = ["dimension", "customer_id"]
    a = whole.sort_values(key).reset_index(drop=True)
    b = pieces.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a.drop(columns="inputs"), b.drop(columns="inputs"))
    assert a["inputs"].tolist() == b["inputs"].tolist()
    with pytest.raises(ValueError, match="population parameters"):
        classify_partition(parts[0], STD)
    # Spark hands out empty partitions too
    empty = classify_partition(feats.iloc[:0].astype(object), STD, params)
    assert empty.empty and list(empty.columns) == TAG_COLUMNS


def test_one_tag_per_customer_per_dimension_with_explanations(bank):
    feats, efeats, _, _ = bank
    tags = classify_partition(feats, STD, population_parameters(feats, STD))
    assert list(tags.columns) == TAG_COLUMNS
    per = tags.groupby("dimension")["customer_id"].agg(["count", "nunique"])
    assert set(per.index) == CONTRACT and (per["count"] == 300).all() and (per["nunique"] == 300).all()
    assert tags["rule"].str.startswith("@").all() and tags["label_zh"].notna().all() and tags["label_en"].notna().all()
    for lang in ("en", "zh"):  # every stored key and its inputs put into words, in both languages
        said = pd.Series(explain_frame(tags, STD, lang))
        assert said.str.len().min() > 5 and not said.str.contains("@").any()
    assert (tags["standard_version"] == STD.version).all()
    json.dumps(tags["inputs"].tolist(), allow_nan=False)  # JSON-able: no NaN, no numpy scalars
    et = classify_enterprises(efeats, STD)
    assert et.groupby("dimension").size().to_dict() == {d: len(efeats) for d in ENTERPRISE}
    assert not set(et["customer_id"]) & set(tags["customer_id"])


def test_features_do_not_depend_on_the_chunk_size(bank):
    """The run's parts of 7 customers, put back together, are the whole frame."""
    feats, _, conn, graph = bank
    parts = list(F.iter_individual_features(conn, STD, chunk=7, progress=False))
    assert len(parts) == -(-len(feats) // 7) and all(len(p) <= 7 for p in parts)
    pd.testing.assert_frame_equal(feats, pd.concat(parts, ignore_index=True))
