"""Data-driven behaviour segments (数据驱动的客户分群): k-means on behaviour features.

`fit_clusters` learns a `ClusterModel` (scaling parameters, centroids, the silhouette score
of every k tried, and a description of each cluster in Chinese and English); the model is a
plain JSON document, so a run can store it and `assign_clusters` — pure numpy, no
scikit-learn — tags any partition of customers on its own (Spark `mapInPandas`): the
assignment of the whole equals the concatenation of the assignments of its parts.

How k is chosen (the stated criterion): for every k in `ks`, k-means (k-means++, `n_init`
restarts, fixed seed) is fitted on a bounded random sample of customers, and the mean
silhouette coefficient is computed on one bounded sample shared by every k; the k with the
highest silhouette wins (ties: the smaller k). Every k's score is kept in the model.

Scaling: amount-like features are log1p-transformed first (balances and spend are heavy
tailed: a Pareto tail would otherwise make one cluster of a handful of millionaires), then
every feature is z-scored against the population and clipped to ±5.

`behaviour_features(features)` takes the input from the run's wide features frame
(`jobs/classification/features`), partition by partition: what a run clusters on, and what a
report fitting on the current record reads (`iter_individual_features`, then this).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from clientstrata.graph.errors import InvalidInput

from .classify import TAG_COLUMNS
from .features import TRANSACTION_CHANNELS

__all__ = [
    "explain_behaviour_cluster",
    "ClusterModel",
    "fit_clusters",
    "assign_clusters",
    "behaviour_features",
    "cluster_model_for_run",
    "live_cluster_model",
    "BEHAVIOUR_FEATURES",
    "LOG_FEATURES",
    "DIMENSION",
]

DIMENSION = "behaviour_cluster"
BEHAVIOUR_FEATURES = (
    "txn_count",
    "txn_amount",
    *(f"share_{c}" for c in TRANSACTION_CHANNELS),
    "recency_days",
    "aum",
    "tenure_years",
    "product_families",
)
# Counts, money and waiting times: heavy tailed, compared on a log scale.
LOG_FEATURES = ("txn_count", "txn_amount", "recency_days", "aum")
# A cluster is described by the features whose centroid is at least this many population
# standard deviations from the population mean (on the scaled axis), strongest first.
TRAIT_MIN_Z = 0.5
MAX_TRAITS = 3
_CLIP_Z = 5.0

# feature -> ((en, zh) when high, (en, zh) when low)
_WORDS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "aum": (("high-balance", "高资产"), ("low-balance", "低资产")),
    "txn_count": (("highly active", "交易活跃"), ("low activity", "交易稀少")),
    "txn_amount": (("big spender", "交易金额大"), ("small amounts", "交易金额小")),
    "share_mobile": (("mobile-first", "偏好手机银行"), ("little mobile use", "少用手机银行")),
    "share_online": (("online banking", "偏好网银"), ("little online use", "少用网银")),
    "share_branch": (("branch-loyal", "偏好网点"), ("rarely in branch", "少去网点")),
    "share_atm": (("ATM user", "偏好ATM"), ("rarely at ATM", "少用ATM")),
    "share_pos": (("card spender", "刷卡消费多"), ("little card spend", "刷卡消费少")),
    "recency_days": (("lapsing", "久未交易"), ("recently active", "近期活跃")),
    "tenure_years": (("long-standing", "合作多年"), ("new customer", "新客户")),
    "product_families": (("multi-product", "多产品"), ("single-product", "产品单一")),
}
_TYPICAL = ("typical profile", "典型客户")
_LABEL_EN_MAX, _LABEL_ZH_MAX = 60, 40  # the tags table's column widths


@dataclass
class ClusterModel:
    """Everything `assign_clusters` needs, and why k was chosen. JSON round-trips exactly."""

    features: list[str]
    log_features: list[str]
    mean: list[float]  # per feature, after log1p
    std: list[float]
    centroids: list[list[float]]  # k × features, on the scaled axis
    values: list[str]  # K1 … Kk, largest cluster first
    label_en: list[str]
    label_zh: list[str]
    shares: list[float]  # share of the fitted customers in each cluster
    scores: dict[int, float]  # silhouette per k tried
    k: int
    seed: int
    n_fit: int
    criterion: str = "highest mean silhouette on a shared bounded sample (ties: smaller k)"
    fitted_at: str = ""
    model_id: str = field(default="")

    def __post_init__(self) -> None:
        self.scores = {int(k): float(v) for k, v in self.scores.items()}
        if not self.model_id:
            body = json.dumps(self._content(), sort_keys=True)
            self.model_id = hashlib.sha256(body.encode()).hexdigest()[:12]

    def _content(self) -> dict:
        d = {
            k: getattr(self, k)
            for k in (
                "features",
                "log_features",
                "mean",
                "std",
                "centroids",
                "values",
                "label_en",
                "label_zh",
                "shares",
                "k",
                "seed",
                "n_fit",
                "criterion",
            )
        }
        d["scores"] = {str(k): v for k, v in sorted(self.scores.items())}
        return d

    def to_dict(self) -> dict:
        return {**self._content(), "fitted_at": self.fitted_at, "model_id": self.model_id}

    @classmethod
    def from_dict(cls, d: dict) -> ClusterModel:
        d = dict(d)
        d["scores"] = {int(k): float(v) for k, v in d["scores"].items()}
        return cls(**d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def describe(self) -> pd.DataFrame:
        """One row per cluster: value, share, description, and the centroid in population
        standard deviations (0 = the population mean)."""
        z = pd.DataFrame(self.centroids, columns=self.features).round(2)
        head = pd.DataFrame(
            {
                "value": self.values,
                "share": np.round(self.shares, 4),
                "label_en": self.label_en,
                "label_zh": self.label_zh,
            }
        )
        return pd.concat([head, z], axis=1)

    def transform(self, behaviour: pd.DataFrame) -> np.ndarray:
        """Scaled feature matrix (rows × features) with this model's parameters."""
        return _scale(behaviour, self.features, self.log_features, np.asarray(self.mean), np.asarray(self.std))

    def __repr__(self) -> str:
        best = self.scores.get(self.k, float("nan"))
        parts = ", ".join(f"{v} {s:.0%} {e!r}" for v, s, e in zip(self.values, self.shares, self.label_en))
        return (
            f"ClusterModel(model_id={self.model_id!r}, k={self.k}, silhouette={best:.3f}, "
            f"n_fit={self.n_fit:,}, features={len(self.features)}, clusters=[{parts}])"
        )


def _matrix(behaviour: pd.DataFrame, features: Sequence[str], log_features: Iterable[str]) -> np.ndarray:
    missing = [f for f in features if f not in behaviour.columns]
    if missing:
        raise InvalidInput(
            f"behaviour frame lacks {', '.join(missing)} (has: {', '.join(map(str, behaviour.columns))})"
        )
    x = behaviour[list(features)].to_numpy(dtype=float, na_value=0.0).copy()
    x = np.nan_to_num(x, nan=0.0)
    logs = [i for i, f in enumerate(features) if f in set(log_features)]
    if logs:
        x[:, logs] = np.log1p(np.clip(x[:, logs], 0, None))  # negative balances count as none
    return x


def _scale(behaviour, features, log_features, mean, std) -> np.ndarray:
    x = _matrix(behaviour, features, log_features)
    return np.clip((x - mean) / std, -_CLIP_Z, _CLIP_Z)


def _describe(z: np.ndarray, features: Sequence[str]) -> tuple[str, str]:
    order = np.argsort(-np.abs(z), kind="stable")
    en: list[str] = []
    zh: list[str] = []
    for i in order[:MAX_TRAITS]:
        if abs(z[i]) < TRAIT_MIN_Z:
            break
        f = features[i]
        high, low = _WORDS.get(f, ((f"high {f}", f"{f}高"), (f"low {f}", f"{f}低")))
        w_en, w_zh = high if z[i] > 0 else low
        if len(", ".join([*en, w_en])) > _LABEL_EN_MAX or len("、".join([*zh, w_zh])) > _LABEL_ZH_MAX:
            break
        en.append(w_en)
        zh.append(w_zh)
    return (", ".join(en), "、".join(zh)) if en else _TYPICAL


def fit_clusters(
    behaviour: pd.DataFrame,
    ks: Iterable[int] = range(3, 9),
    seed: int = 0,
    sample: int = 100_000,
    silhouette_sample: int = 5_000,
    n_init: int = 4,
    features: Sequence[str] | None = None,
    log_features: Iterable[str] = LOG_FEATURES,
) -> ClusterModel:
    """Fit k-means for every k in `ks` on at most `sample` customers and keep the k with the
    best silhouette (computed on at most `silhouette_sample` customers, the same ones for
    every k). `features` defaults to every numeric column except customer_id."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    if features is None:
        features = [c for c in behaviour.columns if c != "customer_id" and pd.api.types.is_numeric_dtype(behaviour[c])]
    features = list(features)
    log_features = [f for f in log_features if f in features]
    n = len(behaviour)
    ks = sorted({int(k) for k in ks})
    if not features:
        raise InvalidInput("no numeric behaviour features to cluster on")
    if n < 3 or not ks or ks[0] < 2:
        raise InvalidInput(f"need at least 3 customers and every k ≥ 2 (got {n} customers, ks={ks})")
    x = _matrix(behaviour, features, log_features)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std == 0] = 1.0  # a constant feature stays at 0 and never describes a cluster
    z = np.clip((x - mean) / std, -_CLIP_Z, _CLIP_Z)

    rng = np.random.default_rng(seed)
    fit_rows = np.sort(rng.choice(n, sample, replace=False)) if n > sample else np.arange(n)
    sil_rows = (
        np.sort(rng.choice(fit_rows, silhouette_sample, replace=False))
        if len(fit_rows) > silhouette_sample
        else fit_rows
    )
    zf, zs = z[fit_rows], z[sil_rows]
    distinct = len(np.unique(zf, axis=0))
    scores: dict[int, float] = {}
    fitted: dict[int, np.ndarray] = {}
    for k in ks:
        if k >= min(distinct, len(zs)):
            continue  # silhouette needs 2 ≤ k < samples, and k distinct points
        km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(zf)
        labels = _nearest(zs, km.cluster_centers_)
        scores[k] = float(silhouette_score(zs, labels)) if len(set(labels)) > 1 else -1.0
        fitted[k] = km.cluster_centers_
    if not scores:
        raise InvalidInput(f"too few distinct customers ({distinct}) for any k in {ks}")
    best = max(scores, key=lambda k: (scores[k], -k))
    centers = fitted[best]
    sizes = np.bincount(_nearest(zf, centers), minlength=best)
    order = np.argsort(-sizes, kind="stable")  # K1 is the largest cluster
    centers, sizes = centers[order], sizes[order]
    words = [_describe(c, features) for c in centers]
    return ClusterModel(
        features=features,
        log_features=log_features,
        mean=mean.tolist(),
        std=std.tolist(),
        centroids=centers.round(6).tolist(),
        values=[f"K{i + 1}" for i in range(best)],
        label_en=[w[0] for w in words],
        label_zh=[w[1] for w in words],
        shares=(sizes / sizes.sum()).round(6).tolist(),
        scores=scores,
        k=best,
        seed=seed,
        n_fit=len(fit_rows),
        fitted_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )


def _nearest(z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    return _distances(z, centers).argmin(axis=1)


def _distances(z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    # ‖z − c‖² = ‖z‖² − 2 z·c + ‖c‖², in chunks so a million rows never build a cube
    out = np.empty((len(z), len(centers)))
    cc = (centers**2).sum(axis=1)
    for i in range(0, len(z), 200_000):
        part = z[i : i + 200_000]
        out[i : i + 200_000] = (part**2).sum(axis=1)[:, None] - 2 * part @ centers.T + cc
    return np.sqrt(np.clip(out, 0, None))


def assign_clusters(
    behaviour: pd.DataFrame, model: ClusterModel, standard_version: str = "data-driven"
) -> pd.DataFrame:
    """Tag every customer of `behaviour` with the nearest centroid (dimension
    `behaviour_cluster`). Pure: depends only on the rows given and the model, so partitions
    can be tagged independently. `score` is the distance to the centroid in population
    standard deviations (smaller: more typical of the cluster)."""
    if behaviour.empty:
        return pd.DataFrame(columns=TAG_COLUMNS)
    d = _distances(model.transform(behaviour), np.asarray(model.centroids))
    pick = d.argmin(axis=1)
    dist = d[np.arange(len(pick)), pick].round(4)
    values = np.asarray(model.values)[pick]
    raw = behaviour[model.features].astype(float).round(4)
    inputs = raw.to_dict("records")
    for rec, dd in zip(inputs, dist):
        rec["model_id"] = model.model_id
        rec["k"] = model.k
        rec["distance"] = float(dd)
    return pd.DataFrame(
        {
            "customer_id": behaviour["customer_id"].to_numpy(),
            "dimension": DIMENSION,
            "value": values,
            "label_zh": np.asarray(model.label_zh)[pick],
            "label_en": np.asarray(model.label_en)[pick],
            "score": dist,
            "rule": "@1",  # words on read: explain_behaviour_cluster
            "inputs": inputs,
            "standard_version": standard_version,
        },
        columns=TAG_COLUMNS,
    )


def explain_behaviour_cluster(tag: dict, inputs: dict, lang: str) -> str:
    """The words of a `behaviour_cluster` tag: which model placed the customer, among how many."""
    k, model = inputs.get("k"), inputs.get("model_id")
    if lang == "zh":
        return f"k-means 模型 {model} 的 {k} 个行为聚类中心中距离最近者（k 按轮廓系数选定）：{tag['label_zh']}"
    return f"nearest of {k} behaviour centroids (k-means model {model}, k by silhouette): {tag['value']} — {tag['label_en']}"


def behaviour_features(features: pd.DataFrame, window_days: float = 365.0) -> pd.DataFrame:
    """The behaviour columns (BEHAVIOUR_FEATURES) of a wide features frame
    (`features.individual_features`), one row per customer: what a run clusters on. Pure, so
    each partition maps on its own. Channel shares are of all transactions; customers without
    any count as `window_days` since the last one (the features' twelve-month window)."""
    n = features["txn_count"].fillna(0).astype(float)
    out = pd.DataFrame(
        {
            "customer_id": features["customer_id"].to_numpy(),
            "txn_count": n.astype(int).to_numpy(),
            "txn_amount": features["txn_amount"].fillna(0.0).astype(float).to_numpy(),
        }
    )
    for c in TRANSACTION_CHANNELS:
        col = features.get(f"ch_{c}", pd.Series(0, index=features.index)).fillna(0).astype(float)
        out[f"share_{c}"] = (col / n.where(n > 0)).fillna(0.0).to_numpy()
    out["recency_days"] = (
        features["days_since_last_txn"].astype(float).fillna(window_days).clip(upper=window_days).to_numpy()
    )
    out["aum"] = features["aum"].fillna(0.0).astype(float).to_numpy()
    out["tenure_years"] = features["tenure_years"].fillna(0.0).astype(float).to_numpy()
    out["product_families"] = (
        features["families"].fillna("").map(lambda s: len([f for f in str(s).split(",") if f])).astype(int).to_numpy()
    )
    return out[["customer_id", *BEHAVIOUR_FEATURES]]


def live_cluster_model(conn) -> ClusterModel | None:
    """The cluster model of the latest published run, if it had one."""
    import sqlalchemy as sa

    from clientstrata.graph.record.models import ClassificationRun
    from clientstrata.graph.record.queries import latest_run_id

    run_id = latest_run_id(conn)
    if run_id is None:
        return None
    snap = conn.execute(sa.select(ClassificationRun.snapshot).where(ClassificationRun.run_id == run_id)).scalar()
    snap = json.loads(snap) if isinstance(snap, str) else (snap or {})
    found = snap.get("behaviour_clusters") or {}
    return ClusterModel.from_dict(found) if "model_id" in found else None


def cluster_model_for_run(
    partitions: Sequence[pd.DataFrame], model: ClusterModel | None = None, seed: int = 0
) -> tuple[ClusterModel | None, str | None]:
    """The model a run assigns with: `model` (the live run's, so cluster values stay comparable
    from run to run) or, without one, one fitted on this run's population (a bounded sample).
    None and the reason when the data cannot be clustered (too few customers, or no behaviour
    that varies, as in a record without transactions)."""
    if model is not None and list(model.features) == list(BEHAVIOUR_FEATURES):
        return model, None
    behaviour = [behaviour_features(p) for p in partitions]
    population = pd.concat(behaviour, ignore_index=True) if behaviour else pd.DataFrame()
    if len(population) < 20 or population[list(BEHAVIOUR_FEATURES)].drop_duplicates().shape[0] < 9:
        return None, "too few customers with distinct behaviour to cluster"
    if not population["txn_count"].any():
        return None, "no transactions in the record: behaviour clusters need them"
    return fit_clusters(population, seed=seed, features=list(BEHAVIOUR_FEATURES)), None
