"""A deterministic synthetic bank, written as an ingestion bundle.

Same arguments, same bytes: one numpy Generator seeded once, no wall clock. Everything is
vectorised, and memory stays bounded at a million customers: per-customer facts are numpy
arrays (numbers and fixed-width text, a few hundred MB at 1M), and rows become pandas text only
`chunk_rows` at a time while they are written. The two big tables are made lazily: monthly
balances from pre-drawn numbers per slice of accounts, transactions one calendar month at a
time. The chunk size never changes the bytes written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd

from clientstrata.jobs.progress import bar

from .bundle import TABLE_BY_NAME, TABLES

__all__ = ["generate", "CHUNK_ROWS"]

CHUNK_ROWS = 500_000  # rows per written slice: bounds the text held in memory

_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鑫斌宇浩凯")
_CITIES = [
    ("北京", "华北", "110101"),
    ("上海", "华东", "310101"),
    ("广州", "华南", "440103"),
    ("深圳", "华南", "440305"),
    ("杭州", "华东", "330106"),
    ("成都", "西南", "510104"),
    ("武汉", "华中", "420102"),
    ("南京", "华东", "320102"),
]
_DISTRICTS = ["东城", "西城", "朝阳", "海淀", "高新", "滨江", "天河", "南山"]
_ID_W = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_C = np.array(list("10X98765432"))
_USCC = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))
_OCCUPATIONS = ["工程师", "教师", "医生", "会计", "销售", "公务员", "个体经营", "企业主", "退休", "学生", "自由职业"]
# product_id, name, family, risk, term months, rate
_PRODUCTS = [
    ("P001", "活期存款", "deposit", "R1", 0, 0.002),
    ("P002", "一年定期存款", "deposit", "R1", 12, 0.015),
    ("P003", "三年定期存款", "deposit", "R1", 36, 0.02),
    ("P004", "大额存单", "deposit", "R1", 36, 0.024),
    ("P010", "现金管理理财", "wealth_management", "R1", 0, 0.021),
    ("P011", "稳健理财90天", "wealth_management", "R2", 3, 0.028),
    ("P012", "固收+理财", "wealth_management", "R3", 12, 0.035),
    ("P013", "权益类理财", "wealth_management", "R4", 24, 0.05),
    ("P014", "私募股权计划", "wealth_management", "R5", 36, 0.08),
    ("P020", "货币基金", "fund", "R1", 0, 0.018),
    ("P021", "债券基金", "fund", "R2", 0, 0.03),
    ("P022", "混合基金", "fund", "R3", 0, 0.06),
    ("P023", "股票基金", "fund", "R4", 0, 0.08),
    ("P024", "行业主题基金", "fund", "R5", 0, 0.1),
    ("P030", "终身寿险", "insurance", "R1", 240, 0.025),
    ("P031", "年金保险", "insurance", "R2", 120, 0.03),
    ("P032", "投连险", "insurance", "R4", 120, 0.05),
    ("P040", "个人住房贷款", "loan", None, 300, 0.039),
    ("P041", "个人消费贷款", "loan", None, 36, 0.06),
    ("P042", "经营贷款", "loan", None, 60, 0.045),
    ("P050", "借记卡", "card", None, None, None),
    ("P051", "信用卡", "card", None, None, None),
]
_ASSET = [p for p in _PRODUCTS if p[2] in ("wealth_management", "fund", "insurance")]


# A table to write: a DataFrame (small tables), columns of numpy arrays or scalars (sliced
# as written), or an iterator of DataFrames (made lazily).
Rows = pd.DataFrame | dict[str, object] | Iterable[pd.DataFrame]


def _ids(prefix: str, n: int, width: int, start: int = 1) -> np.ndarray:
    """prefix + zero-padded numbers start … start+n-1, built as UCS-4 code points: np.char
    would take a minute for the tens of millions of transaction ids at 1M customers."""
    width = max(width, len(str(max(start + n - 1, 0))))
    nums = np.arange(start, start + n, dtype=np.int64)
    codes = np.empty((n, len(prefix) + width), dtype="<u4")
    codes[:, : len(prefix)] = [ord(c) for c in prefix]
    codes[:, len(prefix) :] = nums[:, None] // 10 ** np.arange(width - 1, -1, -1, dtype=np.int64) % 10 + 48
    return codes.view(f"<U{len(prefix) + width}").reshape(n)


def _dates(base: dt.date, days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(np.datetime64(base, "D") - np.asarray(days).astype("timedelta64[D]"), unit="D")


def _mask(cols: dict[str, object], keep: np.ndarray) -> dict[str, object]:
    return {k: v[keep] if isinstance(v, np.ndarray) else v for k, v in cols.items()}


def _resident_ids(area: np.ndarray, birth, male: np.ndarray) -> np.ndarray:
    """GB 11643 resident ID numbers, unique: the sequence number counts the people born in the
    same area on the same day (odd for men), so two customers never share one."""
    birth = np.asarray(birth, dtype=str)
    rank = pd.DataFrame({"area": area, "birth": birth}).groupby(["area", "birth"]).cumcount().to_numpy()
    if rank.max(initial=0) >= 500:
        raise ValueError("more than 500 people born in one area on one day: widen the areas")
    seq = rank * 2 + male.astype(int)
    ymd = pd.Series(birth).str.replace("-", "").to_numpy().astype(str)
    body = np.char.add(np.char.add(area, ymd), np.char.zfill(seq.astype(str), 3))
    digits = np.frombuffer("".join(body).encode(), dtype=np.uint8).reshape(-1, 17) - 48
    return np.char.add(body, _ID_C[(digits * _ID_W).sum(axis=1) % 11])


def _frames(rows: Rows, chunk_rows: int) -> Iterator[pd.DataFrame]:
    if isinstance(rows, pd.DataFrame):
        for i in range(0, len(rows), chunk_rows):
            yield rows.iloc[i : i + chunk_rows]
    elif isinstance(rows, dict):
        n = max(len(v) for v in rows.values() if isinstance(v, np.ndarray))
        for i in range(0, n, chunk_rows):
            yield pd.DataFrame({k: v[i : i + chunk_rows] if isinstance(v, np.ndarray) else v for k, v in rows.items()})
    else:
        yield from rows


def _write(out: Path, name: str, rows: Rows, fmt: str, chunk_rows: int = CHUNK_ROWS) -> int:
    """Append slices to one file; an empty table still gets its header (or schema)."""
    cols = TABLE_BY_NAME[name].column_names
    written, writer = 0, None
    path = out / f"{name}.{'parquet' if fmt == 'parquet' else 'csv'}"
    with open(path, "w", encoding="utf-8", newline="") if fmt != "parquet" else nullcontext() as f:
        frames = _frames(rows, chunk_rows)
        for df in _first_or_empty(frames, cols):
            df = df.reindex(columns=cols)
            if fmt == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                text = df.astype(object).where(df.notna(), None).astype(str).replace("None", "")
                table = pa.Table.from_pandas(
                    text, preserve_index=False, schema=pa.schema([(c, pa.string()) for c in cols])
                )
                writer = writer or pq.ParquetWriter(path, table.schema)
                writer.write_table(table)
            else:
                df.to_csv(f, index=False, header=written == 0 and f.tell() == 0, lineterminator="\n")
            written += len(df)
    if writer is not None:
        writer.close()
    return written


def _first_or_empty(frames: Iterator[pd.DataFrame], cols: list[str]) -> Iterator[pd.DataFrame]:
    empty = True
    for df in frames:
        empty = False
        yield df
    if empty:
        yield pd.DataFrame(columns=cols)


def generate(
    out: str | Path,
    customers: int = 10_000,
    seed: int = 7,
    fmt: str = "csv",
    as_of: dt.date = dt.date(2026, 10, 31),
    txn_per_month: float = 4.0,
    progress: bool | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> dict[str, int]:
    """Write a bundle of `customers` individuals (and their bank) to `out`; rows per table.
    `chunk_rows` bounds the rows turned into text at once; it does not change the output."""
    rng = np.random.default_rng(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n = customers
    t: dict[str, Rows] = {}

    # branches and RMs
    nb = max(4, min(40, n // 300))
    city = np.arange(nb) % len(_CITIES)
    branch_ids = _ids("B", nb, 3)
    t["branches"] = pd.DataFrame(
        {
            "branch_id": branch_ids,
            "name": [f"{_CITIES[c][0]}{_DISTRICTS[i % len(_DISTRICTS)]}支行" for i, c in enumerate(city)],
            "region": [_CITIES[c][1] for c in city],
            "city": [_CITIES[c][0] for c in city],
        }
    )
    nrm = max(nb, n // 150)
    rm_branch = np.arange(nrm) % nb
    grade = rng.choice(["junior", "senior", "private_banker"], nrm, p=[0.6, 0.3, 0.1])
    rm_ids = _ids("RM", nrm, 4)
    t["relationship_managers"] = pd.DataFrame(
        {
            "rm_id": rm_ids,
            "name": rng.choice(_SURNAMES, nrm) + rng.choice(_GIVEN, nrm) + "经理",
            "branch_id": branch_ids[rm_branch],
            "grade": grade,
            "hired_on": _dates(
                as_of, np.where(grade == "private_banker", rng.integers(1900, 7000, nrm), rng.integers(60, 5000, nrm))
            ),
        }
    )
    t["products"] = pd.DataFrame(
        _PRODUCTS, columns=["product_id", "name", "family", "risk_level", "term_months", "rate"]
    ).assign(currency="CNY")
    t["products"]["term_months"] = t["products"]["term_months"].astype("Int64")

    # individuals: age, heavy-tailed wealth (lognormal body, Pareto tail)
    cid = _ids("C", n, 7)
    # households first: consecutive customers in groups of 1-5 (size 1 stays unrecorded), so
    # ages can follow the roles: a spouse near the head's age, children a generation younger
    # (some of them minors, as on a family's accounts), parents a generation older.
    sizes = rng.choice([1, 2, 3, 4, 5], n, p=[0.45, 0.25, 0.17, 0.09, 0.04])
    hh_of = np.repeat(np.arange(n), sizes)[:n]
    pos = np.arange(n) - np.searchsorted(hh_of, hh_of)
    size = np.bincount(hh_of)[hh_of]
    multi = size > 1
    roles = np.select([pos == 0, pos == 1, pos == 2], ["head", "spouse", "child"], "parent")
    head_age = np.clip(rng.normal(46, 12, n), 24, 80)[hh_of]
    offset = np.select(
        [roles == "spouse", roles == "child", roles == "parent"],
        [rng.normal(-1, 4, n), -rng.uniform(24, 36, n), rng.uniform(24, 32, n)],
        0.0,
    )
    age = np.where(multi, np.clip(head_age + offset, 1, 98), np.clip(rng.normal(44, 15, n), 18, 90)).astype(int)
    age[multi & (roles == "spouse")] = np.maximum(age[multi & (roles == "spouse")], 20)
    male = rng.random(n) < 0.5
    birth = _dates(as_of, age * 365 + rng.integers(0, 365, n))
    area = np.array([_CITIES[c][2] for c in rng.integers(0, len(_CITIES), n)])
    adult = age >= 18
    wealth = rng.lognormal(9.6, 1.5, n) * (1 + age / 60) * np.where(adult, 1.0, 0.1)
    tail = rng.random(n) < 0.1
    wealth[tail] *= rng.pareto(1.3, tail.sum()) * 8 + 4
    home = rng.integers(0, nb, n)
    rm_of_branch = pd.Series(np.arange(nrm)).groupby(rm_branch).apply(list).to_dict()
    rm = np.array([rm_of_branch[b][i % len(rm_of_branch[b])] for i, b in enumerate(home)])
    income = np.where(age >= 22, np.round(rng.lognormal(11.6, 0.6, n) * np.where(tail, 3, 1), 2), np.nan)
    name = rng.choice(_SURNAMES, n) + rng.choice(_GIVEN, n) + np.where(rng.random(n) < 0.6, rng.choice(_GIVEN, n), "")
    gender = np.where(male, "M", "F")
    id_number = _resident_ids(area, birth, male)
    phone = np.char.add(
        rng.choice(["138", "139", "150", "186", "177", "133"], n),
        np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8),
    )
    address = np.array(
        [f"{_CITIES[c][0]}市{_DISTRICTS[c]}区{h % 200 + 1}号" for c, h in zip(home % len(_CITIES), range(n))]
    )
    occupation = np.select([age >= 62, age < 22], ["退休", "学生"], rng.choice(_OCCUPATIONS[:-2], n))
    credit = np.where(rng.random(n) < 0.9, rng.integers(450, 900, n), -1)
    t["individuals"] = {
        "customer_id": cid,
        "name": name,
        "gender": gender,
        "birth_date": birth,
        "id_number": id_number,
        "phone": phone,
        "email": np.char.add(np.char.lower(cid), "@example.cn"),
        "address": address,
        "occupation": occupation,
        "annual_income": income,
        "credit_score": np.where(credit < 0, "", credit.astype(str)),
        "is_pep": np.where(rng.random(n) < 0.003, "true", "false"),
        "onboarded_on": _dates(as_of, rng.integers(30, 7300, n)),
        "branch_id": branch_ids[home],
        "rm_id": np.where(rng.random(n) < 0.85, rm_ids[rm], ""),
    }

    hids = _ids("H", n, 7)[hh_of]
    t["households"] = pd.DataFrame({"household_id": np.unique(hids[multi])}).assign(
        status="confirmed", created_on=as_of.replace(month=1, day=1).isoformat()
    )
    t["households"]["name"] = t["households"]["household_id"] + " 家庭"
    t["household_members"] = {"household_id": hids[multi], "customer_id": cid[multi], "role": roles[multi]}
    t["households"] = t["households"][["household_id", "name", "status", "created_on"]]

    # enterprises, employment (payroll), control, supply chain
    ne = max(5, n // 20)
    eid = _ids("E", ne, 6)
    ebranch = rng.integers(0, nb, ne)
    esize = rng.choice(["micro", "small", "medium", "large"], ne, p=[0.45, 0.3, 0.17, 0.08])
    scale = pd.Series(esize).map({"micro": 1e6, "small": 1e7, "medium": 1e8, "large": 1e9}).to_numpy()
    t["enterprises"] = pd.DataFrame(
        {
            "enterprise_id": eid,
            "name": np.char.add(rng.choice(_SURNAMES, ne), np.char.add(eid, "科技有限公司")),
            "credit_code": ["".join(r) for r in _USCC[rng.integers(0, len(_USCC), (ne, 18))]],
            "industry": rng.choice(list("CFGIKLMEA"), ne, p=[0.22, 0.18, 0.15, 0.12, 0.08, 0.08, 0.07, 0.06, 0.04]),
            "size": esize,
            "registered_capital": np.round(scale * rng.uniform(0.05, 0.5, ne), 2),
            "annual_revenue": np.round(scale * rng.lognormal(0, 0.6, ne), 2),
            "founded_on": _dates(as_of, rng.integers(365, 12000, ne)),
            "branch_id": branch_ids[ebranch],
            # most enterprises have an RM at their own branch (对公客户经理)
            "rm_id": np.where(
                rng.random(ne) < 0.9,
                rm_ids[[rm_of_branch[b][i % len(rm_of_branch[b])] for i, b in enumerate(ebranch)]],
                "",
            ),
        }
    )
    working = np.flatnonzero((age >= 22) & (age < 62) & (rng.random(n) < 0.7))
    employer = (rng.pareto(1.2, len(working)) * 3).astype(int) % ne
    t["employment"] = {
        "customer_id": cid[working],
        "enterprise_id": eid[employer],
        "payroll": np.where(rng.random(len(working)) < 0.45, "true", "false"),
        "monthly_salary": np.round(income[working] / 13, 2),
        "since": _dates(as_of, rng.integers(30, 5000, len(working))),
    }
    owners = rng.choice(np.flatnonzero(age > 28), ne, replace=ne > (age > 28).sum())
    share_holders = rng.choice(np.flatnonzero(age > 28), ne // 2)
    t["enterprise_control"] = pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_id": cid[owners],
                    "enterprise_id": eid,
                    "role": "legal_rep",
                    "share": np.round(rng.uniform(0.3, 1.0, ne), 3),
                }
            ),
            pd.DataFrame(
                {
                    "customer_id": cid[share_holders],
                    "enterprise_id": eid[rng.integers(0, ne, ne // 2)],
                    "role": "shareholder",
                    "share": np.round(rng.uniform(0.01, 0.3, ne // 2), 3),
                }
            ),
        ]
    ).drop_duplicates(["customer_id", "enterprise_id", "role"])
    core = np.arange(max(1, ne // 50))
    sup = rng.integers(len(core), ne, ne // 2) if ne > len(core) else np.array([], int)
    t["supply_chain"] = pd.DataFrame(
        {
            "supplier_id": eid[sup],
            "buyer_id": eid[rng.choice(core, len(sup))],
            "annual_volume": np.round(rng.lognormal(15, 1, len(sup)), 2),
        }
    ).drop_duplicates(["supplier_id", "buyer_id"])

    # risk questionnaires: level rises with wealth, falls with age
    level = np.clip(np.round(1 + np.log10(wealth) / 2 - (age > 65) + rng.normal(0, 0.8, n)), 1, 5).astype(int)
    asked = adult & (rng.random(n) < 0.85)  # minors are not assessed
    assessed = rng.integers(0, 700, n)
    t["risk_questionnaires"] = _mask(
        {
            "questionnaire_id": np.char.add("Q", cid),
            "customer_id": cid,
            "assessed_on": _dates(as_of, assessed),
            "score": np.clip(level * 20 - rng.integers(0, 20, n), 0, 100),
            "risk_level": np.char.add("C", level.astype(str)),
            "valid_until": _dates(as_of, assessed - 365),
            "is_professional": np.where(wealth > 5e6, "true", "false"),
        },
        asked,
    )

    # accounts: a demand deposit for everyone; richer customers spread over more families
    demand_share = np.clip(rng.beta(2, 2, n), 0.1, 1)
    demand_share[wealth < 30_000] = 1
    n_assets = np.where(wealth < 30_000, 0, np.minimum(1 + (np.log10(wealth) - 4).astype(int), 4))
    acc_owner = [np.arange(n)]
    acc_prod = [np.zeros(n, int)]
    acc_amt = [wealth * demand_share]
    risk = np.array([int(p[3][1]) for p in _ASSET])
    asset_index = np.array([_PRODUCTS.index(p) for p in _ASSET])
    for k in range(int(n_assets.max(initial=0))):
        who = np.flatnonzero(n_assets > k)
        allowed = level[who]
        pick = rng.integers(0, len(_ASSET), len(who))
        over = risk[pick] > allowed  # most stay within their level; about one in ten does not
        pick = np.where(over & (rng.random(len(who)) < 0.9), 0, pick)
        acc_owner.append(who)
        acc_prod.append(asset_index[pick])
        acc_amt.append(wealth[who] * (1 - demand_share[who]) / n_assets[who])
    owner = np.concatenate(acc_owner)
    prod = np.concatenate(acc_prod)
    amt = np.concatenate(acc_amt)
    na = len(owner)
    aid = _ids("A", na + ne, 9)
    pids = t["products"]["product_id"].to_numpy().astype(str)
    status = np.where(rng.random(na) < 0.03, "dormant", "active")
    t["accounts"] = {
        "account_id": aid,
        "account_number": _ids("6222", na + ne, 15, start=0),
        "owner_type": np.r_[np.full(na, "individual"), np.full(ne, "enterprise")],
        "owner_id": np.r_[cid[owner], eid],
        "product_id": np.r_[pids[prod], np.full(ne, "P001")],
        "currency": "CNY",
        "opened_on": _dates(as_of, rng.integers(30, 6000, na + ne)),
        "status": np.r_[status, np.full(ne, "active")],
        "balance": np.round(np.r_[amt * rng.uniform(0.9, 1.1, na), scale * rng.uniform(0.01, 0.2, ne)], 2),
    }
    # joint accounts: the spouse co-holds the head's demand deposit
    spouses = np.flatnonzero(multi & (roles == "spouse"))
    t["account_holders"] = pd.DataFrame(
        {"account_id": aid[spouses - 1], "customer_id": cid[spouses], "role": "co_holder"}
    )[rng.random(len(spouses)) < 0.4]

    # twelve months of daily-average balances: a per-customer trend crosses bands both ways.
    # Numbers are drawn now (the generator's order), text is made per slice of accounts.
    months = pd.period_range(end=pd.Period(as_of, "M"), periods=12, freq="M").strftime("%Y-%m").to_numpy().astype(str)
    slope = rng.normal(0, 0.05, na)
    noise = rng.uniform(0.95, 1.05, (na, 12))
    t["balances_monthly"] = _balances(aid[:na], amt, slope, noise, months, max(1, chunk_rows // 12))

    # loans (status A-D as PKDD'99) and cards
    borrowers = np.flatnonzero((age >= 22) & (rng.random(n) < 0.15))
    nl = len(borrowers)
    kind = np.where(age[borrowers] < 55, rng.choice([17, 18], nl, p=[0.6, 0.4]), 18)
    kind[np.isin(cid[borrowers], t["enterprise_control"]["customer_id"].to_numpy().astype(str))] = 19
    principal = np.round(np.where(kind == 17, rng.uniform(3e5, 3e6, nl), rng.uniform(2e4, 5e5, nl)), 2)
    lstatus = rng.choice(list("ABCD"), nl, p=[0.15, 0.03, 0.79, 0.03])
    term = np.where(kind == 17, 300, np.where(kind == 18, 36, 60))
    t["loans"] = {
        "loan_id": _ids("L", nl, 7),
        "account_id": aid[borrowers],
        "product_id": pids[kind],
        "principal": principal,
        "outstanding": np.where(np.isin(lstatus, ["A"]), 0, np.round(principal * rng.uniform(0.2, 0.95, nl), 2)),
        "term_months": term,
        "monthly_payment": np.round(principal / term * 1.2, 2),
        "granted_on": _dates(as_of, rng.integers(60, 3000, nl)),
        "status": lstatus,
        "days_past_due": np.where(lstatus == "D", rng.integers(31, 400, nl), 0),
    }
    credit = adult & (rng.random(n) < 0.3)
    holders = np.r_[np.arange(n), np.flatnonzero(credit)]
    t["cards"] = {
        "card_id": _ids("K", len(holders), 8),
        "account_id": aid[holders],
        "holder_id": cid[holders],
        "product_id": np.r_[np.full(n, "P050"), np.full(credit.sum(), "P051")],
        "card_type": np.r_[np.full(n, "debit"), np.full(credit.sum(), "credit")],
        "issued_on": _dates(as_of, rng.integers(30, 4000, len(holders))),
        "credit_limit": np.r_[np.full(n, np.nan), np.round(rng.choice([1e4, 3e4, 5e4, 1e5], credit.sum()), 2)],
    }
    payers = np.flatnonzero(rng.random(n) < 0.3)
    t["standing_orders"] = {
        "order_id": _ids("O", len(payers), 7),
        "account_id": aid[payers],
        "purpose": rng.choice(
            ["insurance", "loan", "household", "leasing", "other"], len(payers), p=[0.3, 0.2, 0.3, 0.05, 0.15]
        ),
        "amount": np.round(rng.lognormal(7, 0.8, len(payers)), 2),
        "counterparty_bank": rng.choice(["ICBC", "CCB", "ABC", "BOC"], len(payers)),
        "counterparty_account": np.char.zfill(rng.integers(0, 10**12, len(payers)).astype(str), 16),
    }

    # purchases, card spend and fee events (points, 积分): drawn from a generator of their own so
    # every file above keeps its bytes for a given seed
    t.update(
        _points_tables(np.random.default_rng([seed, 13]), cid, owner, prod, amt, aid, pids, wealth, t["cards"], as_of)
    )

    counts = {}
    with bar(len(TABLES), desc="generate", unit="tables", progress=progress) as pbar:
        for table in TABLES:
            pbar.set_postfix_str(table.name)
            rows = (
                _transactions(rng, age, amt, aid[:n], as_of, txn_per_month, chunk_rows)
                if table.name == "transactions"
                else t.pop(table.name)
            )
            counts[table.name] = _write(out, table.name, rows, fmt, chunk_rows)
            pbar.update()
    return counts


_FEES = [("interbank_withdrawal", 4.0), ("transfer", 5.0), ("sms_alerts", 2.0), ("account_management", 12.0)]
_FEES += [("card_annual_fee", 10.0)]
_MCC = np.array(["5411", "5812", "5541", "5311", "4121", "5732", "7011", "5912"])


def _moments(rng, as_of: dt.date, m: int) -> np.ndarray:
    """`m` booking times over the year up to `as_of`, as ISO text."""
    start = np.datetime64(as_of, "s") - np.timedelta64(365 * 86400, "s")
    return np.datetime_as_string(start + rng.integers(0, 366 * 86400 - 1, m).astype("timedelta64[s]"), unit="s")


def _points_tables(rng, cid, owner, prod, amt, aid, pids, wealth, cards, as_of) -> dict[str, Rows]:
    """Purchases of the year (wealth management and funds into the customer's holdings; large
    certificates of deposit for the wealthier), card spend and fees charged."""
    n = len(cid)
    family = np.array([p[2] for p in _PRODUCTS])[prod]
    held = np.flatnonzero(np.isin(family, ["wealth_management", "fund"]))
    buys = rng.integers(1, 4, len(held))
    acc = np.repeat(held, buys)
    cds = np.flatnonzero((wealth > 500_000) & (rng.random(n) < 0.5))
    m = len(acc) + len(cds)
    purchases = {
        "purchase_id": _ids("PU", m, 8),
        "customer_id": np.r_[cid[owner[acc]], cid[cds]],
        "product_id": np.r_[pids[prod[acc]], np.full(len(cds), "P004")],
        "account_id": np.r_[aid[acc], np.full(len(cds), "")],
        "purchased_at": _moments(rng, as_of, m),
        "amount": np.round(
            np.r_[
                np.maximum(amt[acc] * rng.uniform(0.1, 0.5, len(acc)), 1000), rng.choice([2e5, 3e5, 5e5, 1e6], len(cds))
            ],
            2,
        ),
    }
    credit = cards["card_type"] == "credit"
    per_card = rng.poisson(np.where(credit, 12.0, 2.4))
    card = np.repeat(np.arange(len(credit)), per_card)
    k = len(card)
    spend = {
        "spend_id": _ids("S", k, 9),
        "card_id": cards["card_id"][card],
        "spent_at": _moments(rng, as_of, k),
        "amount": np.round(np.minimum(rng.lognormal(5.5, 1.0, k), 50_000), 2),
        "merchant_category": rng.choice(_MCC, k),
    }
    charged = np.repeat(np.arange(n), rng.poisson(1.5, n))
    item = rng.integers(0, len(_FEES), len(charged))
    fees = {
        "fee_id": _ids("F", len(charged), 9),
        "customer_id": cid[charged],
        "fee_item": np.array([f for f, _ in _FEES])[item],
        "account_id": aid[charged],  # the demand account: accounts are numbered from each customer's
        "charged_at": _moments(rng, as_of, len(charged)),
        "amount": np.array([p for _, p in _FEES])[item],
    }
    return {"purchases": purchases, "card_spend": spend, "fee_events": fees}


def _balances(
    aid: np.ndarray, amt: np.ndarray, slope: np.ndarray, noise: np.ndarray, months: np.ndarray, step: int
) -> Iterator[pd.DataFrame]:
    ramp = np.arange(-11, 1)[None, :]
    for i in range(0, len(aid), step):
        j = slice(i, i + step)
        bal = np.round(amt[j, None] * np.exp(slope[j, None] * ramp) * noise[j], 2)
        yield pd.DataFrame(
            {"account_id": np.repeat(aid[j], 12), "month": np.tile(months, len(bal)), "avg_daily_balance": bal.ravel()}
        )


_CHANNELS = ["mobile", "online", "pos", "atm", "branch"]


def _transactions(rng, age, amt, demand_aid, as_of, per_month, chunk_rows) -> Iterator[pd.DataFrame]:
    """Twelve calendar months on each customer's demand account, one month at a time (so a
    month's rows, not the year's, are in memory), in booking order; channel mix by age; a few
    customers with AML-looking patterns (cash just under 50,000; repeated cross-border transfers)."""
    n = len(demand_aid)
    activity = np.where(rng.random(n) < 0.1, 0.05, rng.gamma(2, 0.5, n))
    smurf = rng.random(n) < 0.003
    first = pd.Period(as_of, "M") - 11
    stop_all = np.datetime64(as_of, "s") + np.timedelta64(86400, "s")
    next_id = 1
    for k in range(12):
        start = np.datetime64((first + k).start_time.date(), "s")
        stop = min(np.datetime64((first + k + 1).start_time.date(), "s"), stop_all)
        span = int((stop - start) / np.timedelta64(1, "s"))
        counts = rng.poisson(per_month * activity * span / (365 / 12 * 86400))
        who = np.repeat(np.arange(n), counts)
        m = len(who)
        seconds = rng.integers(0, span, m)
        order = np.lexsort((who, seconds))  # booking order; ties by customer
        who, seconds = who[order], seconds[order]
        young = age[who] < 40
        channel = np.where(
            young,
            rng.choice(_CHANNELS, m, p=[0.6, 0.15, 0.15, 0.07, 0.03]),
            rng.choice(_CHANNELS, m, p=[0.3, 0.15, 0.15, 0.15, 0.25]),
        )
        amount = np.round(np.minimum(rng.lognormal(6.5, 1.3, m), np.maximum(amt[who] * 0.5, 100) + 100), 2)
        cash = np.isin(channel, ["atm", "branch"]) & (rng.random(m) < 0.5)
        country = np.where(rng.random(m) < 0.02, rng.choice(["HK", "US", "SG", "GB", "JP", "AU"], m), "CN")
        amount = np.where(smurf[who] & cash, rng.uniform(45_000, 49_999, m).round(2), amount)
        direction = np.where(rng.random(m) < 0.45, "credit", "debit")
        booked = start + seconds.astype("timedelta64[s]")
        for i in range(0, m, chunk_rows):
            j = slice(i, i + chunk_rows)
            yield pd.DataFrame(
                {
                    "txn_id": _ids("T", len(who[j]), 10, start=next_id + i),
                    "account_id": demand_aid[who[j]],
                    "booked_at": np.datetime_as_string(booked[j], unit="s"),
                    "direction": direction[j],
                    "amount": amount[j],
                    "currency": "CNY",
                    "channel": channel[j],
                    "is_cash": np.where(cash[j], "true", "false"),
                    "counterparty_country": country[j],
                    "counterparty_name": "",
                }
            )
        next_id += m
