"""The latest risk questionnaire (suitability): level, score, when it was assessed and until
when it is valid, and whether the customer is a professional investor."""

from __future__ import annotations

import pandas as pd

from ._sql import flag, frame
from .reference import CustomerRange

__all__ = ["questionnaire"]


def questionnaire(r: CustomerRange, ids: pd.Series) -> pd.DataFrame:
    """q_level (0 = none, 1..5), q_score, q_assessed_on, q_valid_until (`YYYY-MM-DD` or None)
    and q_professional, row for row with `ids`."""
    q = frame(
        r.conn,
        """
        SELECT customer_id, assessed_on, score, risk_level, valid_until, is_professional
        FROM risk_questionnaires WHERE customer_id >= :lo AND customer_id <= :hi""",
        **r.bounds,
    )
    q["assessed_on"] = pd.to_datetime(q["assessed_on"], errors="coerce")
    q = (
        q.sort_values(["customer_id", "assessed_on"])
        .drop_duplicates("customer_id", keep="last")
        .set_index("customer_id")
    )
    q = q.reindex(ids)
    f = pd.DataFrame(index=ids.index)
    f["q_level"] = pd.to_numeric(q["risk_level"].str.slice(1, 2), errors="coerce").fillna(0).astype("int64").to_numpy()
    f["q_score"] = pd.to_numeric(q["score"], errors="coerce").astype(float).to_numpy()
    f["q_assessed_on"] = q["assessed_on"].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    f["q_valid_until"] = (
        pd.to_datetime(q["valid_until"], errors="coerce").dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    )
    f["q_professional"] = flag(q["is_professional"]).to_numpy()
    for c in ("q_assessed_on", "q_valid_until"):
        f[c] = f[c].astype(object).where(f[c].notna(), None)
    return f
