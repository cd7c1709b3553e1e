"""Products held and bought: the product families an individual holds now, the highest risk
level held and bought in the last year, and tenure (from onboarding, else the first account)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from ._sql import frame
from .reference import CustomerRange

__all__ = ["product_families", "holdings"]


def product_families(conn: Connection) -> pd.DataFrame:
    """customer_id, families: the sorted, comma-joined product families an individual holds now
    as owner (open accounts, running loans, cards), over the whole record. Not read by a run
    (`holdings` builds `families` per range, co-held accounts included); kept as the plain
    reference for analysts and tests."""
    df = frame(
        conn,
        """
        SELECT a.owner_id AS customer_id, p.family FROM accounts a
          JOIN products p ON p.product_id = a.product_id
          WHERE a.owner_type = 'individual' AND a.status <> 'closed'
        UNION SELECT a.owner_id, 'loan' FROM loans l JOIN accounts a ON a.account_id = l.account_id
          WHERE a.owner_type = 'individual' AND l.status IN ('C', 'D')
        UNION SELECT c.holder_id, 'card' FROM cards c""",
    )
    if df.empty:
        return pd.DataFrame(columns=["customer_id", "families"])
    return (
        df.drop_duplicates()
        .sort_values(["customer_id", "family"])
        .groupby("customer_id")["family"]
        .agg(",".join)
        .rename("families")
        .reset_index()
    )


def holdings(r: CustomerRange, ids: pd.Series, onboarded: pd.Series) -> pd.DataFrame:
    """families (comma-joined, held now), max_risk_held, max_risk_bought (0 = none, 1..5 =
    R1..R5) and tenure_years, row for row with `ids` (`onboarded`: each one's onboarding date).

    Held: owned, co-held as joint holder or authorised user, cards, running loans; bought:
    accounts opened in the last year."""
    prods = frame(
        r.conn,
        """
        SELECT a.owner_id AS customer_id, p.family,
               MAX(CASE WHEN a.status <> 'closed' THEN CAST(SUBSTR(p.risk_level, 2, 1) AS INTEGER) END) AS risk_held,
               MAX(CASE WHEN a.opened_on >= :since THEN CAST(SUBSTR(p.risk_level, 2, 1) AS INTEGER) END) AS risk_bought,
               SUM(CASE WHEN a.status <> 'closed' THEN 1 ELSE 0 END) AS open_accounts, MIN(a.opened_on) AS first_opened
        FROM accounts a JOIN products p ON p.product_id = a.product_id
        WHERE a.owner_type = 'individual' AND a.owner_id >= :lo AND a.owner_id <= :hi
        GROUP BY a.owner_id, p.family""",
        since=r.year_ago,
        **r.bounds,
    )
    extra = frame(
        r.conn,
        """
        SELECT a.owner_id AS customer_id, 'loan' AS family FROM loans l JOIN accounts a ON a.account_id = l.account_id
          WHERE a.owner_type = 'individual' AND l.status IN ('C', 'D') AND a.owner_id >= :lo AND a.owner_id <= :hi
        UNION SELECT c.holder_id, 'card' FROM cards c WHERE c.holder_id >= :lo AND c.holder_id <= :hi
        UNION SELECT h.customer_id, p.family FROM account_holders h JOIN accounts a ON a.account_id = h.account_id
          JOIN products p ON p.product_id = a.product_id
          WHERE a.status <> 'closed' AND h.customer_id >= :lo AND h.customer_id <= :hi""",
        **r.bounds,
    )
    held = pd.concat([prods.loc[prods["open_accounts"] > 0, ["customer_id", "family"]], extra], ignore_index=True)
    held = held.drop_duplicates().sort_values(["customer_id", "family"])
    fam_str = held.groupby("customer_id")["family"].agg(",".join)
    f = pd.DataFrame(index=ids.index)
    f["families"] = fam_str.reindex(ids).fillna("").to_numpy()
    by = prods.groupby("customer_id")
    f["max_risk_held"] = by["risk_held"].max().reindex(ids).fillna(0).astype("int64").to_numpy()
    f["max_risk_bought"] = by["risk_bought"].max().reindex(ids).fillna(0).astype("int64").to_numpy()
    first = pd.to_datetime(by["first_opened"].min().reindex(ids), errors="coerce").to_numpy()
    since = pd.to_datetime(onboarded, errors="coerce").to_numpy()
    since = np.where(pd.isna(since), first, since)
    f["tenure_years"] = ((pd.Timestamp(r.as_of) - pd.to_datetime(since)).days / 365.25).astype(float)
    return f
