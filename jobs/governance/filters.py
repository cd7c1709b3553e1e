"""Filters that cannot match are refused, with what would.

`tier: "Wealth"` used to answer an empty page, which a front end shows as "no such customers"
and a CRM integration stores as "none". A value the live standard does not have, a dimension it
does not have, or a branch or RM id the record does not hold is an error that lists the valid
ones — except an id outside a relationship manager's book, where the answer must not tell them
which ids exist elsewhere."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.errors import InvalidInput
from clientstrata.graph.record.models import Branch, RelationshipManager
from clientstrata.jobs.errors import InvalidValue, UnknownDimension

from .standards import current_dimensions, dimension_values

__all__ = ["check_tag_conditions", "check_ids"]

_SHOWN = 12  # values listed in a message; branches and RMs can be thousands


def check_tag_conditions(conn: Connection, conditions: Iterable[tuple[str, Iterable[str]]]) -> None:
    """Every (dimension, values) names a dimension of the live standard and values it can give."""
    conditions = [(d, list(vs)) for d, vs in conditions]
    if not conditions:
        return
    dims = current_dimensions(conn)
    for dim, values in conditions:
        if dim not in dims:
            raise UnknownDimension(f"unknown dimension {dim!r} (the standard has: {', '.join(sorted(dims))})")
        allowed = dimension_values(dims[dim])
        if not allowed:  # scores and free labels: any value may occur
            continue
        for v in values:
            if v not in allowed:
                hint = next((f"; did you mean {a!r}?" for a in allowed if a.lower() == str(v).strip().lower()), "")
                raise InvalidValue(f"{v!r} is not a value of {dim} (values: {', '.join(allowed)}){hint}")


def check_ids(conn: Connection, branch_id: str | None, rm_id: str | None, book: str | None) -> None:
    """A branch or RM id the record does not hold is refused, for callers who may list them.
    A relationship manager (`book`) sees only their own book, so an unknown id there is simply
    an empty answer: saying "unknown" would confirm which ids exist."""
    if book is not None:
        return
    for what, table, key, value in (
        ("branch", Branch.__table__, "branch_id", branch_id),
        ("relationship manager", RelationshipManager.__table__, "rm_id", rm_id),
    ):
        if value is None or conn.execute(sa.select(table.c[key]).where(table.c[key] == value)).first():
            continue
        known = conn.execute(sa.select(table.c[key]).order_by(table.c[key]).limit(_SHOWN + 1)).scalars().all()
        more = ", …" if len(known) > _SHOWN else ""
        raise InvalidInput(f"unknown {what} {value!r} (e.g. {', '.join(known[:_SHOWN])}{more})")
