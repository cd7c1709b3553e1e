"""Adopting a standard: the one deliberate, audited act that changes which standard runs use.

Every run — on demand, scheduled (`classify --if-due`), queued by the API — classifies with the
live standard (`standards.live_standard`: the latest adopted one). A run given any other
standard is refused (`StandardNotAdopted`) unless adoption is asked for explicitly
(`classify(…, adopt=True)`, `clientstrata classify --standard FILE --adopt`), so re-tagging never
swaps the standard back to the packaged one, and never forward to a file someone left in a cron
line. `adopt_standard` registers the text by sha256 and appends who adopted which sha256, when,
replacing which, to `standard_adoptions`, with an audit entry (`standard.adopted`)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.clock import utcnow
from clientstrata.graph.record import audit
from clientstrata.graph.record.models import StandardAdoption
from clientstrata.jobs.classification.standard import Standard
from clientstrata.jobs.errors import ActorRequired, InvalidState

from .standards import live_sha256, register_standard, standard_text

__all__ = ["StandardNotAdopted", "adopt_standard", "check_live", "adoptions", "ADOPTION_COLUMNS"]

_adoptions = StandardAdoption.__table__
ADOPTION_COLUMNS = ("adoption_id", "sha256", "version", "adopted_by", "adopted_at", "previous_sha256", "note")


class StandardNotAdopted(InvalidState):
    """A run was given a standard that is not the live one, without adopting it."""

    code = "STANDARD_NOT_ADOPTED"


def adopt_standard(
    conn: Connection,
    std: Standard,
    adopted_by: str | None,
    note: str | None = None,
    text: str | None = None,
    at: dt.datetime | None = None,
) -> dict:
    """Make `std` the live standard: registered, the adoption appended and audited. Adopting the
    standard that is already live changes nothing and returns None in `adoption_id`."""
    adopted_by = (adopted_by or "").strip()
    if not adopted_by:
        raise ActorRequired("who adopts this standard? adopting one is audited")
    previous = live_sha256(conn)
    found = {"sha256": std.sha256, "version": std.version, "previous_sha256": previous}
    if previous == std.sha256:
        return {"adoption_id": None, **found}
    register_standard(conn, std, text if text is not None else standard_text(None, std))
    at = at or utcnow()
    row = {**found, "adopted_by": adopted_by[:100], "adopted_at": at, "note": (note or "").strip() or None}
    adoption_id = conn.execute(sa.insert(_adoptions).values(**row)).inserted_primary_key[0]
    audit.record(
        conn,
        adopted_by,
        "standard.adopted",
        "standard",
        std.sha256,
        {"version": std.version, "previous_sha256": previous, "note": row["note"]},
        at=at,
    )
    return {"adoption_id": int(adoption_id), **row}


def check_live(
    conn: Connection, std: Standard, text: str | None = None, adopted_by: str | None = None, adopt: bool = False
) -> StandardNotAdopted | None:
    """None when `std` is live (or `adopt` has just made it so, by `adopted_by`); else the
    refusal to raise, saying what is live and how to adopt."""
    live = live_sha256(conn)
    if live == std.sha256:
        return None
    if adopt:
        adopt_standard(conn, std, adopted_by, note="adopted to run with it", text=text)
        return None
    return StandardNotAdopted(
        f"standard {std.version} ({std.sha256[:12]}) is not the live one ({live[:12]}): runs use the live "
        "standard; adopt it first (`clientstrata standard adopt FILE`, or `classify --standard FILE --adopt`)"
    )


def adoptions(conn: Connection) -> pd.DataFrame:
    """Every adoption, oldest first: who made which standard live, when, replacing which."""
    rows = conn.execute(
        sa.select(*[_adoptions.c[c] for c in ADOPTION_COLUMNS]).order_by(_adoptions.c.adoption_id)
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(ADOPTION_COLUMNS))
