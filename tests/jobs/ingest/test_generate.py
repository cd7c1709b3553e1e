"""The synthetic bank is deterministic and looks like a bank: heavy-tailed wealth, households
whose ages fit their roles, and no loans, jobs or risk questionnaires for minors."""

import filecmp

import numpy as np
import pandas as pd
import pytest

from clientstrata.jobs.ingest.generate import generate


@pytest.fixture(scope="module")
def bank(bundle_dir):
    read = lambda t: pd.read_csv(bundle_dir / f"{t}.csv", dtype=str, keep_default_na=False)  # noqa: E731
    ind = read("individuals")
    ind["age"] = (pd.Timestamp.today() - pd.to_datetime(ind["birth_date"])).dt.days // 365
    return read, ind.set_index("customer_id")


def test_same_seed_same_bytes(tmp_path):
    generate(tmp_path / "a", customers=120, seed=5, progress=False)
    generate(tmp_path / "b", customers=120, seed=5, progress=False)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", files, shallow=False)
    assert mismatch == [] and errors == [] and len(match) == len(files) > 10


def test_a_tenth_of_customers_hold_most_assets(bank):
    read, _ = bank
    bal = read("accounts").query("owner_type == 'individual'").astype({"balance": float})
    per = bal.groupby("owner_id")["balance"].sum().sort_values(ascending=False)
    assert per.head(len(per) // 10).sum() / per.sum() > 0.5


def test_household_ages_fit_roles(bank):
    read, ind = bank
    m = read("household_members").join(ind["age"], on="customer_id")
    head = m[m["role"] == "head"].set_index("household_id")["age"]
    m["head_age"] = m["household_id"].map(head)
    assert (m.loc[m["role"] == "child", "head_age"] - m.loc[m["role"] == "child", "age"] >= 14).all()
    assert (m.loc[m["role"] == "parent", "age"] - m.loc[m["role"] == "parent", "head_age"] >= 14).all()
    assert (m.loc[m["role"] == "spouse", "age"] >= 18).all()


def test_minors_have_no_loans_jobs_or_questionnaires(bank):
    read, ind = bank
    minors = set(ind.index[ind["age"] < 18])
    assert minors, "the bank should have some minors on family accounts"
    owner = read("accounts").set_index("account_id")["owner_id"]
    assert not minors & set(read("loans")["account_id"].map(owner))
    assert not minors & set(read("employment")["customer_id"])
    assert not minors & set(read("risk_questionnaires")["customer_id"])
    assert not minors & set(read("cards").query("card_type == 'credit'")["holder_id"])


def test_resident_ids_are_unique_and_valid_even_for_twins():
    """Many people born in one area on one day (twins, a maternity ward) still get distinct,
    check-digit-valid numbers with the sex digit right."""
    from clientstrata.jobs.ingest.generate import _resident_ids
    from clientstrata.jobs.ingest.validate import _id_number_ok  # the ingest's own check

    n = 400
    area = np.array(["110101"] * n)
    birth = pd.Series(["1990-05-17"] * n)
    male = np.arange(n) % 3 == 0
    ids = _resident_ids(area, birth, male)
    assert len(set(ids)) == n and _id_number_ok(pd.Series(ids)).all()
    assert all((int(i[16]) % 2 == 1) == m for i, m in zip(ids, male))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_chunk_size_does_not_change_the_rows(tmp_path, fmt):
    """Written a few rows at a time (as a million customers are), the bundle is the same."""
    whole = generate(tmp_path / "whole", customers=150, seed=9, fmt=fmt, progress=False)
    small = generate(tmp_path / "small", customers=150, seed=9, fmt=fmt, progress=False, chunk_rows=37)
    assert whole == small
    for name, rows in whole.items():
        if fmt == "csv":
            assert filecmp.cmp(tmp_path / "whole" / f"{name}.csv", tmp_path / "small" / f"{name}.csv", shallow=False), (
                name
            )
        else:
            a, b = (pd.read_parquet(tmp_path / d / f"{name}.parquet") for d in ("whole", "small"))
            assert a.equals(b) and len(a) == rows, name


def test_transactions_cover_twelve_months_in_booking_order(bank):
    read, ind = bank
    txn = read("transactions")
    months = txn["booked_at"].str.slice(0, 7)
    assert months.nunique() == 12 and months.max() == "2026-10"
    assert txn["booked_at"].is_monotonic_increasing and txn["txn_id"].is_unique
    assert txn["txn_id"].tolist() == sorted(txn["txn_id"])  # ids follow booking order
    assert len(txn) / len(ind) == pytest.approx(4.0 * 12 * 0.905, rel=0.15)  # per_month x 12 x mean activity
