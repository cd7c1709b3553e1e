"""The bundle's purchases, card spend and fee events: every row loaded or quarantined with its
reason, and a bundle from before them (without those files) loads as it did."""

import pandas as pd
import sqlalchemy as sa

from clientstrata.jobs.ingest.load import ingest

NEW = ("purchases", "card_spend", "fee_events")


def _append(bundle, table: str, rows: list[dict]) -> None:
    path = bundle / f"{table}.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    pd.concat([df, pd.DataFrame(rows)], ignore_index=True).fillna("").to_csv(path, index=False)


def test_bad_points_rows_are_quarantined_with_reasons(engine, bundle_copy):
    at = "2026-05-01T10:00:00"
    _append(
        bundle_copy,
        "purchases",
        [
            {
                "purchase_id": "PX1",
                "customer_id": "C-nobody",
                "product_id": "P010",
                "purchased_at": at,
                "amount": "100",
            },
            {"purchase_id": "PX2", "customer_id": "C0000001", "product_id": "P010", "purchased_at": at, "amount": "0"},
        ],
    )
    _append(bundle_copy, "card_spend", [{"spend_id": "SX1", "card_id": "K-none", "spent_at": at, "amount": "10"}])
    _append(
        bundle_copy,
        "fee_events",
        [
            {"fee_id": "FX1", "customer_id": "C0000001", "fee_item": "Parking Fee", "charged_at": at, "amount": "3"},
            {
                "fee_id": "FX2",
                "customer_id": "C0000001",
                "fee_item": "sms_alerts",
                "charged_at": "yesterday",
                "amount": "2",
            },
        ],
    )
    report = ingest(bundle_copy, engine=engine, progress=False)
    assert report.quarantined == 5 and report.loaded + report.quarantined == report.read
    with engine.connect() as conn:
        reasons = " | ".join(conn.execute(sa.text("SELECT reason FROM quarantine")).scalars())
    for expected in (
        "customer_id 'C-nobody' not found in individuals",
        "amount: below the minimum",
        "card_id 'K-none' not found in cards",
        "fee_item: bad format",
        "charged_at: not an ISO 8601 date-time",
    ):
        assert expected in reasons


def test_a_bundle_without_the_points_files_loads_as_before(engine, bundle_copy):
    for table in NEW:
        (bundle_copy / f"{table}.csv").unlink()
    report = ingest(bundle_copy, engine=engine, progress=False)
    assert report.quarantined == 0 and report.read == report.loaded
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM individuals")).scalar() == 300
        assert all(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() == 0 for t in NEW)
