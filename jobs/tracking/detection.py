"""Detecting a run's alerts: what the rules read besides the features frame, read set-based
once per run, and `alert_detector`, the pure rules (`jobs.tracking.rules`) bound to it and
called per partition with that partition's features and tags."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.models import Tag
from clientstrata.jobs.classification.standard import Standard

from .rules import detect_alerts
from .settings import AlertSettings, alert_settings

__all__ = ["alert_inputs", "alert_detector"]

tags_table = Tag.__table__


def alert_inputs(
    conn: Connection, std: Standard, as_of: dt.date, settings: AlertSettings | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(maturities, transfers, birth_dates), read set-based for `detect_alerts`:
    maturities — customer_id, account_id, product_id, product_name, family, term_months, opened_on,
    balance (CNY): open term accounts of the configured families; transfers — customer_id,
    max_transfer (CNY): the largest single non-cash transaction in the lookback window."""
    settings = settings or alert_settings(std)
    fams = [str(f) for f in settings["product_maturity"]["families"]]
    pm = sa.text("""
        SELECT a.owner_id AS customer_id, a.account_id, p.product_id, p.name AS product_name, p.family,
               p.term_months, a.opened_on, a.balance, a.currency
        FROM accounts a JOIN products p ON p.product_id = a.product_id
        WHERE a.owner_type = 'individual' AND a.status <> 'closed' AND p.term_months > 0
          AND p.family IN :fams""").bindparams(sa.bindparam("fams", expanding=True))
    mat = pd.read_sql(pm, conn, params={"fams": fams})
    rate = mat["currency"].map(std.fx_to_cny).fillna(1.0)
    mat["balance"] = pd.to_numeric(mat["balance"], errors="coerce").astype(float) * rate
    mat = mat.drop(columns=["currency"])
    since = dt.datetime.combine(as_of - dt.timedelta(days=int(settings["demand_signal"]["lookback_days"])), dt.time())
    whens = " ".join(f"WHEN '{c}' THEN {float(r)!r}" for c, r in std.fx_to_cny.items() if c.isalpha() and len(c) == 3)
    tr = pd.read_sql(
        sa.text(f"""
        SELECT a.owner_id AS customer_id, MAX(t.amount * (CASE t.currency {whens} ELSE NULL END)) AS max_transfer
        FROM accounts a JOIN transactions t ON t.account_id = a.account_id
        WHERE a.owner_type = 'individual' AND NOT t.is_cash AND t.booked_at >= :since
        GROUP BY a.owner_id"""),
        conn,
        params={"since": since},
    )
    tr["max_transfer"] = pd.to_numeric(tr["max_transfer"], errors="coerce").astype(float)
    born = pd.read_sql(sa.text("SELECT customer_id, birth_date FROM individuals"), conn)
    return mat, tr, born.set_index("customer_id")["birth_date"]


_PREVIOUS_DIMENSIONS = ("risk_consistency", "behaviour_activity", "aml_risk")


def alert_detector(conn: Connection, std: Standard, settings: AlertSettings, previous_run: int | None, as_of: dt.date):
    """`detect_alerts` bound to what a run reads once (maturities, transfers, birthdays): call
    it per partition with that partition's features and tags, so a publish never holds every
    tag of the run at once; it reads the previous run's tags of the partition's customers."""
    maturities, transfers, born = alert_inputs(conn, std, as_of, settings)

    def detect(features: pd.DataFrame, tags: pd.DataFrame) -> pd.DataFrame:
        previous = None
        if previous_run is not None and len(features):  # the partition's stretch of the previous run's key
            ids = features["customer_id"]
            previous = pd.read_sql(
                sa.select(tags_table.c.customer_id, tags_table.c.dimension, tags_table.c.value).where(
                    tags_table.c.run_id == previous_run,
                    tags_table.c.customer_id >= ids.min(),
                    tags_table.c.customer_id <= ids.max(),
                    # `|| ''`: SQLite would otherwise walk the (dimension, value) index over the
                    # whole bank and look each row up, at twice the cost of the key range
                    tags_table.c.dimension.concat("").in_(_PREVIOUS_DIMENSIONS),
                ),
                conn,
            )
        return detect_alerts(features, tags, previous, settings, std, maturities, transfers, born)

    return detect
