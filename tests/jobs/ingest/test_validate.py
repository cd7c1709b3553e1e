import re

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from clientstrata.jobs.ingest import validate
from clientstrata.jobs.ingest.bundle import TABLE_BY_NAME
from clientstrata.jobs.ingest.sources import text_frame
from clientstrata.jobs.ingest.validate import validate_chunk

NONE = lambda table, col: pd.Index([])  # noqa: E731 - no parents known
NO_OWNERS = lambda table, col, key: pd.Series(dtype=object)  # noqa: E731


def _individuals(text: str):
    return validate_chunk(TABLE_BY_NAME["individuals"], text_frame(text), NONE, NO_OWNERS)


def test_resident_id_check_digit_and_phone_normalisation():
    res = _individuals(
        "customer_id,name,birth_date,id_number,phone\n"
        "C1,张三,1990-01-02,110101199001020010,+86 138-0013-8000\n"
        "C2,李四,1990-01-02,110101199001020011,138 0013 8000\n"
    )
    assert list(res.good["customer_id"]) == ["C1"]
    assert res.good["phone"].iloc[0] == "13800138000"
    assert "id_number: not a valid resident ID number" in res.bad["reason"].iloc[0]


def test_dates_in_several_formats_and_impossible_dates():
    res = _individuals("customer_id,name,birth_date\nC1,a,1990/01/02\nC2,b,19900102\nC3,c,1990-02-30\n")
    assert res.good["birth_date"].dt.strftime("%Y-%m-%d").tolist() == ["1990-01-02", "1990-01-02"]
    assert res.bad["reason"].iloc[0].startswith("birth_date: not a date")


def test_every_reason_of_a_row_is_reported():
    res = _individuals("customer_id,name,birth_date,gender,is_pep,credit_score\nC1,,x,Q,maybe,1000\n")
    reason = res.bad["reason"].iloc[0]
    for expected in (
        "name is required",
        "birth_date: not a date",
        "gender: 'Q' is not one of M, F",
        "is_pep: not true/false",
        "credit_score: above the maximum 900",
    ):
        assert expected in reason


def test_duplicate_keys_and_duplicate_people():
    res = _individuals(
        "customer_id,name,birth_date,id_number\n"
        "C1,a,1990-01-02,110101199001020010\nC1,b,1990-01-02,\n"
        "C2,c,1990-01-02,110101199001020010\n"
    )
    assert list(res.good["customer_id"]) == ["C1"]
    assert sorted(res.bad["reason"]) == ["duplicate of row 1 (same customer_id)", "id_number repeats row 1"]


def test_missing_required_column_quarantines_every_row():
    res = _individuals("customer_id,name\nC1,a\nC2,b\n")
    assert res.good.empty and len(res.bad) == 2
    assert all("file lacks required column birth_date" in r for r in res.bad["reason"])


def test_dangling_reference():
    res = validate_chunk(
        TABLE_BY_NAME["household_members"], text_frame("household_id,customer_id,role\nH1,C1,head\n"), NONE, NO_OWNERS
    )
    assert "household_id 'H1' not found in households" in res.bad["reason"].iloc[0]


def _transactions(text: str, as_of=None):
    known = lambda table, col: {"A1"}  # noqa: E731 - the one account
    return validate_chunk(TABLE_BY_NAME["transactions"], text_frame(text), known, NO_OWNERS, as_of=as_of)


def test_a_date_outside_pandas_range_quarantines_its_row_only():
    """Year 0001 and 9999 fall outside datetime64[ns]: one such cell stopped the whole ingest."""
    res = _individuals(
        "customer_id,name,birth_date,onboarded_on\n"
        "C1,a,0001-01-01,2020-01-01\nC2,b,1990-01-02,9999-12-31\nC3,c,1990-01-02,2020-01-01\n"
    )
    assert res.good["customer_id"].tolist() == ["C3"]
    assert res.bad["reason"].tolist() == [
        "birth_date: implausible year '0001-01-01'",
        "onboarded_on: implausible year '9999-12-31'",
    ]


def test_date_times_out_of_range_or_with_mixed_offsets():
    """A booking in year 0001 or 9999 is a bad row; offsets that differ between rows (+08:00 and
    Z) stopped the ingest, and each is read as its wall time, as one offset was."""
    head = "txn_id,account_id,booked_at,direction,amount,channel\n"
    res = _transactions(
        head + "T1,A1,0001-01-01T00:00:00,credit,1,atm\nT2,A1,9999-12-31T23:59:59,credit,1,atm\n"
        "T3,A1,2026-01-01T10:00:00+08:00,credit,1,atm\nT4,A1,2026-01-01T11:30:00Z,debit,1,atm\n"
        "T5,A1,2026-01-01 12:00:00,debit,1,atm\n"
    )
    assert res.bad["reason"].tolist() == [
        "booked_at: implausible year '0001-01-01T00:00:00'",
        "booked_at: implausible year '9999-12-31T23:59:59'",
    ]
    assert res.good["booked_at"].astype(str).tolist() == [
        "2026-01-01 10:00:00",
        "2026-01-01 11:30:00",
        "2026-01-01 12:00:00",
    ]


def test_events_after_the_as_of_date_are_quarantined():
    """A birth, an onboarding or a booking after the date the data describes is a bad row; a
    validity that ends later is not an event."""
    import datetime as dt

    as_of = dt.date(2026, 10, 31)
    res = validate_chunk(
        TABLE_BY_NAME["individuals"],
        text_frame(
            "customer_id,name,birth_date,onboarded_on\n"
            "C1,a,2027-01-01,\nC2,b,1990-01-02,2026-11-01\nC3,c,1990-01-02,2026-10-31\n"
        ),
        NONE,
        NO_OWNERS,
        as_of=as_of,
    )
    assert res.good["customer_id"].tolist() == ["C3"]
    assert res.bad["reason"].tolist() == [
        "birth_date: after the as-of date 2026-10-31 '2027-01-01'",
        "onboarded_on: after the as-of date 2026-10-31 '2026-11-01'",
    ]
    head = "txn_id,account_id,booked_at,direction,amount,channel\n"
    res = _transactions(
        head + "T1,A1,2026-10-31T23:59:59,credit,1,atm\nT2,A1,2026-11-01T00:00:00+08:00,credit,1,atm\n", as_of
    )
    assert res.good["txn_id"].tolist() == ["T1"]
    assert res.bad["reason"].tolist() == ["booked_at: after the as-of date 2026-10-31 '2026-11-01T00:00:00+08:00'"]
    months = validate_chunk(
        TABLE_BY_NAME["balances_monthly"],
        text_frame("account_id,month,avg_daily_balance\nA1,2026-10,1\nA1,2026-11,1\n"),
        lambda table, col: {"A1"},
        NO_OWNERS,
        as_of=as_of,
    )
    assert months.bad["reason"].tolist() == ["month: after the as-of date 2026-10-31 '2026-11'"]
    valid = validate_chunk(
        TABLE_BY_NAME["risk_questionnaires"],
        text_frame("questionnaire_id,customer_id,assessed_on,risk_level,valid_until\nQ1,C1,2026-01-01,C3,2027-01-01\n"),
        lambda table, col: {"C1"},
        NO_OWNERS,
        as_of=as_of,
    )
    assert len(valid.good) == 1


# --- the vectorised forms say what the Python forms said ---------------------------------------

_text = st.text(
    st.sampled_from([*validate._SPACES, "T", ":", "t", "2", "x", "é", "\u3001", "M", "m", "F", "ß"]), max_size=8
)


def test_the_spaces_written_out_are_every_space_pythons_regex_knows():
    assert validate._SPACES == "".join(c for c in map(chr, range(0x110000)) if re.fullmatch(r"\s", c))


@settings(max_examples=300, deadline=None)
@given(values=st.lists(_text, max_size=30))
def test_a_time_of_day_is_found_where_pythons_regex_finds_it(values):
    arrow = pd.Series(values, dtype="str")  # the reader's Arrow strings: the class goes to RE2
    assert arrow.str.contains(validate._TIME_MARK, regex=True).tolist() == [
        re.search(r"[T:\s]", v) is not None for v in values
    ]


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(_text, st.sampled_from(["M", "f", "ｍ", "MALE", ""])), max_size=30))
def test_a_choice_is_read_case_blind_as_before(values):
    col = next(c for c in TABLE_BY_NAME["individuals"].columns if c.name == "gender")
    raw = pd.Series(values, dtype="str")
    canon = {c.casefold(): c for c in col.choices}
    before = raw.str.strip().str.casefold().map(canon)  # the old form, value by value
    before = before.astype(object).where(before.notna(), None)
    reasons = validate._Reasons(raw.index)
    after = validate._parse_column(col, raw, reasons)
    assert after.tolist() == before.tolist()
