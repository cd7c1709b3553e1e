"""Suitability as it stands now, for the reads of a run's stored actions (the action table, the
customer page, the relationship manager's work list).

`decide` offers nothing above a customer's suitability when the run chooses, but a manual
override can lower their risk level after it. Suitability is a hard rule, so every read of the
stored choice rechecks it against the level readers see now — the run's `risk_preference` tag,
an override in force over it — and the professional investor's exemption the run's
`suitability` tag records. The rule itself is `risk.suitable`, here as a SQL condition so a
read can count and page the rows it keeps."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement, FromClause

from clientstrata.graph.clock import utcnow
from clientstrata.graph.record.models import Override, Tag
from clientstrata.graph.record.queries import in_force_clause

__all__ = ["suitable_clause", "suitable_now"]

_CUSTOMER_LEVELS = ("C1", "C2", "C3", "C4", "C5")
_PRODUCT_LEVELS = ("R1", "R2", "R3", "R4", "R5")


def suitable_clause(customer_level, product_risk, professional) -> ColumnElement[bool]:
    """`risk.suitable` as a SQL condition on three column expressions: a product without a risk
    rating suits everyone, a professional investor may take every level, and otherwise the
    customer's level (only C1..C5 counts: `unassessed`, `expired` or none suit nothing rated) must
    be at least the product's. Levels are one digit after the letter, so their text compares as
    their numbers do. tests/jobs/strategies/test_suitable_now.py holds it to `suitable`."""
    product = sa.func.upper(sa.func.trim(product_risk))
    return sa.or_(
        product_risk.is_(None),
        product == "",
        sa.func.coalesce(professional, sa.false()),
        sa.and_(
            customer_level.in_(_CUSTOMER_LEVELS),
            product.in_(_PRODUCT_LEVELS),
            sa.func.substr(customer_level, 2, 1) >= sa.func.substr(product, 2, 1),
        ),
    )


def suitable_now(actions: FromClause, run) -> tuple[FromClause, ColumnElement[bool]]:
    """`actions` (a table or subquery with `customer_id` and `product_risk`) joined to what
    suitability reads for run `run`, and the condition that keeps the rows suitable now: select
    from the first, filter by the second."""
    tg, ov = Tag.__table__, Override.__table__
    level, prof = tg.alias("level"), tg.alias("prof")
    forced = (
        sa.select(ov.c.customer_id, ov.c.value)
        .where(in_force_clause(utcnow()), ov.c.dimension == "risk_preference")
        .subquery("forced")
    )
    cid = actions.c.customer_id
    joined = (
        actions.outerjoin(
            level,
            sa.and_(level.c.run_id == run, level.c.customer_id == cid, level.c.dimension == "risk_preference"),
        )
        .outerjoin(forced, forced.c.customer_id == cid)
        .outerjoin(prof, sa.and_(prof.c.run_id == run, prof.c.customer_id == cid, prof.c.dimension == "suitability"))
    )
    keep = suitable_clause(
        sa.func.coalesce(forced.c.value, level.c.value),
        actions.c.product_risk,
        prof.c.inputs["professional"].as_boolean(),
    )
    return joined, keep
