"""A run's tags as the driver's rows, for the bulk writes of `jobs/runs/spans.py`.

Rows go to the driver as plain tuples with `inputs` already JSON text (orjson: compact, and
an order of magnitude faster than `json.dumps` over millions of tags; readers parse either;
the span writer compares it as text, so one encoder must write every run), bypassing
per-row statement compilation: SQLite gets large `executemany` batches, PostgreSQL a COPY.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from clientstrata.jobs.classification.dimensions import TAG_COLUMNS
from clientstrata.jobs.classification.dimensions._tags import inputs_text

__all__ = ["tag_rows", "encode_inputs", "publish_pragmas", "BATCH"]

BATCH = 50_000
_COLUMNS = ("run_id", *TAG_COLUMNS)


def encode_inputs(tags: pd.DataFrame) -> pd.DataFrame:
    """The tags frame with `inputs` as JSON text, as the record keeps them (and a fraction of
    the cost of pickling a million dicts to the process that writes them)."""
    return tags.assign(inputs=inputs_text(tags["inputs"]))


def tag_rows(tags: pd.DataFrame, run_id: int) -> list[tuple]:
    """The tags frame as insert tuples in `_COLUMNS` order: NaN scores as None, inputs as JSON
    (text already encoded is kept)."""
    score = tags["score"].to_numpy(dtype=float, na_value=np.nan)
    scores = [None if s != s else s for s in score.tolist()]
    inputs = inputs_text(tags["inputs"])
    cols = [
        tags[c].to_numpy(dtype=object).tolist() for c in ("customer_id", "dimension", "value", "label_zh", "label_en")
    ]
    rule = tags["rule"].to_numpy(dtype=object).tolist()
    version = tags["standard_version"].to_numpy(dtype=object).tolist()
    return list(zip([run_id] * len(tags), *cols, scores, rule, inputs, version))


def publish_pragmas(conn: Connection) -> None:
    """SQLite: a page cache big enough for the tags indexes while millions of rows go in (per
    connection, reset when it closes). Durability and atomicity stay as configured (WAL).
    Pages the cache cannot hold spill into the write-ahead log, and every later read in the
    transaction searches its index: at 1M customers 256 MB cost about a third more per
    partition written than 2 GB. 1 GB keeps the run inside the 8 GB it is given."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size=-1048576")  # KiB: 1 GB
