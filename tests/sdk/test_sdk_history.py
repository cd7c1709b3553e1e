"""`Client.migration()` and `Client.feedback()` against a live server: snake_case frames, UTC
times, and a relationship manager's book."""

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from clientstrata.graph.record.models import Individual
from clientstrata.jobs.tracking.feedback import record_feedback
from clientstrata.sdk import Client


def _largest_book(engine) -> tuple[str, list[str], list[str]]:
    with engine.connect() as conn:
        people = conn.execute(
            sa.select(Individual.customer_id, Individual.rm_id).order_by(Individual.customer_id)
        ).all()
    rms = [r for _, r in people if r]
    rm = max(set(rms), key=rms.count)
    return rm, [c for c, r in people if r == rm], [c for c, r in people if r != rm]


def test_migration_is_the_matrix_as_a_frame(server_ro, make_token_ro, loaded_ro):
    engine, _ = loaded_ro
    rm, mine, _ = _largest_book(engine)
    df = Client(server_ro, make_token_ro("marketing_analyst"), progress=False).migration(1, 1, "wealth_tier")
    assert list(df.columns) == ["from_value", "to_value", "customers"] and df["customers"].dtype == "int64"
    assert (df["from_value"] == df["to_value"]).all() and df["customers"].sum() == 300  # one run: nobody moved
    assert set(df["from_value"]) <= {"mass", "affluent", "wealth", "private_banking"} and len(df) > 1
    assert df.attrs == {"from_run": 1, "to_run": 1, "dimension": "wealth_tier", "customers": 300, "moved": 0}
    book = Client(server_ro, make_token_ro("relationship_manager", rm), progress=False).migration(1, 1, "wealth_tier")
    assert book["customers"].sum() == book.attrs["customers"] == len(mine) < 300


def test_feedback_bank_wide_or_one_customers_and_a_book_only(server, make_token, loaded):
    engine, _ = loaded
    rm, mine, others = _largest_book(engine)
    at = dt.datetime(2026, 11, 30, 9, 15)
    with engine.begin() as conn:
        record_feedback(conn, "agent", mine[0], "survey", score=4, at=at)
        record_feedback(conn, "agent", others[0], "complaint", text="the branch was closed", at=at)
        record_feedback(conn, "agent", mine[0], "compliment", text="quick answer", at=at + dt.timedelta(hours=1))
    analyst = Client(server, make_token("marketing_analyst"), progress=False)
    df = analyst.feedback()
    assert list(df.columns) == ["feedback_id", "customer_id", "kind", "score", "text", "recorded_by", "recorded_at"]
    assert df["kind"].tolist() == ["survey", "complaint", "compliment"] and df["feedback_id"].is_monotonic_increasing
    assert df["customer_id"].tolist() == [mine[0], others[0], mine[0]]
    assert df["score"].tolist()[0] == 4 and pd.isna(df["score"].iloc[1]) and str(df["score"].dtype) == "Int64"
    assert isinstance(df["recorded_at"].dtype, pd.DatetimeTZDtype) and str(df["recorded_at"].dt.tz) == "UTC"
    assert df["recorded_at"].iloc[0] == pd.Timestamp("2026-11-30 09:15", tz="UTC")
    assert analyst.feedback(customer_id=others[0])["text"].tolist() == ["the branch was closed"]
    assert analyst.feedback(customer_id="C9999999").empty

    relationship_manager = Client(server, make_token("relationship_manager", rm), progress=False)
    theirs = relationship_manager.feedback()
    assert theirs["customer_id"].tolist() == [mine[0], mine[0]]  # the other book's complaint is not there
    assert relationship_manager.feedback(customer_id=others[0]).empty  # as if there were none
