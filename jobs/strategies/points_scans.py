"""Which ingests the points job has already read, per earn source and earn rules (`points_scans`).

Reading every earning event with NOT EXISTS against the ledger on every run grows with the whole
history of the bank. A run instead reads only the rows of the ingests not yet scanned for a
source under the same rules (a digest of that source's earn rules: a rule that changes reads
every ingest again, as a new rule may take events the old one left). An ingest's rows commit
with its `ingest_runs` row, finished, in one transaction, so an ingest a run sees as finished is
whole, whatever order ingests commit in. The scans are written in the run's transaction with the
postings they led to. Idempotence still rests on the ledger's unique (customer, source) key:
a row an update ingest re-stamps is read again and posts nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.models import IngestRun, PointsScan

from .points_rules import PointsRules

__all__ = ["rules_digest", "finished_ingests", "scanned_ingests", "record_scans"]

_scans = PointsScan.__table__


def rules_digest(rules: PointsRules, source: str) -> str:
    """The digest of the earn rules that take events of `source` (in the playbook's order)."""
    mine = [asdict(r) for r in rules.earn if r.source == source]
    return hashlib.sha256(json.dumps(mine, sort_keys=True, default=str).encode()).hexdigest()


def finished_ingests(conn: Connection) -> set[int]:
    """Every ingest this transaction sees as finished (its rows are all committed with it)."""
    runs = IngestRun.__table__
    return {int(i) for (i,) in conn.execute(sa.select(runs.c.ingest_id).where(runs.c.finished_at.is_not(None)))}


def scanned_ingests(conn: Connection, source: str, digest: str) -> set[int]:
    """The ingests whose `source` events were read under the rules of `digest`."""
    q = sa.select(_scans.c.ingest_id).where(_scans.c.source == source, _scans.c.rules == digest)
    return {int(i) for (i,) in conn.execute(q)}


def record_scans(conn: Connection, scans: list[tuple[str, str, int]], now: dt.datetime) -> None:
    """Record (source, digest, ingest_id) as read, in the caller's transaction."""
    rows = [{"source": s, "rules": d, "ingest_id": i, "scanned_at": now} for s, d, i in scans]
    if rows:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        conn.execute(insert(_scans).on_conflict_do_nothing(), rows)
