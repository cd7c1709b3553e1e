"""The run's alert detector and writer against main's (tests/benchmarks/baselines/alert_rows.py) on
the small bank with every alert type planted, on each backend: the same alerts per partition (same
customers, rule, reason, details, severity, period, order), as a re-run and as a first run, and the
same rows written, with open alerts raised before deduplicated alike."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from clientstrata.graph.record.queries import latest_run_id
from clientstrata.jobs.classification import features as F
from clientstrata.jobs.governance.standards import live_standard
from clientstrata.jobs.runs.tagging import iter_tags
from clientstrata.jobs.tracking import alerts as AL
from clientstrata.jobs.tracking.detection import alert_detector
from clientstrata.jobs.tracking.settings import ALERT_TYPES, alert_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "baselines"))
import alert_rows  # noqa: E402  main's detector, the reference

AT = dt.datetime(2026, 12, 3, 8, 0)


def _plant_record(conn, as_of: dt.date, families: list[str]) -> None:
    """Term accounts maturing soon, birthdays next week, one large transfer: what the rules read
    from the record besides the features."""
    accts = conn.execute(
        sa.text("""SELECT a.account_id, p.term_months FROM accounts a JOIN products p ON p.product_id = a.product_id
        WHERE a.owner_type = 'individual' AND a.status <> 'closed' AND p.term_months > 0 AND p.family IN :f
        ORDER BY a.account_id""").bindparams(sa.bindparam("f", expanding=True)),
        {"f": families},
    ).all()
    for k, (account, term) in enumerate(accts[:12]):  # maturing in 3..36 days, some rolled over
        opened = as_of + dt.timedelta(days=3 * (k + 1)) - relativedelta(months=int(term) * (1 + k % 3))
        conn.execute(sa.text("UPDATE accounts SET opened_on = :d WHERE account_id = :a"), {"d": opened, "a": account})
    people = conn.execute(sa.text("SELECT customer_id FROM individuals ORDER BY customer_id")).scalars().all()
    for k, c in enumerate(people[::9]):
        born = dt.date(as_of.year - 30 - k % 20, as_of.month, 1) + dt.timedelta(days=k % 12)
        conn.execute(sa.text("UPDATE individuals SET birth_date = :b WHERE customer_id = :c"), {"b": born, "c": c})
    recent = conn.execute(
        sa.text("""SELECT t.txn_id FROM transactions t JOIN accounts a ON a.account_id = t.account_id
        WHERE a.owner_type = 'individual' AND NOT t.is_cash AND t.currency = 'CNY' AND t.booked_at >= :since
        ORDER BY t.txn_id"""),
        {"since": dt.datetime.combine(as_of - dt.timedelta(days=30), dt.time())},
    ).scalars()
    for txn in list(recent)[:5]:
        conn.execute(sa.text("UPDATE transactions SET amount = 750000 WHERE txn_id = :t"), {"t": txn})


def _plant_frames(parts: list[tuple[pd.DataFrame, pd.DataFrame]]) -> None:
    """Per partition: customers who became above appetite, dormant, AML high or medium; a
    conservative customer holding R5; a valuable customer's AUM outflow; cross-border activity."""
    for f, t in parts:
        ids = list(f["customer_id"])
        for i, dimension, value in [
            (0, "risk_consistency", "above_appetite"),
            (1, "behaviour_activity", "dormant"),
            (2, "aml_risk", "high"),
            (3, "aml_risk", "medium"),
            (4, "risk_preference", "C1"),
            (5, "wealth_tier", "wealth"),
        ]:
            t.loc[((t["customer_id"] == ids[i]) & (t["dimension"] == dimension)).to_numpy(), "value"] = value
        f.loc[4, "max_risk_held"] = 5
        months = F.aum_columns(f)
        f.loc[5, months[0]], f.loc[5, months[-1]] = 900_000.0, 1_000.0
        f.loc[6, "cross_border_count"] = 9


def _parts(conn, std):
    feats = list(F.iter_individual_features(conn, std, chunk=70, progress=False))  # several partitions
    tags, _, _ = iter_tags(conn, feats, std, workers=0)
    return [(f, t) for f, t in tags if f is not None]


def _written(conn) -> pd.DataFrame:
    got = AL.list_alerts(conn, limit=10_000)
    return got.drop(columns=["alert_id"]).sort_values("fingerprint").reset_index(drop=True)


def test_the_detector_finds_and_writes_what_mains_did(loaded):
    engine, _ = loaded
    with engine.begin() as conn:
        std = live_standard(conn)
        s = alert_settings(std)
        as_of = pd.Timestamp(
            conn.execute(sa.text("SELECT max(booked_at) FROM transactions")).scalar()
        ).date()  # near the features' date; the features say which
        _plant_record(conn, as_of, [str(x) for x in s["product_maturity"]["families"]])
    with engine.connect() as conn:
        parts = _parts(conn, std)
        _plant_frames(parts)
        as_of = pd.Timestamp(parts[0][0]["as_of"].iloc[0]).date()
        run = latest_run_id(conn)
        found = {}
        for previous in (run, None):
            main = alert_rows.alert_detector(conn, std, s, previous, as_of)
            now = alert_detector(conn, std, s, previous, as_of)
            for f, t in parts:
                want, got = main(f, t), now(f, t)
                pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
                found.setdefault(previous, []).append(got)
    every = pd.concat(found[run], ignore_index=True)
    assert len(parts) >= 4
    assert set(every["alert_type"]) == set(ALERT_TYPES)  # each rule fired, the "became" ones too

    # written alike: the first half raised before (open), then everything; nothing twice
    rows, counts = {}, {}
    half = [every.iloc[: len(every) // 2]]
    for name, write in (("main", alert_rows.write_run_alerts), ("now", AL.write_run_alerts)):
        with engine.connect() as conn:
            tx = conn.begin()
            first = write(conn, half, run, AT).attrs["written"]
            second = write(conn, found[run], run, AT).attrs["written"]
            again = write(conn, found[run], run, AT).attrs["written"]
            counts[name] = (first, second, again)
            rows[name] = _written(conn)
            tx.rollback()
    assert counts["now"] == counts["main"] and counts["now"][2] == 0 and counts["now"][1] > 0
    # every alert found is on record once, some of them open since the bank's own run (not written again)
    fps = {AL.fingerprint(*k) for k in zip(every["alert_type"], every["customer_id"], every["period"])}
    assert fps <= set(rows["now"]["fingerprint"]) and sum(counts["now"]) < len(fps)
    pd.testing.assert_frame_equal(rows["now"], rows["main"])
    assert rows["now"]["rm_id"].isna().sum() < len(rows["now"])  # routed to RMs
