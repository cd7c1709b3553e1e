"""A segment's strategy: for the customers holding one tag value in the live run, how many got
each service package, and the marketing plays and risk measures whose selectors name that value."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.access import book_subjects
from clientstrata.graph.record.models import CustomerPackage, Tag
from clientstrata.graph.record.queries import latest_run_id

__all__ = ["segment_packages", "naming"]

_tags, _packages = Tag.__table__, CustomerPackage.__table__


def segment_packages(conn: Connection, dimension: str, value: str, book: str | None = None) -> pd.DataFrame:
    """package, customers: the live run's packages of the customers tagged `value` on
    `dimension` (a relationship manager: their book), largest first."""
    run = latest_run_id(conn)
    if run is None:
        return pd.DataFrame(columns=["package", "customers"])
    q = (
        sa.select(_packages.c.package, sa.func.count().label("customers"))
        .select_from(
            _tags.join(
                _packages, sa.and_(_packages.c.run_id == _tags.c.run_id, _packages.c.customer_id == _tags.c.customer_id)
            )
        )
        .where(_tags.c.run_id == run, _tags.c.dimension == dimension, _tags.c.value == value)
        .group_by(_packages.c.package)
    )
    if book is not None:
        q = q.where(_tags.c.customer_id.in_(book_subjects(book)))
    rows = conn.execute(q).all()
    out = pd.DataFrame([tuple(r) for r in rows], columns=["package", "customers"])
    return out.sort_values(["customers", "package"], ascending=[False, True], ignore_index=True)


def naming(items, dimension: str, value: str) -> list:
    """The plays or measures with a selector that names `value` on `dimension`."""
    return [i for i in items if any(value in s.get(dimension, ()) for s in i.selectors)]
