"""Household size and children, counted over the whole household (members outside the range
too); a customer without a household is a household of one. The household's pooled AUM is
an AUM column (`aum.household_aum`)."""

from __future__ import annotations

import pandas as pd

from ._sql import frame
from .reference import CustomerRange

__all__ = ["household_size"]

_SIZE = """
    SELECT hm.household_id, COUNT(*) AS household_size,
           SUM(CASE WHEN hm.role = 'child' THEN 1 ELSE 0 END) AS children
    FROM household_members hm WHERE hm.household_id IN (
        SELECT household_id FROM household_members WHERE customer_id >= :lo AND customer_id <= :hi)
    GROUP BY hm.household_id"""


def household_size(r: CustomerRange, household_id: pd.Series) -> pd.DataFrame:
    """household_size (1 without one) and children, row for row with `household_id`."""
    hh = frame(r.conn, _SIZE, **r.bounds)
    out = household_id.to_frame("household_id").merge(hh, on="household_id", how="left")
    return pd.DataFrame(
        {
            "household_size": out["household_size"].fillna(1).astype("int64"),
            "children": out["children"].fillna(0).astype("int64"),
        }
    )
