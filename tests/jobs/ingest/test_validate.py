import pandas as pd

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
