"""Detecting a run's alerts: what the rules read besides the features frame, read set-based
once per run, and `alert_detector`, the pure rules (`jobs.tracking.rules`) bound to it and
called per partition with that partition's features and tags.

Proportional to what can fire: the term accounts and birthdays outside their windows are
dropped as soon as they are read (column-wise, with the rules' own date arithmetic), and the
previous run's tags are read only for the customers a rule asks about (a few percent of a
partition), not for the whole partition."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.models import Tag
from clientstrata.jobs.classification.standard import Standard

from .rules import detect_alerts, next_birthday, next_maturity
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
    return _due(mat, as_of, settings), tr, _birthdays_due(born.set_index("customer_id")["birth_date"], as_of, settings)


def _due(mat: pd.DataFrame, as_of: dt.date, settings: AlertSettings) -> pd.DataFrame:
    """The term accounts maturing within the window (`product_maturity` keeps no other), in the order read."""
    if mat.empty:
        return mat
    opened = pd.to_datetime(mat["opened_on"]).dt.date
    days = (next_maturity(opened, mat["term_months"].astype(int), as_of) - np.datetime64(as_of, "D")).astype(np.int64)
    return mat[(days >= 0) & (days <= int(settings["product_maturity"]["within_days"]))].reset_index(drop=True)


def _birthdays_due(born: pd.Series, as_of: dt.date, settings: AlertSettings) -> pd.Series:
    """The birth dates whose next birthday falls within the window (`birthday` fires for no other)."""
    at = pd.Timestamp(as_of).normalize()
    when = pd.to_datetime(born, errors="coerce")
    ok = when.notna().to_numpy()
    days = np.full(len(born), np.iinfo(np.int64).max)
    days[ok] = (next_birthday(pd.DatetimeIndex(when.to_numpy()[ok]), at) - at).days.to_numpy()
    return born[days <= int(settings["birthday"]["within_days"])]


def alert_detector(conn: Connection, std: Standard, settings: AlertSettings, previous_run: int | None, as_of: dt.date):
    """`detect_alerts` bound to what a run reads once (maturities, transfers, birthdays, the
    last two kept only within their windows of `as_of`): call it per partition with that
    partition's features and tags, so a publish never holds every tag of the run at once; it
    reads the previous run's tags of only the customers a rule asks about."""
    inputs = {as_of: alert_inputs(conn, std, as_of, settings)}
    transfers = inputs[as_of][1].drop_duplicates("customer_id").set_index("customer_id")["max_transfer"]

    def previous(dimension: str, ids: np.ndarray) -> pd.Series:
        t = tags_table.c
        found = []
        for i in range(0, len(ids), _ASK):
            found += conn.execute(
                sa.select(t.customer_id, t.value).where(
                    t.run_id == previous_run, t.dimension == dimension, t.customer_id.in_(list(ids[i : i + _ASK]))
                )
            ).all()
        return pd.Series([v for _, v in found], index=[c for c, _ in found], dtype=object)

    def detect(features: pd.DataFrame, tags: pd.DataFrame) -> pd.DataFrame:
        day = pd.Timestamp(features["as_of"].iloc[0]).date() if len(features) else as_of
        if day not in inputs:  # the windows are the run's date's: another date reads its own
            inputs[day] = alert_inputs(conn, std, day, settings)
        maturities, _, born = inputs[day]
        # the partition's transfers only: the rule indexes what it is given
        mine = transfers.reindex(features["customer_id"].to_numpy(dtype=object)).dropna()
        mine = pd.DataFrame({"customer_id": mine.index.to_numpy(dtype=object), "max_transfer": mine.to_numpy()})
        lookup = previous if previous_run is not None and len(features) else None
        return detect_alerts(features, tags, lookup, settings, std, maturities, mine, born)

    return detect


_ASK = 2_000  # customers per previous-tags query: under every backend's bound-parameter limit
