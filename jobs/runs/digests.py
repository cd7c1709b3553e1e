"""Which subjects a publish must touch: a digest of each subject's tags, kept beside the spans.

The span writer found a steady re-run's few changes exactly, but only after staging and
comparing every tag in SQL (19.2M rows at 1M customers) — most of a re-run's publish. Each
tag now carries a 64-bit digest of its content (made where the tags are made, in the worker
processes); a subject's digest is the sum of its tags'. A partition's subjects are compared
with the digests stored for its range (`tag_digests`, one range read), and only those whose
digest differs (changed or new) or that the range no longer holds (gone) are staged, diffed
and have their spans moved: the rest write nothing and are not read again.

The digests are written in the publish transaction with the spans, so a run that dies leaves
both as they were. A differing digest only sends the subject to the exact comparison (scores
within a relative 1e-9): a false "changed" costs time, never a write; a false "same" needs a
64-bit collision. Every subject with open spans has a digest row (migration 0018 gave the
existing ones a digest no content makes), so a subject that disappears is always found gone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.models import TagDigest

__all__ = ["INDIVIDUAL", "ENTERPRISE_SCOPE", "TOUCHED", "row_digests", "subject_digests", "Touched"]

INDIVIDUAL, ENTERPRISE_SCOPE = 0, 1  # the digests of individuals and of enterprises, ranged apart
TOUCHED = "run_touched"
_digests = TagDigest.__table__
_CONTENT = ["dimension", "value", "label_zh", "label_en", "rule", "inputs", "standard_version"]
_SCORE_MIX = np.uint64(0x9E3779B97F4A7C15)  # spreads the score's hash before it joins the others'


def _score_quanta(score: pd.Series) -> np.ndarray:
    """Scores as integers equal for values within about a relative 1e-9 (the features' sums
    move in their last bits between runs of the same data): 30 bits of mantissa and the exponent."""
    s = score.to_numpy(dtype=float, na_value=np.nan)
    mantissa, exponent = np.frexp(s)
    q = np.round(np.nan_to_num(mantissa) * 2.0**30).astype(np.int64) ^ (exponent.astype(np.int64) << 40)
    return np.where(np.isnan(s), np.int64(-1), q)


def row_digests(tags: pd.DataFrame) -> np.ndarray:
    """One uint64 per tag over its content (`inputs` as JSON text, as the record keeps it)."""
    if tags.empty:
        return np.zeros(0, dtype=np.uint64)
    content = pd.util.hash_pandas_object(tags[_CONTENT], index=False).to_numpy()
    return content ^ (pd.util.hash_array(_score_quanta(tags["score"])) * _SCORE_MIX)


def subject_digests(tags: pd.DataFrame) -> pd.Series:
    """customer_id -> the sum of its tags' digests (as int64, as the record stores it). The
    tags are in (customer, dimension) order, as the workers hand them over."""
    if tags.empty:
        return pd.Series([], dtype=np.int64)
    ids = tags["customer_id"].to_numpy(dtype=object)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    rows = tags["digest"].to_numpy(dtype=np.uint64) if "digest" in tags else row_digests(tags)
    sums = np.add.reduceat(rows, starts) if len(rows) else rows
    return pd.Series(sums.view(np.int64), index=ids[starts])


class Touched:
    """The subjects of one partition that the publish must write, in a temporary table
    (`TOUCHED`) that the change feed and the span writer restrict themselves to
    (`condition`); their digests replaced as they are found."""

    condition = "{t}.customer_id IN (SELECT customer_id FROM " + TOUCHED + ")"

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.count = 0  # subjects touched in the current partition
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TOUCHED}")
        tail = " ON COMMIT DROP" if conn.dialect.name == "postgresql" else ""
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {TOUCHED} (customer_id VARCHAR(40) PRIMARY KEY){tail}")

    def mark(self, tags: pd.DataFrame, scope: int, lo: str | None = None, hi: str | None = None) -> pd.DataFrame:
        """Compare the subjects of `tags` with the digests stored for `scope` in (lo, hi] (no
        bound where None); mark the changed, new and gone ones touched, store their new digests
        (and drop the gone ones') and return the rows of `tags` to stage."""
        new = subject_digests(tags)
        q = sa.select(_digests.c.customer_id, _digests.c.digest).where(_digests.c.scope == scope)
        if lo is not None:
            q = q.where(_digests.c.customer_id > lo)
        if hi is not None:
            q = q.where(_digests.c.customer_id <= hi)
        stored = dict(self.conn.execute(q).all())
        same = np.fromiter((stored.get(c) == d for c, d in zip(new.index, new.to_numpy().tolist())), bool, len(new))
        changed = new[~same]
        gone = sorted(set(stored).difference(new.index))
        touched = [*changed.index.tolist(), *gone]
        if not touched:
            return tags.iloc[:0]
        self.conn.execute(sa.text(f"INSERT INTO {TOUCHED} (customer_id) VALUES (:c)"), [{"c": c} for c in touched])
        self.conn.execute(
            sa.text(
                f"DELETE FROM {_digests.name} WHERE scope = :s AND customer_id IN (SELECT customer_id FROM {TOUCHED})"
            ),
            {"s": scope},
        )
        if len(changed):
            self.conn.execute(
                sa.insert(_digests),
                [{"scope": scope, "customer_id": c, "digest": d} for c, d in zip(changed.index, changed.tolist())],
            )
        self.count += len(touched)
        keep = set(changed.index)
        return tags[tags["customer_id"].isin(keep)] if len(keep) < len(new) else tags

    def clear(self) -> None:
        if self.count:
            self.conn.exec_driver_sql(f"DELETE FROM {TOUCHED}")
        self.count = 0

    def done(self) -> None:
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TOUCHED}")
