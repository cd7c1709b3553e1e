"""Writing a run's tags as validity spans, inside the caller's publish transaction.

A re-run that changes nothing used to rewrite every tag (19.2M rows at 1M customers). Each
partition's tags now go to a temporary stage table (`run_tags`, the driver's bulk path:
COPY on PostgreSQL, large `executemany` batches on SQLite), and two set-based statements per
customer range compare it with the open spans of `tag_spans`: an open span whose content
(value, labels, score, rule, inputs, standard version) the stage does not hold unchanged is
closed at this run's `publish_seq` (a score within a relative 1e-9 counts as unchanged); a staged tag with no open span left is inserted as a new
span from it. An unchanged tag writes nothing. Nothing commits here: a run that dies midway
leaves its spans untouched, and readers (the `tags` view) see all of a run or none.

The change feed (`RunChanges`) diffs the stage against the open spans before they move, so
call, per partition: `stage`, the feed's `append`s, `close` per range, `open`, then `clear`.

A bank's first publish (no open span at all when it starts) closes nothing and opens every
staged tag without looking for an open span: the partitions hold distinct subjects, so none of
its own can be there either (the primary key would refuse one). At 1M customers on PostgreSQL
that look-up of the first publish ran for over 40 minutes in one partition, as a nested loop
scanning `tag_spans` once per staged tag (seen in a backtrace of the server; the table's
statistics said empty while the publish filled it).
"""

from __future__ import annotations

from contextlib import closing

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.db_errors import map_db_errors
from clientstrata.jobs.classification.dimensions import TAG_COLUMNS

from .publish import BATCH, tag_rows

__all__ = ["SpanWriter", "STAGE", "STAGE_COLUMNS", "dimension_condition"]

STAGE = "run_tags"
STAGE_COLUMNS = tuple(TAG_COLUMNS)  # the stage holds a run's tags as the dimensions make them
_CONTENT = ("value", "label_zh", "label_en", "rule", "standard_version")
# A score is the same within a relative 1e-9: the features' sums are not bit-reproducible
# (DuckDB aggregates in parallel), and a re-run of unchanged data moved 1,368 of 384,000
# relationship_stage scores in their last bits at 20k customers. The span keeps the first.
_SCORE_SAME = (
    "((n.score IS NULL AND tag_spans.score IS NULL) OR ABS(n.score - tag_spans.score) <= 1e-9 * ABS(tag_spans.score))"
)


def dimension_condition(names: list[str], negate: bool) -> str:
    """A condition on `{t}.dimension` selecting `names` (or the others); '' without names.
    The names come from the code (`ENTERPRISE`), not from input."""
    if not names:
        return ""
    quoted = ", ".join("'" + n.replace("'", "''") + "'" for n in names)
    return "{t}.dimension " + ("NOT IN" if negate else "IN") + f" ({quoted})"


class SpanWriter:
    """The spans of one publish (`seq`: the run's `publish_seq`), written partition by partition."""

    def __init__(self, conn: Connection, seq: int) -> None:
        self.conn, self.seq = conn, seq
        self.pg = conn.dialect.name == "postgresql"
        self.staged = self.opened = self.closed = 0
        open_spans = conn.exec_driver_sql("SELECT 1 FROM tag_spans WHERE to_seq IS NULL LIMIT 1").first()
        self.first = open_spans is None  # the bank's first publish: nothing to close or to look for
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}")
        score = "DOUBLE PRECISION" if self.pg else "REAL"
        tail = " ON COMMIT DROP" if self.pg else ""
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {STAGE} (customer_id VARCHAR(40) NOT NULL, dimension VARCHAR(40) NOT NULL, "
            f"value VARCHAR(40) NOT NULL, label_zh VARCHAR(40) NOT NULL, label_en VARCHAR(60) NOT NULL, "
            f"score {score}, rule TEXT NOT NULL, inputs TEXT NOT NULL, standard_version VARCHAR(40) NOT NULL, "
            f"PRIMARY KEY (customer_id, dimension)){tail}"
        )

    def stage(self, tags: pd.DataFrame) -> int:
        """A partition's tags (TAG_COLUMNS) into the stage table; returns the count."""
        if tags.empty:
            return 0
        rows = [r[1:] for r in tag_rows(tags, 0)]  # without the run number: spans carry seq
        dbapi = self.conn.connection.dbapi_connection
        cols = ", ".join(STAGE_COLUMNS)
        with map_db_errors(self.conn), closing(dbapi.cursor()) as cur:
            if self.pg:
                with cur.copy(f"COPY {STAGE} ({cols}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
                cur.execute(f"ANALYZE {STAGE}")  # a temporary table has no statistics of its own
            else:
                sql = f"INSERT INTO {STAGE} ({cols}) VALUES ({', '.join('?' * len(STAGE_COLUMNS))})"
                for i in range(0, len(rows), BATCH):
                    cur.executemany(sql, rows[i : i + BATCH])
        self.staged += len(rows)
        return len(rows)

    def close(self, lo: str | None = None, hi: str | None = None, dimensions: str = "") -> int:
        """Close the open spans of customers in (lo, hi] (and `dimensions`, a `dimension_condition`)
        that the stage does not hold with the same content; returns how many."""
        if self.first:
            return 0
        where = "".join(
            (
                " AND tag_spans.customer_id > :lo" if lo is not None else "",
                " AND tag_spans.customer_id <= :hi" if hi is not None else "",
                f" AND {dimensions.format(t='tag_spans')}" if dimensions else "",
            )
        )
        same = " AND ".join(f"n.{c} = tag_spans.{c}" for c in _CONTENT)
        sql = (
            f"UPDATE tag_spans SET to_seq = :seq WHERE to_seq IS NULL{where} AND NOT EXISTS (SELECT 1 FROM {STAGE} n "
            f"WHERE n.customer_id = tag_spans.customer_id AND n.dimension = tag_spans.dimension AND {same} "
            f"AND {_SCORE_SAME} AND n.inputs = CAST(tag_spans.inputs AS TEXT))"
        )
        params = {"seq": self.seq, **({"lo": lo} if lo is not None else {}), **({"hi": hi} if hi is not None else {})}
        n = self.conn.execute(sa.text(sql), params).rowcount
        self.closed += n
        return n

    def open(self) -> int:
        """Insert every staged tag with no open span left (new, or its old span just closed)."""
        inputs = "CAST(n.inputs AS JSON)" if self.pg else "n.inputs"
        cols = ", ".join(f"n.{c}" for c in ("value", "label_zh", "label_en", "score", "rule"))
        sql = (
            "INSERT INTO tag_spans (customer_id, dimension, from_seq, to_seq, value, label_zh, label_en, score, rule, "
            f"inputs, standard_version) SELECT n.customer_id, n.dimension, {int(self.seq)}, NULL, {cols}, {inputs}, "
            f"n.standard_version FROM {STAGE} n"
        )
        if not self.first:
            sql += (
                " WHERE NOT EXISTS (SELECT 1 FROM tag_spans o "
                "WHERE o.customer_id = n.customer_id AND o.dimension = n.dimension AND o.to_seq IS NULL)"
            )
        n = self.conn.exec_driver_sql(sql).rowcount
        self.opened += n
        return n

    def clear(self) -> None:
        self.conn.exec_driver_sql(f"TRUNCATE {STAGE}" if self.pg else f"DELETE FROM {STAGE}")

    def done(self) -> None:
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}")
