"""Shared helpers for the dimension functions: the tag frame, JSON-able inputs, rule matching."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import orjson
import pandas as pd

from clientstrata.jobs.classification.standard import Standard, rule_tests

__all__ = [
    "TAG_COLUMNS",
    "tag_frame",
    "inputs_of",
    "inputs_text",
    "fmt",
    "fmt_many",
    "round2",
    "first_match",
    "Match",
]

TAG_COLUMNS = [
    "customer_id",
    "dimension",
    "value",
    "label_zh",
    "label_en",
    "score",
    "rule",
    "inputs",
    "standard_version",
]


def fmt(x) -> str:
    """A number as people read it: thousands separators, at most two decimals, and 0 for a
    negative zero or a small negative that rounds to it (nobody writes -0)."""
    if x is None:
        return "unknown"
    if x is True or x is False or isinstance(x, np.bool_):
        return "yes" if x else "no"
    x = float(x)
    if x != x:
        return "unknown"
    if abs(x) >= 1000 or x.is_integer():
        s = f"{x:,.0f}"
    else:
        s = f"{x:,.2f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def fmt_many(values) -> np.ndarray:
    """`fmt` over a numeric array, formatting each distinct value once (np.unique holds -0.0 and
    0.0 as one value: `fmt` says both alike, so either may stand for the other)."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    if len(v) == 0:
        return np.array([], dtype=object)
    uniq, inverse = np.unique(v, return_inverse=True)
    # `fmt` inlined: a partition formats tens of thousands of distinct amounts
    words = [
        "unknown"
        if u != u
        else f"{u:,.0f}"
        if abs(u) >= 1000 or u.is_integer()
        else f"{u:,.2f}".rstrip("0").rstrip(".")
        for u in uniq.tolist()
    ]
    words = ["0" if w == "-0" else w for w in words]
    return np.array(words, dtype=object)[inverse.reshape(-1)]


def round2(values) -> np.ndarray:
    """`round(float(x), 2)` over an array, as Python rounds (to the nearest decimal, so the
    record's inputs stay the same text): numpy's rint(x·100)/100 agrees everywhere but next to a
    half, where the scaling's error can tip it, so those few are rounded by Python."""
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.round(v, 2)
        y = np.abs(v * 100.0)
        near = ~(np.abs(y - np.floor(y) - 0.5) > 1e-6) | ~(y < 2.0**50)  # NaN and inf go to Python too
    if near.any():
        out[near] = [round(x, 2) for x in v[near].tolist()]
    return out


def inputs_of(frame: pd.DataFrame, round_to: int = 2) -> list[dict]:
    """Each row of `frame` as a JSON-able dict: NaN → None, numpy scalars → Python."""
    if frame.empty:
        return [{} for _ in range(len(frame))]
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].round(round_to)
    out = out.astype(object).where(out.notna(), None)
    # column lists zipped: to_dict("records") walks Arrow-backed strings element by element
    keys = list(out.columns)
    return [dict(zip(keys, row)) for row in zip(*(out[c].tolist() for c in keys))]


def inputs_text(inputs) -> list[str]:
    """Tag inputs as the record keeps them: compact JSON in the dimension's key order, by one
    encoder wherever tags are made (a worker here, a Spark executor), since a publish compares
    them as text. Text already encoded is kept."""
    dumps = orjson.dumps
    return [i if isinstance(i, str) else dumps(i).decode() for i in list(inputs)]


def tag_frame(
    ids, dimension: str, labels: Sequence[dict], pick: np.ndarray, score, rule, inputs, std: Standard
) -> pd.DataFrame:
    """The TAG_COLUMNS frame: `pick` indexes into `labels` (entries with value/label_zh/label_en)."""
    pick = np.asarray(pick, dtype=int)
    values = np.array([lab["value"] for lab in labels], dtype=object)
    zh = np.array([lab["label_zh"] for lab in labels], dtype=object)
    en = np.array([lab["label_en"] for lab in labels], dtype=object)
    n = len(pick)
    score = np.full(n, np.nan) if score is None else np.asarray(score, dtype=float)
    return pd.DataFrame(
        {
            "customer_id": np.asarray(ids, dtype=object),
            "dimension": dimension,
            "value": values[pick],
            "label_zh": zh[pick],
            "label_en": en[pick],
            "score": score,
            "rule": list(rule),
            "inputs": list(inputs),
            "standard_version": std.version,
        },
        columns=TAG_COLUMNS,
    )


class Match:
    """Which first-match rule fired for each row (`pick`) and which of the tests held (`bits`:
    bit i, the fired rule's test i; for the catch-all, the tests of every rule above it, in
    order, that failed). `keys` are the rule keys the tags keep (words: `_explain.match_words`)."""

    def __init__(self, pick: np.ndarray, bits: np.ndarray) -> None:
        self.pick, self.bits = pick, bits

    @property
    def keys(self) -> list[str]:
        from ._explain import match_keys

        return match_keys(self.pick, self.bits)


def _test(values: pd.Series, op: str, thr) -> np.ndarray:
    if op == "":
        return (values.fillna(False).astype(bool) == bool(thr)).to_numpy()
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        if op == "_min":
            return v >= thr
        if op == "_max":
            return v <= thr
        if op == "_below":
            return v < thr
        if op == "_above":
            return v > thr
    return np.isin(v, np.asarray(thr, dtype=float))


def first_match(frame: pd.DataFrame, rules: list[dict]) -> Match:
    """Evaluate the standard's first-match rules (see default.yaml) over the frame's columns,
    vectorised per test, keeping which tests held so the reason can be put into words on read."""
    n = len(frame)
    pick = np.full(n, len(rules) - 1)
    open_ = np.ones(n, dtype=bool)
    bits = np.zeros(n, dtype=np.int64)
    failed = np.zeros(n, dtype=np.int64)  # the catch-all's bits: every test above that failed
    shift = 0
    for i, rule in enumerate(rules):
        kind = "any" if "any" in rule else "all" if "all" in rule else None
        if kind is None:  # catch-all (validated to be last)
            pick[open_] = i
            bits[open_] = failed[open_]
            break
        tests = rule_tests(rule[kind])
        if shift + len(tests) > 62:  # the tests' bits share one int64
            raise ValueError("a dimension's first-match rules may hold at most 62 tests in all")
        held = [_test(frame[feat], op, thr) for feat, op, thr in tests]
        fire = np.logical_or.reduce(held) if kind == "any" else np.logical_and.reduce(held)
        rows = open_ & fire
        mine = sum(h.astype(np.int64) << k for k, h in enumerate(held))
        bits[rows] = mine[rows]
        failed |= sum((~h).astype(np.int64) << (shift + k) for k, h in enumerate(held))
        shift += len(tests)
        pick[rows] = i
        open_ &= ~rows
    return Match(pick, bits)
