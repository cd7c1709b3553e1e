"""What-ifs asked over the API (`whatIf`), done in the background: at a million customers a
what-if takes minutes, longer than a request should wait.

`queue_whatif` checks the draft at once — a bad standard is refused with its line before
anything is queued — and records it `queued`; the server's `RunWorker` claims it with a
conditional update (queued → running, so two servers never do the same one) and runs the
same `jobs.whatif.whatif` the CLI runs synchronously. The report (per dimension: customers,
moved, from → to counts and the first movers) is stored with the request, so it outlives the
request and the process that computed it. Nothing is published: no run, no tags, no feed.
Requesting, finishing and failing are audited. While running, the what-if holds a lease its
heartbeat renews, as a run does (`jobs.runs.lease`)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record import audit
from clientstrata.graph.record.models import WhatIfRequest
from clientstrata.graph.stores.base import GraphStore
from clientstrata.jobs.classification.standard import Standard, parse_standard
from clientstrata.jobs.errors import ActorRequired
from clientstrata.jobs.governance.standards import standard_text

from .lease import Heartbeat, lease_values, reap_lapsed
from .pipeline import failure_reason
from .whatif import WhatIf, whatif

__all__ = [
    "queue_whatif",
    "queued_whatifs",
    "run_queued_whatif",
    "get_whatif",
    "report_of",
    "STATUSES",
    "MAX_SAMPLE",
    "WHATIF_COLUMNS",
]

STATUSES = ("queued", "running", "done", "failed")
MAX_SAMPLE = 200  # movers kept per dimension: a reviewer's sample, not the whole population
_whatifs = WhatIfRequest.__table__
# everything but the draft's text, which callers have (and which may be long)
WHATIF_COLUMNS = tuple(c.name for c in _whatifs.columns if c.name != "standard_text")


def queue_whatif(
    conn: Connection, requested_by: str, standard: str | Standard, sample: int = 20, at: dt.datetime | None = None
) -> int:
    """Check the draft (its YAML text, or a parsed `Standard`) as a publish would — schema,
    `governance`, `alerts` — and record it queued; returns its number. Raises
    `InvalidStandard` (with the line) or `InvalidInput` before anything is written."""
    requested_by = (requested_by or "").strip()
    if not requested_by:
        raise ActorRequired("who is asking? a what-if records its requester")
    if not 0 <= sample <= MAX_SAMPLE:
        raise InvalidInput(f"`sample` must be between 0 and {MAX_SAMPLE}")
    std = standard if isinstance(standard, Standard) else parse_standard(standard, "draft")
    text = standard_text(None, std)
    at = at or utcnow()
    wid = conn.execute(
        sa.insert(_whatifs).values(
            status="queued",
            requested_by=requested_by,
            requested_at=at,
            standard_version=std.version,
            standard_sha256=std.sha256,
            standard_text=text,
            sample=sample,
        )
    ).inserted_primary_key[0]
    audit.record(
        conn,
        requested_by,
        "whatif.queued",
        "whatif",
        wid,
        {"standard_version": std.version, "standard_sha256": std.sha256, "sample": sample},
        at=at,
    )
    return int(wid)


def queued_whatifs(conn: Connection) -> list[int]:
    return list(
        conn.execute(
            sa.select(_whatifs.c.whatif_id).where(_whatifs.c.status == "queued").order_by(_whatifs.c.whatif_id)
        ).scalars()
    )


def report_of(w: WhatIf, sample: int) -> dict:
    """What is kept of a what-if: the total moved and, per dimension, the counts and the
    first `sample` movers by customer id (JSON-ready)."""
    dims = w.movements(sample)
    return {"moved": sum(d["moved"] for d in dims), "dimensions": dims}


def run_queued_whatif(engine: Engine, graph: GraphStore | None, whatif_id: int) -> dict | None:
    """Claim a queued what-if and do it; returns the stored row, or None when it is no longer
    queued (another worker took it). A failure is recorded — our own errors say what to fix,
    anything else only its type — and raised for the worker's log."""
    with engine.begin() as conn:
        claimed = (
            conn.execute(
                sa.update(_whatifs)
                .where(_whatifs.c.whatif_id == whatif_id, _whatifs.c.status == "queued")
                .values(status="running", started_at=utcnow(), **lease_values())
            ).rowcount
            == 1
        )
        if not claimed:
            return None
        row = conn.execute(
            sa.select(_whatifs.c.requested_by, _whatifs.c.standard_text, _whatifs.c.sample).where(
                _whatifs.c.whatif_id == whatif_id
            )
        ).one()
    running = (_whatifs.c.whatif_id == whatif_id, _whatifs.c.status == "running")  # not if reaped meanwhile
    try:
        with Heartbeat(engine, _whatifs, "whatif_id", whatif_id):
            w = whatif(engine, graph, parse_standard(row.standard_text, f"(what-if {whatif_id}) draft"))
            report = report_of(w, row.sample)
    except BaseException as exc:
        reason = failure_reason(exc)
        with engine.begin() as conn:
            conn.execute(
                sa.update(_whatifs)
                .where(*running)
                .values(status="failed", error=reason[:2000], finished_at=utcnow(), lease_until=None)
            )
            audit.record(conn, row.requested_by, "whatif.failed", "whatif", whatif_id, {"error": reason[:500]})
        raise
    with engine.begin() as conn:
        at = utcnow()
        done = conn.execute(
            sa.update(_whatifs)
            .where(*running)
            .values(status="done", report=report, base_run_id=w.base_run_id, finished_at=at, lease_until=None)
        ).rowcount
        if done:
            audit.record(
                conn,
                row.requested_by,
                "whatif.done",
                "whatif",
                whatif_id,
                {"base_run_id": w.base_run_id, "moved": report["moved"]},
                at=at,
            )
    with engine.connect() as conn:
        return get_whatif(conn, whatif_id)


def get_whatif(conn: Connection, whatif_id: int) -> dict:
    """One what-if: status, who asked and when, and the report once done (`report` is None
    until then; `error` says why a failed one failed). One whose worker died is reaped first
    (`jobs.runs.lease`), so a poller sees it failed rather than running for ever."""
    reap_lapsed(conn.engine)
    row = (
        conn.execute(sa.select(*[_whatifs.c[c] for c in WHATIF_COLUMNS]).where(_whatifs.c.whatif_id == whatif_id))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("what-if", str(whatif_id))
    return dict(row)
