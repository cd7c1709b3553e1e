import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from clientstrata.graph.errors import InvalidInput
from clientstrata.jobs.classification import features as F
from clientstrata.jobs.classification.classify import TAG_COLUMNS
from clientstrata.jobs.classification.features import TRANSACTION_CHANNELS
from clientstrata.jobs.classification.segments import (
    BEHAVIOUR_FEATURES,
    ClusterModel,
    assign_clusters,
    behaviour_features,
    fit_clusters,
)
from clientstrata.jobs.classification.standard import load_standard


def _blobs(k: int, per: int = 150, dims: int = 4, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-20, 20, (k, dims))
    x = np.vstack([c + rng.normal(0, 1, (per, dims)) for c in centres])
    df = pd.DataFrame(x, columns=[f"f{i}" for i in range(dims)])
    df.insert(0, "customer_id", [f"C{i:05d}" for i in range(len(df))])
    return df


@pytest.mark.parametrize("planted", [3, 5])
def test_silhouette_picks_the_planted_k_and_records_every_k(planted):
    model = fit_clusters(_blobs(planted), ks=range(2, 9), seed=1)
    assert model.k == planted
    assert sorted(model.scores) == list(range(2, 9))
    assert model.scores[planted] == max(model.scores.values())
    assert sum(model.shares) == pytest.approx(1.0, abs=1e-5)
    assert f"k={planted}" in repr(model) and model.model_id in repr(model)


def _population(n: int = 900, seed: int = 5) -> pd.DataFrame:
    """Three kinds of customers: ordinary, rich (balances ×100), branch-loyal."""
    rng = np.random.default_rng(seed)
    kind = np.repeat([0, 1, 2], n // 3)
    m = len(kind)
    shares = rng.dirichlet([6, 2, 1, 1, 1], m)  # mobile-heavy by default
    shares[kind == 2] = rng.dirichlet([1, 1, 12, 1, 1], (kind == 2).sum())  # branch-heavy
    df = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(m)],
            "txn_count": rng.poisson(40, m),
            "txn_amount": rng.lognormal(9, 0.3, m),
            **{f"share_{c}": shares[:, i] for i, c in enumerate(TRANSACTION_CHANNELS)},
            "recency_days": rng.uniform(1, 10, m),
            "aum": rng.lognormal(10, 0.3, m) * np.where(kind == 1, 100, 1),
            "tenure_years": rng.normal(5, 0.5, m),
            "product_families": 3,
        }
    )
    return df.assign(kind=kind)


def test_descriptions_follow_the_centroids():
    pop = _population()
    model = fit_clusters(pop.drop(columns="kind"), ks=[3], seed=0, features=list(BEHAVIOUR_FEATURES))
    tags = assign_clusters(pop, model).set_index("customer_id")
    label_of_kind = (
        pop.assign(label=pop["customer_id"].map(tags["label_en"]))
        .groupby("kind")["label"]
        .agg(lambda s: s.mode().iat[0])
    )
    zh_of_kind = (
        pop.assign(label=pop["customer_id"].map(tags["label_zh"]))
        .groupby("kind")["label"]
        .agg(lambda s: s.mode().iat[0])
    )
    assert "high-balance" in label_of_kind[1] and "高资产" in zh_of_kind[1]
    assert "branch-loyal" in label_of_kind[2] and "偏好网点" in zh_of_kind[2]
    assert "high-balance" not in label_of_kind[0] and "branch-loyal" not in label_of_kind[0]
    desc = model.describe().set_index("label_en")
    assert desc.loc[label_of_kind[1], "aum"] > 1 > desc.loc[label_of_kind[0], "aum"]
    # nearly every customer of a kind lands in its kind's cluster (channel mixes overlap a little)
    purity = pop.groupby("kind")["customer_id"].agg(lambda s: tags.loc[s, "value"].value_counts(normalize=True).iat[0])
    assert (purity > 0.95).all() and len(set(label_of_kind)) == 3


def _split(df: pd.DataFrame, parts: int) -> list[pd.DataFrame]:
    edges = np.linspace(0, len(df), parts + 1).astype(int)
    return [df.iloc[a:b] for a, b in zip(edges[:-1], edges[1:])]


def test_assignment_is_partition_independent_and_the_model_round_trips_as_json():
    pop = _population(seed=9).drop(columns="kind")
    model = fit_clusters(pop, ks=range(2, 6), seed=0)
    whole = assign_clusters(pop, model)
    parts = pd.concat([assign_clusters(p, model) for p in _split(pop.sample(frac=1, random_state=2), 4)])
    parts = parts.set_index("customer_id").loc[whole["customer_id"]].reset_index()
    pd.testing.assert_frame_equal(whole, parts[whole.columns])
    assert list(whole.columns) == TAG_COLUMNS and (whole["dimension"] == "behaviour_cluster").all()
    assert whole["label_en"].str.len().max() <= 60 and whole["label_zh"].str.len().max() <= 40

    back = ClusterModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert back.model_id == model.model_id and back.scores == model.scores
    pd.testing.assert_frame_equal(assign_clusters(pop, back), whole)
    assert whole["inputs"].iat[0]["model_id"] == model.model_id


def test_missing_features_and_too_few_customers_are_clear_errors():
    pop = _population(n=30).drop(columns="kind")
    model = fit_clusters(pop, ks=[2, 3], seed=0)
    with pytest.raises(InvalidInput, match="lacks aum"):
        assign_clusters(pop.drop(columns="aum"), model)
    with pytest.raises(InvalidInput, match="at least 3 customers"):
        fit_clusters(pop.head(2), ks=[2])


def test_behaviour_features_from_the_record(loaded_ro):
    engine, _ = loaded_ro
    with engine.connect() as conn:
        b = behaviour_features(F.individual_features(conn, load_standard(), progress=False))
        n_people = conn.execute(sa.text("SELECT count(*) FROM individuals")).scalar()
        n_txn = conn.execute(
            sa.text(
                "SELECT count(*) FROM transactions t JOIN accounts a ON a.account_id = t.account_id "
                "WHERE a.owner_type = 'individual'"
            )
        ).scalar()
        fams = F.product_families(conn).set_index("customer_id")["families"].str.split(",").map(len)
        aum = F.current_aum(F.monthly_aum(conn, load_standard().fx_to_cny))
    # the behaviour's AUM is the record's current AUM
    pd.testing.assert_series_equal(
        b["aum"], aum.reindex(b["customer_id"]).fillna(0.0).reset_index(drop=True), check_names=False
    )
    assert (b.set_index("customer_id")["product_families"] == fams.reindex(b["customer_id"]).fillna(0)).all()
    assert len(b) == n_people == b["customer_id"].nunique()
    assert list(b.columns) == ["customer_id", *BEHAVIOUR_FEATURES]
    # the generator books twelve months ending on the latest booking: all of them fall in the window
    assert b["txn_count"].sum() == n_txn
    active = b["txn_count"] > 0
    shares = b.loc[active, [f"share_{c}" for c in TRANSACTION_CHANNELS]].sum(axis=1)
    assert np.allclose(shares, 1.0)
    assert (b.loc[~active, "recency_days"] >= 365).all() and (b.loc[active, "recency_days"] < 366).all()
    assert (b["aum"] >= 0).all() and b["aum"].sum() > 0 and (b["product_families"] >= 1).all()
    model = fit_clusters(b, seed=0)
    assert 3 <= model.k <= 8 and len(assign_clusters(b, model)) == n_people


def test_a_run_tags_every_customer_with_a_behaviour_cluster_and_keeps_the_model(loaded_ro):
    """classify fits k-means once on the run's features and keeps the model in the run's snapshot,
    so the clusters are reproducible and the report reads them from the run."""
    import sqlalchemy as sa

    from clientstrata.jobs import reports as R
    from clientstrata.jobs.classification.segments import ClusterModel, assign_clusters, behaviour_features

    engine, _ = loaded_ro
    with engine.connect() as conn:
        tags = pd.read_sql(
            "SELECT customer_id, value FROM tags WHERE run_id = 1 AND dimension = 'behaviour_cluster'", conn
        )
        people = conn.execute(sa.text("SELECT count(*) FROM individuals")).scalar_one()
        snapshot = conn.execute(sa.text("SELECT snapshot FROM classification_runs WHERE run_id = 1")).scalar_one()
        report = R.clusters(conn)
    snapshot = json.loads(snapshot) if isinstance(snapshot, str) else snapshot
    model = ClusterModel.from_dict(snapshot["behaviour_clusters"])
    assert len(tags) == people and tags["customer_id"].is_unique
    assert set(tags["value"]) == set(model.values) and len(model.values) == model.k >= 3
    assert report["customers"].sum() == people and "no behaviour_cluster tags" not in " ".join(
        report.attrs.get("notes", [])
    )
    # the stored model reproduces the run's assignment from the record's own behaviour columns
    with engine.connect() as conn:
        again = assign_clusters(behaviour_features(F.individual_features(conn, load_standard(), progress=False)), model)
    agree = again.set_index("customer_id")["value"].reindex(tags["customer_id"]).to_numpy() == tags["value"].to_numpy()
    assert agree.mean() > 0.9


def test_later_runs_keep_the_live_cluster_model_until_refit(loaded):
    """Cluster values stay comparable run to run: a run reuses the live model; refitting is asked for."""
    import sqlalchemy as sa

    from clientstrata.jobs.runs.pipeline import classify

    engine, graph = loaded

    def model_id(run_id):
        with engine.connect() as conn:
            snap = conn.execute(
                sa.text("SELECT snapshot FROM classification_runs WHERE run_id = :r"), {"r": run_id}
            ).scalar_one()
        return (json.loads(snap) if isinstance(snap, str) else snap)["behaviour_clusters"]["model_id"]

    second = classify(engine, graph, progress=False)
    assert model_id(second.run_id) == model_id(1)
    with engine.connect() as conn:
        moved = conn.execute(
            sa.text(
                "SELECT count(*) FROM classification_changes WHERE run_id = :r AND dimension = 'behaviour_cluster'"
            ),
            {"r": second.run_id},
        ).scalar_one()
    assert moved == 0  # same data, same model: nobody changes cluster
    third = classify(engine, graph, progress=False, refit_clusters=True)
    assert third.run_id == second.run_id + 1 and model_id(third.run_id)
