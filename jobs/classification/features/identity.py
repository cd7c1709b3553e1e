"""Who each individual is: age, gender, occupation, region, PEP flag, declared income and
credit score, and the confirmed household they belong to (a candidate household, inferred
and awaiting review, does not count yet)."""

from __future__ import annotations

import pandas as pd

from ._sql import flag, frame
from .reference import CustomerRange

__all__ = ["identity"]

_PEOPLE = """
    SELECT i.customer_id, i.birth_date, i.gender, i.occupation, i.annual_income, i.credit_score,
           i.is_pep, i.id_number IS NOT NULL AS has_id_number, i.onboarded_on, b.region,
           CASE WHEN h.household_id IS NOT NULL THEN m.household_id END AS household_id,
           CASE WHEN h.household_id IS NOT NULL THEN m.role END AS household_role
    FROM individuals i LEFT JOIN branches b ON b.branch_id = i.branch_id
    LEFT JOIN household_members m ON m.customer_id = i.customer_id
    LEFT JOIN households h ON h.household_id = m.household_id AND h.status = 'confirmed'
    WHERE i.customer_id >= :lo AND i.customer_id <= :hi ORDER BY i.customer_id"""


def identity(r: CustomerRange) -> tuple[pd.DataFrame, pd.Series]:
    """The range's rows, in id order (customer_id, as_of, age, gender, occupation, region,
    household_id, household_role, annual_income, credit_score, is_pep, has_id_number), and
    each one's onboarding date (tenure counts from it)."""
    people = frame(r.conn, _PEOPLE, **r.bounds)
    f = pd.DataFrame({"customer_id": people["customer_id"]})
    ref = pd.Timestamp(r.as_of)
    f["as_of"] = r.as_of.isoformat()
    birth = pd.to_datetime(people["birth_date"], errors="coerce")
    f["age"] = ((ref - birth).dt.days / 365.25).astype(float)
    for c in ("gender", "occupation", "region", "household_id", "household_role"):
        f[c] = people[c].astype(object).where(people[c].notna(), None)
    f["annual_income"] = pd.to_numeric(people["annual_income"], errors="coerce").astype(float)
    f["credit_score"] = pd.to_numeric(people["credit_score"], errors="coerce").astype(float)
    f["is_pep"] = flag(people["is_pep"])
    f["has_id_number"] = flag(people["has_id_number"])
    return f, people["onboarded_on"]
