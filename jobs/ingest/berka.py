"""The PKDD'99 Financial data set (a real Czech bank) mapped onto the bundle contract.

Each source file feeds exactly one bundle table row for row, so "loaded + quarantined =
read" holds per source file. What the adapter infers (the product catalogue and household
candidates from joint accounts) is reported separately as derived rows.

Mapping: district → branches; client → individuals (the data set is anonymised: no names,
IDs or phones); account → accounts (owner from the OWNER disposition, CZK, no balance: the
transaction file is not part of this copy); disp → account_holders (OWNER → owner,
DISPONENT → co_holder); loan → loans (status A–D kept); card → cards (junior / classic /
gold products); order → standing_orders (k_symbol POJISTNE insurance, SIPO household,
UVER loan, LEASING leasing). Accounts with a DISPONENT become candidate households
(owner as head, disponents as other), for review.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from clientstrata.graph.errors import InvalidInput

from .bundle import TABLE_BY_NAME
from .sources import Piece, read_csv_chunks
from .validate import ROW

__all__ = ["berka_pieces", "BERKA_FILES"]

BERKA_FILES = ("district", "client", "account", "disp", "loan", "card", "order")
_PURPOSE = {"POJISTNE": "insurance", "SIPO": "household", "UVER": "loan", "LEASING": "leasing"}
_CARD_TYPES = ("junior", "classic", "gold")


def _read(folder: Path, name: str, warnings: list[str]) -> pd.DataFrame:
    path = folder / f"{name}.csv"
    frames = list(read_csv_chunks(path, warnings))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[ROW])


def _pfx(prefix: str, s: pd.Series) -> pd.Series:
    """Berka ids get a prefix so they never collide with a bank's own ids."""
    s = s.str.strip()
    return (prefix + s).where(s != "", "")


def _piece(table: str, source: str, df: pd.DataFrame, derived: bool = False) -> Piece:
    return Piece(TABLE_BY_NAME[table], source, frames=[df.fillna("")], rows=len(df), derived=derived)


def berka_pieces(folder: Path) -> tuple[list[Piece], list[str]]:
    folder = Path(folder)
    missing = [f"{n}.csv" for n in BERKA_FILES if not (folder / f"{n}.csv").exists()]
    if missing:
        raise InvalidInput(f"{folder} is not the PKDD'99 data: missing {', '.join(missing)}")
    warnings: list[str] = []
    src = {n: _read(folder, n, warnings) for n in BERKA_FILES}

    d = src["district"]
    branches = pd.DataFrame(
        {"branch_id": _pfx("BK-D", d["district_id"]), "name": d["A2"], "region": d["A3"], "city": d["A2"], ROW: d[ROW]}
    )

    c = src["client"]
    individuals = pd.DataFrame(
        {
            "customer_id": _pfx("BK-C", c["client_id"]),
            "name": "Berka client " + c["client_id"],
            "gender": c["gender"],
            "birth_date": c["birth_date"],
            "branch_id": _pfx("BK-D", c["district_id"]),
            ROW: c[ROW],
        }
    )

    disp = src["disp"]
    owners = disp[disp["type"].str.upper() == "OWNER"].drop_duplicates("account_id")
    owner_of = dict(zip(owners["account_id"], owners["client_id"]))
    a = src["account"]
    accounts = pd.DataFrame(
        {
            "account_id": _pfx("BK-A", a["account_id"]),
            "owner_type": "individual",
            "owner_id": _pfx("BK-C", a["account_id"].map(owner_of).fillna("")),
            "product_id": "BK-P-CURRENT",
            "currency": "CZK",
            "opened_on": a["date"],
            ROW: a[ROW],
        }
    )

    holders = pd.DataFrame(
        {
            "account_id": _pfx("BK-A", disp["account_id"]),
            "customer_id": _pfx("BK-C", disp["client_id"]),
            "role": disp["type"].str.upper().map({"OWNER": "owner", "DISPONENT": "co_holder"}).fillna(disp["type"]),
            ROW: disp[ROW],
        }
    )

    ln = src["loan"]
    loans = pd.DataFrame(
        {
            "loan_id": _pfx("BK-L", ln["loan_id"]),
            "account_id": _pfx("BK-A", ln["account_id"]),
            "product_id": "BK-P-LOAN",
            "principal": ln["amount"],
            "term_months": ln["duration"],
            "monthly_payment": ln["payments"],
            "granted_on": ln["date"],
            "status": ln["status"],
            # finished contracts (A, B) owe nothing on schedule; B's unpaid remainder is unknown
            "outstanding": "",
            ROW: ln[ROW],
        }
    )

    cd = src["card"]
    disp_by_id = disp.set_index("disp_id")
    cards = pd.DataFrame(
        {
            "card_id": _pfx("BK-K", cd["card_id"]),
            "account_id": _pfx("BK-A", cd["disp_id"].map(disp_by_id["account_id"]).fillna("")),
            "holder_id": _pfx("BK-C", cd["disp_id"].map(disp_by_id["client_id"]).fillna("")),
            "product_id": "BK-P-CARD-" + cd["type"].str.lower(),
            "card_type": cd["type"],
            "issued_on": cd["issued"].str.slice(0, 10),
            ROW: cd[ROW],
        }
    )

    o = src["order"]
    orders = pd.DataFrame(
        {
            "order_id": _pfx("BK-O", o["order_id"]),
            "account_id": _pfx("BK-A", o["account_id"]),
            "purpose": o["k_symbol"].str.strip().map(_PURPOSE).fillna("other"),
            "amount": o["amount"],
            "counterparty_bank": o["bank_to"],
            "counterparty_account": o["account_to"],
            ROW: o[ROW],
        }
    )

    products = pd.DataFrame(
        [
            {
                "product_id": "BK-P-CURRENT",
                "name": "Current account",
                "family": "deposit",
                "risk_level": "R1",
                "currency": "CZK",
                "term_months": "0",
            },
            {"product_id": "BK-P-LOAN", "name": "Loan", "family": "loan", "currency": "CZK"},
            *(
                {"product_id": f"BK-P-CARD-{t}", "name": f"{t.title()} card", "family": "card", "currency": "CZK"}
                for t in _CARD_TYPES
            ),
        ]
    )
    products[ROW] = range(1, len(products) + 1)

    # Joint accounts: owner and disponents are household candidates for an RM to confirm.
    joint = disp[disp["type"].str.upper() == "DISPONENT"]["account_id"].unique()
    members = disp[disp["account_id"].isin(joint)].sort_values(["account_id", "type"], ascending=[True, False])
    members = members.drop_duplicates("client_id")
    households = pd.DataFrame(
        {
            "household_id": _pfx("BK-H", pd.Series(joint, dtype=str)),
            "name": "Joint account " + pd.Series(joint, dtype=str),
            "status": "candidate",
        }
    )
    households[ROW] = range(1, len(households) + 1)
    hm = pd.DataFrame(
        {
            "household_id": _pfx("BK-H", members["account_id"]),
            "customer_id": _pfx("BK-C", members["client_id"]),
            "role": members["type"].str.upper().map({"OWNER": "head"}).fillna("other"),
        }
    )
    hm[ROW] = range(1, len(hm) + 1)

    pieces = [
        _piece("branches", "district.csv", branches),
        _piece("products", "(catalogue)", products, derived=True),
        _piece("individuals", "client.csv", individuals),
        _piece("households", "(joint accounts)", households, derived=True),
        _piece("household_members", "(joint accounts)", hm, derived=True),
        _piece("accounts", "account.csv", accounts),
        _piece("account_holders", "disp.csv", holders),
        _piece("loans", "loan.csv", loans),
        _piece("cards", "card.csv", cards),
        _piece("standing_orders", "order.csv", orders),
    ]
    return pieces, warnings
