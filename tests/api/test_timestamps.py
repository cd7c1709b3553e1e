"""Timestamps carry their offset, and `DateTime` inputs with an offset compare as the moment they
name: an integration in China pulling `households(updatedSince: "…+08:00")` gets what changed
after that moment, not every household (issue 14)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientstrata.api.scalars import parse_datetime, serialize_datetime

PAGE = """query($since: DateTime) { households(first: 1000, updatedSince: $since) {
  totalCount edges { node { id updatedAt } } } }"""
RUNS = "{ runs(first: 5) { edges { node { startedAt publishedAt } } } }"


def _households(app, gql, token, since=None):
    body = gql(app, token, PAGE, since=since)
    assert "errors" not in body, body
    return [e["node"] for e in body["data"]["households"]["edges"]]


def test_an_offset_input_compares_as_the_moment_it_names(app_ro, gql, make_token_ro):
    token = make_token_ro("admin")
    every = _households(app_ro, gql, token)
    assert every and all(n["updatedAt"].endswith("+00:00") for n in every)
    latest = max(dt.datetime.fromisoformat(n["updatedAt"]) for n in every)
    beijing = dt.timezone(dt.timedelta(hours=8))
    # the latest change, written in Beijing time: nothing changed after it
    assert _households(app_ro, gql, token, latest.astimezone(beijing).isoformat()) == []
    # one second before it, in Beijing time: the latest is there, and only what changed after it
    before = _households(app_ro, gql, token, (latest - dt.timedelta(seconds=1)).astimezone(beijing).isoformat())
    assert before and all(dt.datetime.fromisoformat(n["updatedAt"]) > latest - dt.timedelta(seconds=1) for n in before)
    assert len(before) < len(every) or len({n["updatedAt"] for n in every}) == 1
    # without an offset the value is read as UTC
    naive = latest.replace(tzinfo=None).isoformat()
    assert _households(app_ro, gql, token, naive) == []


def test_every_returned_timestamp_is_utc_with_its_offset(app_ro, gql, make_token_ro):
    body = gql(app_ro, make_token_ro("admin"), RUNS)
    stamps = [v for e in body["data"]["runs"]["edges"] for v in e["node"].values() if v]
    assert stamps and all(dt.datetime.fromisoformat(s).utcoffset() == dt.timedelta(0) for s in stamps)


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00:00", "12345"])
def test_a_bad_datetime_is_refused_with_an_example(app_ro, gql, make_token_ro, bad):
    body = gql(app_ro, make_token_ro("admin"), PAGE, since=bad)
    (error,) = body["errors"]
    assert "ISO 8601" in error["message"] and "+08:00" in error["message"]


@given(
    st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2100, 1, 1)),
    st.integers(-14 * 60, 14 * 60),
)
def test_the_wire_format_round_trips_to_the_same_moment(moment, offset_minutes):
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    local = moment.replace(tzinfo=dt.UTC).astimezone(zone)
    assert parse_datetime(local.isoformat()) == moment
    assert parse_datetime(serialize_datetime(moment)) == moment
    assert serialize_datetime(moment).endswith("+00:00")
