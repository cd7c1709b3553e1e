"""A run's tags computed from its features: every individual dimension and the behaviour
cluster per partition (in worker processes), then the enterprises. `classify` streams them into
its publish; what-if takes them whole (`build_tags`), so the two can never disagree."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import orjson
import pandas as pd

from clientstrata.jobs.classification import features as F
from clientstrata.jobs.classification.classify import classify_enterprises, classify_partition, population_parameters
from clientstrata.jobs.classification.segments import (
    assign_clusters,
    behaviour_features,
    cluster_model_for_run,
    live_cluster_model,
)

from .digests import row_digests
from .publish import encode_inputs

__all__ = ["build_tags", "iter_tags"]


def build_tags(
    conn,
    std,
    progress: bool | None = None,
    refit_clusters: bool = False,
    features: list | None = None,
) -> pd.DataFrame:
    """Every tag of a run in one frame (what-if diffs it whole; `classify` streams `iter_tags`).
    Pass a list as `features` to get the partitions back (the alerts read them)."""
    parts = list(F.iter_individual_features(conn, std, progress=progress))
    if features is not None:
        features.extend(parts)
    tags, model, why_not = iter_tags(conn, parts, std, refit_clusters)
    out = pd.concat([t.drop(columns="digest") for _, t in tags], ignore_index=True)
    out["score"] = out["score"].astype(object).where(out["score"].notna(), None)  # NULL, not NaN, in the record
    out["inputs"] = [orjson.loads(i) for i in out["inputs"].tolist()]  # analysts read them as dicts
    out.attrs["behaviour_clusters"] = model.to_dict() if model else {"skipped": why_not}
    return out


def iter_tags(
    conn,
    parts: list[pd.DataFrame],
    std,
    refit_clusters: bool = False,
    workers: int | None = None,
    given: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
):
    """Population parameters once over every partition and the behaviour-cluster model (the live
    run's, fitted anew only when there is none or `refit_clusters`); then a generator of
    (features, tags) per partition — every individual dimension and the cluster, `inputs` as
    JSON text, as the record keeps them, and each tag's `digest` (`digests.row_digests`) — and
    last (None, enterprise tags). The generator
    empties `parts` as it goes.
    Returns (generator, model, why_not).

    With more than one partition, `workers` processes (default: one per core but the one the
    caller writes with; 0: none) classify the next partitions while the caller writes this one: the
    dimensions are pandas, which holds a core, and a publish is a single writer. At most
    `workers + 1` partitions are in flight, so memory stays bounded by the window, not by the run.

    `given(part)` returns a partition's individual tags made elsewhere (a Spark job's, read by
    `external`): then only the behaviour cluster and the enterprises are classified here."""
    params = population_parameters(parts, std) if given is None else {}
    live = None if refit_clusters else live_cluster_model(conn)
    model, why_not = cluster_model_for_run(parts, live)
    enterprises = F.enterprise_features(conn, std)
    workers = min(max(1, (os.cpu_count() or 1) - 1) if workers is None else workers, len(parts) - 1)

    def drained():  # each partition is let go once handed over: the caller's writes get its memory
        while parts:
            yield parts.pop(0)

    def tags():
        if given is not None:  # made elsewhere: the cluster only, in this process
            for p in drained():
                yield p, _classified(p, std, params, model, given(p))
        elif workers < 1:  # one partition, or asked to stay in this process
            for p in drained():
                yield p, _classified(p, std, params, model)
        else:
            with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
                window = deque()
                for p in drained():
                    window.append((p, pool.submit(_classified, p, std, params, model)))
                    if len(window) > workers:
                        done, future = window.popleft()
                        yield done, future.result()
                while window:
                    done, future = window.popleft()
                    yield done, future.result()
        yield None, _digested(_in_key_order(encode_inputs(classify_enterprises(enterprises, std))))

    return tags(), model, why_not


def _classified(part: pd.DataFrame, std, params: dict, model, given: pd.DataFrame | None = None) -> pd.DataFrame:
    """One partition's individual tags (a worker process runs this: arguments and result pickle),
    in (customer, dimension) order: the primary key's, so the writes append to its index and a
    range's rows lie together for the change-feed diff (dimension by dimension cost a third
    more per write at 1M)."""
    frames = [classify_partition(part, std, params) if given is None else given]
    if model is not None:
        frames.append(assign_clusters(behaviour_features(part), model, std.version))
    return _digested(_in_key_order(encode_inputs(pd.concat(frames, ignore_index=True))))


def _in_key_order(tags: pd.DataFrame) -> pd.DataFrame:
    return tags.sort_values(["customer_id", "dimension"], ignore_index=True)


def _digested(tags: pd.DataFrame) -> pd.DataFrame:
    """With each tag's digest, made here (in the worker) so the publish only sums them."""
    tags["digest"] = row_digests(tags)
    return tags
