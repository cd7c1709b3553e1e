"""Customer feedback (客户反馈): satisfaction surveys, complaints and compliments recorded
against a customer by the person who took them. Recording is audited in the same transaction;
a relationship manager records only for customers in their own book."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.clock import utcnow
from clientstrata.graph.errors import InvalidInput, NotFound
from clientstrata.graph.record import audit
from clientstrata.graph.record.access import book_subjects, require_in_book
from clientstrata.graph.record.models import Feedback, Individual
from clientstrata.jobs.errors import ActorRequired

__all__ = [
    "KINDS",
    "SCORE_RANGE",
    "MAX_TEXT",
    "MAX_FEEDBACK_PAGE",
    "record_feedback",
    "feedback_by_customer",
    "list_feedback",
]

KINDS = ("survey", "complaint", "compliment")
SCORE_RANGE = (1, 5)  # satisfaction, 1 very dissatisfied … 5 very satisfied
MAX_TEXT = 4000
MAX_FEEDBACK_PAGE = 1000
_feedback = Feedback.__table__


def record_feedback(
    conn: Connection,
    actor: str,
    customer_id: str,
    kind: str,
    score: int | None = None,
    text: str | None = None,
    book: str | None = None,
    at: dt.datetime | None = None,
) -> dict:
    """Record one piece of feedback. A survey needs a score (1–5), a complaint a text saying what
    went wrong; `book` (a relationship manager's id): a customer outside it is not found (`OutOfBook`)."""
    actor = (actor or "").strip()
    if not actor:
        raise ActorRequired("who is recording the feedback? pass an actor")
    require_in_book(conn, customer_id, book)
    if kind not in KINDS:
        raise InvalidInput(f"unknown feedback kind {kind!r} (kinds: {', '.join(KINDS)})")
    lo, hi = SCORE_RANGE
    if score is not None and not lo <= score <= hi:
        raise InvalidInput(f"`score` must be from {lo} to {hi} (got {score})")
    if kind == "survey" and score is None:
        raise InvalidInput(f"a survey needs a `score` from {lo} to {hi}")
    text = (text or "").strip() or None
    if kind == "complaint" and text is None:
        raise InvalidInput("a complaint needs a `text` saying what went wrong")
    if text is not None and len(text) > MAX_TEXT:
        raise InvalidInput(f"`text` is longer than {MAX_TEXT:,} characters")
    individuals = Individual.__table__
    if (
        conn.execute(sa.select(individuals.c.customer_id).where(individuals.c.customer_id == customer_id)).first()
        is None
    ):
        raise NotFound("customer", customer_id)
    at = at or utcnow()
    fid = conn.execute(
        sa.insert(_feedback).values(
            customer_id=customer_id, kind=kind, score=score, text=text, recorded_by=actor, recorded_at=at
        )
    ).inserted_primary_key[0]
    audit.record(
        conn,
        actor,
        "feedback.recorded",
        "feedback",
        fid,
        {"customer_id": customer_id, "kind": kind, "score": score},
        at=at,
    )
    return dict(conn.execute(sa.select(_feedback).where(_feedback.c.feedback_id == fid)).mappings().one())


def feedback_by_customer(conn: Connection, ids: Sequence[str], limit: int = 50) -> dict[str, list[dict]]:
    """Each customer's latest feedback, newest first (at most `limit` each)."""
    rows = conn.execute(
        sa.select(_feedback)
        .where(_feedback.c.customer_id.in_(list(ids)))
        .order_by(_feedback.c.customer_id, _feedback.c.recorded_at.desc(), _feedback.c.feedback_id.desc())
    ).mappings()
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if len(out[r["customer_id"]]) < limit:
            out[r["customer_id"]].append(dict(r))
    return out


def list_feedback(
    conn: Connection,
    customer_id: str | None = None,
    after: int = 0,
    first: int = 100,
    book: str | None = None,
) -> tuple[list[dict], bool]:
    """Up to `first` (≤ MAX_FEEDBACK_PAGE) pieces of feedback with an id above `after`, oldest
    first, and whether more follow: the bank-wide read. With `book` (a relationship manager's id)
    only their customers' — what `Customer.feedback` shows them — so another book's customer reads
    as one without feedback."""
    if not 1 <= first <= MAX_FEEDBACK_PAGE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_FEEDBACK_PAGE:,}")
    q = sa.select(_feedback).where(_feedback.c.feedback_id > after)
    if customer_id is not None:
        q = q.where(_feedback.c.customer_id == customer_id)
    if book is not None:
        q = q.where(_feedback.c.customer_id.in_(book_subjects(book)))
    rows = [dict(r) for r in conn.execute(q.order_by(_feedback.c.feedback_id).limit(first + 1)).mappings()]
    return rows[:first], len(rows) > first
