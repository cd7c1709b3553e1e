"""Every frame the SDK returns speaks Python: snake_case columns, moments as tz-aware UTC
datetimes, days as datetime64 dates. `household()` used to hand back `birthDate` strings."""

import datetime as dt
import re

import pandas as pd
import pytest

from clientstrata.sdk import Client
from clientstrata.sdk._frames import typed

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def test_typed_renames_and_parses():
    raw = pd.DataFrame(
        {
            "customerId": ["C1", "C2"],
            "labelZh": ["大众", "贵宾"],
            "birthDate": ["1980-02-29", None],
            "expiresOn": ["2026-01-31", "2026-02-01"],
            "createdAt": ["2026-12-01T08:00:00+08:00", "2026-12-01T00:00:00"],
            "aum": [1.5, 2.0],
        }
    )
    raw.attrs["cursor"] = "x"
    df = typed(raw)
    assert list(df.columns) == ["customer_id", "label_zh", "birth_date", "expires_on", "created_at", "aum"]
    assert _moments(df["created_at"])
    # an offset is honoured and a naive moment is read as UTC (the server stores UTC)
    assert df["created_at"].iloc[0] == df["created_at"].iloc[1] == pd.Timestamp("2026-12-01T00:00:00Z")
    assert _days(df["birth_date"]) and df["birth_date"].iloc[0] == pd.Timestamp("1980-02-29")
    assert df["birth_date"].isna().iloc[1] and df["expires_on"].dt.tz is None
    assert df.attrs["cursor"] == "x" and list(raw.columns)[0] == "customerId"  # the input is left alone


def _moments(col: pd.Series) -> bool:
    return isinstance(col.dtype, pd.DatetimeTZDtype) and str(col.dt.tz) == "UTC"


def _days(col: pd.Series) -> bool:
    return pd.api.types.is_datetime64_dtype(col) and col.dt.tz is None


def _check(name: str, df: pd.DataFrame) -> None:
    for col in df.columns:
        assert SNAKE.match(col), f"{name}: column {col!r} is not snake_case"
        if col == "at" or col.endswith("_at"):
            assert _moments(df[col]), f"{name}.{col} is {df[col].dtype}"
        elif col.endswith(("_on", "_date")):
            assert _days(df[col]), f"{name}.{col} is {df[col].dtype}"


@pytest.fixture(scope="module")
def client(server_ro, make_token_ro):
    return Client(server_ro, make_token_ro("marketing_analyst"), progress=False)


def test_household_is_snake_case_with_parsed_dates(client):
    df = client.household("H0000001")
    assert {"birth_date", "cooperation_depth", "tier", "role", "aum"} <= set(df.columns)
    assert "birthDate" not in df.columns and "cooperationDepth" not in df.columns
    assert _days(df["birth_date"])
    assert df["birth_date"].dropna().map(lambda d: d.date() < dt.date.today()).all()


def test_every_method_returns_snake_case_and_parsed_dates(client):
    who = client.customers(dimensions=[])["customer_id"].iloc[0]
    frames = {
        "customers": client.customers(),
        "household": client.household("H0000001"),
        "households": client.households(),
        "segments": client.segments("wealth_tier"),
        "alerts": client.alerts(),
        "runs": client.runs(),
        "overrides": client.overrides(),
        "worklist": client.worklist(),
        "next_best_actions": client.next_best_actions(who),
        "strategy_effect": client.strategy_effect(),
        "playbook": client.playbook(),
        "packages": client.packages(),
        "points": client.points(who),
    }
    for name, df in frames.items():
        _check(name, df)
    assert _moments(frames["runs"]["published_at"]) and _moments(frames["households"]["updated_at"])
