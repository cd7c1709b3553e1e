"""An update never resets a stored value to a default and a file never blanks a column it does
not have (jobs/ingest/bundle.md, "Updates"); a new row still gets the defaults."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from clientstrata.graph.record.models import Base
from clientstrata.jobs.ingest.load import ingest

BASE = ("branches", "relationship_managers", "products", "individuals", "enterprises", "households", "accounts")


def _base(engine, bundle_dir: Path, tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    for t in BASE:
        shutil.copy(bundle_dir / f"{t}.csv", base / f"{t}.csv")
    ingest(base, engine=engine, progress=False)


def _source(bundle_dir: Path, table: str, n: int = 3) -> pd.DataFrame:
    return pd.read_csv(bundle_dir / f"{table}.csv", dtype=str, keep_default_na=False).head(n)


def _stored(engine, table: str, key: str, stamp: bool = False) -> dict[str, dict]:
    """The stored rows by key; without `stamp`, not the id of the ingest that last changed them."""
    t = Base.metadata.tables[table]
    with engine.connect() as conn:
        rows = {r[key]: dict(r) for r in conn.execute(sa.select(t)).mappings()}
    return rows if stamp else {k: {c: v for c, v in r.items() if c != "ingest_id"} for k, r in rows.items()}


def _load(engine, tmp_path: Path, frames: dict[str, pd.DataFrame]):
    folder = tmp_path / f"delta-{len(list(tmp_path.glob('delta-*')))}"
    folder.mkdir()
    for table, frame in frames.items():
        frame.to_csv(folder / f"{table}.csv", index=False)
    report = ingest(folder, engine=engine, progress=False)
    assert report.quarantined == 0, report.to_dict()
    return report


def test_an_empty_cell_never_resets_a_stored_value_to_its_default(engine, bundle_dir, tmp_path):
    """A PEP stays a PEP, a dormant account stays dormant, a candidate household stays a
    candidate when an update leaves the cell empty; a value that is sent still changes it."""
    _base(engine, bundle_dir, tmp_path)
    people, accounts, households = (_source(bundle_dir, t) for t in ("individuals", "accounts", "households"))
    set_ = {
        "individuals": people.assign(is_pep=["true", "true", "true"]),
        "accounts": accounts.assign(status=["dormant", "closed", "dormant"], currency=["USD"] * 3),
        "households": households.assign(status=["candidate"] * len(households)),
    }
    _load(engine, tmp_path, set_)
    emptied = {t: f.assign(**{c: "" for c in ("is_pep", "status", "currency") if c in f}) for t, f in set_.items()}
    emptied["individuals"].loc[2, "is_pep"] = "false"  # sent: changes
    _load(engine, tmp_path, emptied)

    pep = _stored(engine, "individuals", "customer_id")
    assert [pep[k]["is_pep"] for k in people["customer_id"]] == [True, True, False]
    acc = _stored(engine, "accounts", "account_id")
    assert [(acc[k]["status"], acc[k]["currency"]) for k in accounts["account_id"]] == [
        ("dormant", "USD"),
        ("closed", "USD"),
        ("dormant", "USD"),
    ]
    hh = _stored(engine, "households", "household_id")
    assert {hh[k]["status"] for k in households["household_id"]} == {"candidate"}


def test_a_new_row_with_an_empty_defaulted_cell_gets_the_default(engine, bundle_dir, tmp_path):
    _base(engine, bundle_dir, tmp_path)
    person = _source(bundle_dir, "individuals", 1).assign(customer_id="CNEW1", id_number="", is_pep="")
    account = _source(bundle_dir, "accounts", 1).assign(account_id="ANEW1", account_number="", status="", currency="")
    _load(engine, tmp_path, {"individuals": person, "accounts": account})
    assert _stored(engine, "individuals", "customer_id")["CNEW1"]["is_pep"] is False
    new = _stored(engine, "accounts", "account_id")["ANEW1"]
    assert (new["status"], new["currency"]) == ("active", "CNY")


def test_a_file_without_an_optional_column_leaves_it_as_stored(engine, bundle_dir, tmp_path):
    """An extract that dropped e-mail, occupation, income and the PEP flag blanks none of them;
    a new customer in the same file gets the PEP default and no e-mail."""
    _base(engine, bundle_dir, tmp_path)
    before = _stored(engine, "individuals", "customer_id")
    people = _source(bundle_dir, "individuals", 20)
    pep = people["customer_id"].iloc[0]
    _load(engine, tmp_path, {"individuals": people.head(1).assign(is_pep="true")})
    before[pep]["is_pep"] = True
    stamps = {k: r["ingest_id"] for k, r in _stored(engine, "individuals", "customer_id", stamp=True).items()}
    dropped = ["email", "occupation", "annual_income", "is_pep"]
    narrow = people.drop(columns=dropped)
    newcomer = narrow.head(1).assign(customer_id="CNEW2", id_number="")
    _load(engine, tmp_path, {"individuals": pd.concat([narrow, newcomer], ignore_index=True)})

    after = _stored(engine, "individuals", "customer_id")
    assert {k: after[k] for k in before} == before
    # and a load that changed nothing of them did not claim them
    now = _stored(engine, "individuals", "customer_id", stamp=True)
    assert {k: now[k]["ingest_id"] for k in before} == {k: stamps[k] for k in before}
    assert any(before[k]["email"] for k in people["customer_id"])  # there was something to lose
    assert (after["CNEW2"]["is_pep"], after["CNEW2"]["email"]) == (False, None)


def test_a_file_without_an_optional_column_keeps_it_on_other_tables(engine, bundle_dir, tmp_path):
    """An accounts file without status or balance neither reactivates nor zeroes an account."""
    _base(engine, bundle_dir, tmp_path)
    accounts = _source(bundle_dir, "accounts", 10)
    _load(engine, tmp_path, {"accounts": accounts.assign(status="dormant")})
    before = _stored(engine, "accounts", "account_id")
    _load(engine, tmp_path, {"accounts": accounts.drop(columns=["status", "balance", "closed_on"])})
    assert _stored(engine, "accounts", "account_id") == before
