"""The plain bulk append the run's strategy stage writes with: what it stores reads back as an
ORM insert of the same rows would, on both databases (a NaN is NULL, never the text 'NaN')."""

import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientstrata.graph.record.bulk import _stored_column, bulk_insert
from clientstrata.graph.record.models import ClassificationRun, NextBestAction

ACTIONS = NextBestAction.__table__


def _run(conn) -> int:
    runs = ClassificationRun.__table__
    cols = {c.name for c in runs.c}
    row = {
        "standard_version": "t",
        "standard_sha256": "0" * 64,
        "status": "running",
        "started_at": dt.datetime(2026, 1, 1),
    }
    return conn.execute(sa.insert(runs).values(**{k: v for k, v in row.items() if k in cols})).inserted_primary_key[0]


def _frame(run_id: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": [run_id, run_id],
            "customer_id": ["C1", "C2"],
            "rm_id": ["RM1", np.nan],
            "rank": np.array([1, 2], dtype=np.int64),
            "action": ["care_visit", "product_offer"],
            "action_key": ["care_visit", "product_offer:P9"],
            "product_id": [None, "P9"],
            "product_risk": [np.nan, "R2"],
            "channel": ["rm", "mobile"],
            "trigger": [None, None],
            "segment": ["wealth", "mass"],
            "propensity": [0.25, np.float64(0.5)],
            "value": [100.0, 2.5],
            "priority": [25.0, 1.25],
            "control": np.array([False, True]),
            "reason_en": ["why", "为什么 too"],
            "reason_zh": ["原因", "原因"],
            "due_on": [dt.date(2026, 12, 1), dt.date(2026, 12, 31)],
            "created_at": pd.to_datetime(["2026-12-01 08:00:00", "2026-12-01 08:00:00.500000"], format="ISO8601"),
        }
    )


def test_appended_rows_read_back_as_an_orm_insert_would_store_them(engine):
    with engine.begin() as conn:
        run_id = _run(conn)
        frame = _frame(run_id)
        assert bulk_insert(conn, ACTIONS, frame) == 2
        orm_rows = frame.assign(customer_id=["C3", "C4"]).astype(object).where(frame.notna(), None)
        orm_rows["created_at"] = [t.to_pydatetime() for t in frame["created_at"]]
        conn.execute(sa.insert(ACTIONS), orm_rows.to_dict("records"))
    cols = list(frame.columns)
    with engine.connect() as conn:
        got = conn.execute(sa.select(*(ACTIONS.c[c] for c in cols)).order_by(ACTIONS.c.customer_id)).all()
    bulk, orm = got[:2], got[2:]
    assert len(bulk) == 2 and [r[2:] for r in bulk] == [r[2:] for r in orm]
    first, second = (dict(zip(cols, r)) for r in bulk)
    assert second["rm_id"] is None and first["product_risk"] is None and first["product_id"] is None
    assert second["control"] is True and first["control"] is False
    assert second["created_at"] == dt.datetime(2026, 12, 1, 8, 0, 0, 500000)
    assert first["due_on"] == dt.date(2026, 12, 1) and first["rank"] == 1
    with engine.connect() as conn:  # equal in SQL too, not only once parsed: the stored text matches
        same = conn.execute(
            sa.select(sa.func.count()).select_from(ACTIONS).where(ACTIONS.c.created_at == dt.datetime(2026, 12, 1, 8))
        ).scalar()
    assert same == 2


def test_an_empty_frame_writes_nothing(engine):
    with engine.begin() as conn:
        assert bulk_insert(conn, ACTIONS, _frame(1).iloc[:0]) == 0


def _per_row(conn, column: sa.Column, values: pd.Series) -> list:
    """What `_stored_column` did before it processed each distinct value once: every row alone."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = list(values.dt.date if isinstance(column.type, sa.Date) else values.dt.to_pydatetime())
    else:
        out = values.to_numpy(dtype=object).tolist()
    missing = pd.isna(values).to_numpy()
    out = [None if m else v for v, m in zip(out, missing)]
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return [process(v) for v in out] if process is not None else out


_MOMENTS = [dt.datetime(2026, 12, 1, 8), dt.datetime(2026, 12, 1, 8, 0, 0, 500_000), dt.datetime(1999, 1, 1)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moments=st.lists(st.sampled_from([*_MOMENTS, None]), min_size=1, max_size=12),
    flags=st.lists(st.sampled_from([True, False, None]), min_size=12, max_size=12),
    as_timestamps=st.booleans(),
)
def test_each_distinct_value_is_stored_as_each_row_alone_would_be(engine, moments, flags, as_timestamps):
    n = len(moments)
    days = pd.Series([m.date() if m is not None else None for m in moments], dtype=object)
    stamps = pd.Series(pd.to_datetime(moments)) if as_timestamps else pd.Series(moments, dtype=object)
    columns = {
        "created_at": stamps,
        "due_on": pd.Series(pd.to_datetime(days)) if as_timestamps else days,
        "control": pd.Series(flags[:n], dtype=bool if None not in flags[:n] else object),
    }
    with engine.connect() as conn:
        for name, values in columns.items():
            column = ACTIONS.c[name]
            assert _stored_column(conn, column, values) == _per_row(conn, column, values), name
