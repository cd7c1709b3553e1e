"""Household and customer rollups, current the moment an ingest commits (SPEC: rollups are
never "as of last night"; tags change only with runs).

`customer_rollups` holds each individual's AUM (CNY, the latest balance month, the same figure
the wealth tier reads) and household; `household_rollups` each household's combined AUM,
member count and the latest run's household tier. An ingest refreshes only the customers and
households whose rows it loaded (`Touched` → `refresh_after_ingest`), inside its own
transaction; a publish refreshes the households whose tier it moved (`refresh_after_publish`). A rollup's
`version`/`updated_at` move only when what it shows changes (members and their AUM, the sums,
the tier, name and status: the fingerprint).

Why a poller misses nothing: every writer first locks the one `rollup_clock` row until it
commits (a row lock in PostgreSQL, the write lock in SQLite) and takes its version from it.
Versions are therefore handed out in commit order and a writer's rows become visible together,
so whoever sees version v already sees every version below it: `updated_at > last seen` (or the
`households` connection's cursor) neither skips nor repeats a change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.clock import utcnow
from clientstrata.graph.record.bulk import bulk_upsert
from clientstrata.graph.record.frames import driver_rows
from clientstrata.graph.record.models import (
    Account,
    CustomerRollup,
    Household,
    HouseholdMember,
    HouseholdRollup,
    Individual,
    MonthlyBalance,
    Product,
    RollupClock,
    Tag,
)
from clientstrata.graph.record.queries import latest_run_id

from .bundle import ASSET_FAMILIES

__all__ = [
    "Touched",
    "refresh_after_ingest",
    "refresh_after_publish",
    "refresh_rollups",
    "rebuild_rollups",
    "RollupReport",
    "HOUSEHOLD_TIER_DIMENSION",
]

HOUSEHOLD_TIER_DIMENSION = "household_wealth_tier"
CHUNK = 5_000
# Past this many customers their household tiers are read as the whole dimension, not looked up.
WHOLE_DIMENSION = 20_000
# Past this share of all customers an incremental refresh costs more than rebuilding everyone.
FULL_SHARE = 0.3
_rollup_clock = RollupClock.__table__
_customer_rollups, _household_rollups = CustomerRollup.__table__, HouseholdRollup.__table__
_individuals, _households, _household_members = Individual.__table__, Household.__table__, HouseholdMember.__table__
_accounts, _balances, _products = Account.__table__, MonthlyBalance.__table__, Product.__table__
_tags = Tag.__table__
_ROLE_ORDER = {"head": 0, "spouse": 1}
_BLOCK = 8  # from this many values on numpy sums in blocks (pairwise), not one after another


@dataclass
class Touched:
    """The keys of the rows an ingest loaded that can change a rollup: people, households,
    memberships, accounts (balance, status, product, owner) and monthly balances."""

    customers: set[str] = field(default_factory=set)
    households: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)

    _COLUMNS = {
        "individuals": ("customers", "customer_id"),
        "household_members": ("customers", "customer_id"),
        "households": ("households", "household_id"),
        "accounts": ("accounts", "account_id"),
        "balances_monthly": ("accounts", "account_id"),
    }

    def note(self, table: str, rows: pd.DataFrame) -> None:
        if table in self._COLUMNS and len(rows):
            kind, column = self._COLUMNS[table]
            getattr(self, kind).update(rows[column].dropna().astype(str).tolist())  # not iterated value by value


@dataclass
class RollupReport:
    version: int
    full: bool
    customers: int  # customer rollups whose content changed
    households: int  # household rollups whose content changed

    def __repr__(self) -> str:
        return (
            f"RollupReport(version={self.version}, full={self.full}, customers={self.customers}, "
            f"households={self.households})"
        )


class _Clock:
    """The rollup clock, locked until this transaction ends: PostgreSQL locks its row, SQLite
    takes its one write lock. A version and moment are taken only when something is written,
    so a refresh that changes nothing leaves the record exactly as it was."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # pysqlite defers BEGIN to the first write
        row = conn.execute(
            sa.select(_rollup_clock.c.version, _rollup_clock.c.at, _rollup_clock.c.month)
            .where(_rollup_clock.c.id == 1)
            .with_for_update()
        ).first()
        if row is None:  # a clock row lost by hand: start again (the rollups rebuild)
            conn.execute(sa.insert(_rollup_clock).values(id=1, version=0))
            row = (0, None, None)
        self.version, self.last, self.month = row
        self.built = self.last is not None
        self.at: dt.datetime | None = None

    def stamp(self) -> tuple[int, dt.datetime]:
        """The next version and a moment after the last one (even if the wall clock went back)."""
        if self.at is None:
            at = utcnow()
            if self.last is not None and at <= self.last:
                at = self.last + dt.timedelta(microseconds=1)
            self.version, self.at = self.version + 1, at
            self.conn.execute(
                sa.update(_rollup_clock).where(_rollup_clock.c.id == 1).values(version=self.version, at=at)
            )
        return self.version, self.at


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    ids = list(ids)
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _select_in(conn: Connection, q: sa.Select, column, ids: Sequence[str] | None) -> list[tuple]:
    """Rows of `q`, for every key when `ids` is None, else `column IN ids` chunk by chunk."""
    if ids is None:
        return [tuple(r) for r in conn.execute(q).all()]
    return [tuple(r) for part in _chunks(ids) for r in conn.execute(q.where(column.in_(part))).all()]


def latest_month(conn: Connection) -> str | None:
    """The latest month with a monthly balance of an individual's asset account: the month
    current AUM reads (as `features.current_aum` does)."""
    return conn.execute(
        sa.select(sa.func.max(_balances.c.month))
        .select_from(
            _balances.join(_accounts, _accounts.c.account_id == _balances.c.account_id).join(
                _products, _products.c.product_id == _accounts.c.product_id
            )
        )
        .where(_accounts.c.owner_type == "individual", _products.c.family.in_(ASSET_FAMILIES))
    ).scalar()


def customer_aum(conn: Connection, ids: Sequence[str] | None, month: str | None, fx: dict[str, float]) -> pd.Series:
    """AUM in CNY per customer in `month`: the monthly daily-average balances of the asset
    accounts they own, and the current balance of such accounts without monthly figures (the
    figure `features.current_aum` gives, here for some customers only). Absent: 0."""
    asset = sa.and_(_accounts.c.owner_type == "individual", _products.c.family.in_(ASSET_FAMILIES))
    parts = []
    if month is not None:
        q = (
            sa.select(_accounts.c.owner_id, _accounts.c.currency, sa.func.sum(_balances.c.avg_daily_balance))
            .select_from(
                _balances.join(_accounts, _accounts.c.account_id == _balances.c.account_id).join(
                    _products, _products.c.product_id == _accounts.c.product_id
                )
            )
            .where(asset, _balances.c.month == month)
            .group_by(_accounts.c.owner_id, _accounts.c.currency)
        )
        parts += _select_in(conn, q, _accounts.c.owner_id, ids)
    no_monthly = ~sa.exists().where(_balances.c.account_id == _accounts.c.account_id)
    q = (
        sa.select(_accounts.c.owner_id, _accounts.c.currency, sa.func.sum(_accounts.c.balance))
        .select_from(_accounts.join(_products, _products.c.product_id == _accounts.c.product_id))
        .where(asset, _accounts.c.balance.is_not(None), no_monthly)
        .group_by(_accounts.c.owner_id, _accounts.c.currency)
    )
    parts += _select_in(conn, q, _accounts.c.owner_id, ids)
    df = pd.DataFrame(parts, columns=["customer_id", "currency", "amount"])
    if df.empty:
        return pd.Series(dtype=float, name="aum")
    rate = df["currency"].map(fx)
    unknown = sorted(set(df.loc[rate.isna(), "currency"]))
    if unknown:
        raise ValueError(f"no exchange rate to CNY for {', '.join(unknown)}: add it to the standard's fx_to_cny")
    df["aum"] = df["amount"].astype(float) * rate
    return df.groupby("customer_id")["aum"].sum().round(2)


# json.dumps(parts, sort_keys=True, default=str) builds an encoder per call: one, kept
_ENCODE = json.JSONEncoder(sort_keys=True, default=str).encode


def _fingerprint(*parts) -> str:
    return hashlib.sha256(_ENCODE(parts).encode()).hexdigest()


def _run_tiers(conn: Connection, run: int, customers: pd.Series) -> pd.Series:
    """customer -> the run's household tier, for `customers`: the dimension read once when they
    are many (one index range of `tag_spans`), else looked up in chunks of the customers'."""
    q = sa.select(_tags.c.customer_id, _tags.c.value).where(
        _tags.c.run_id == run, _tags.c.dimension == HOUSEHOLD_TIER_DIMENSION
    )
    ids = None if len(customers) > WHOLE_DIMENSION else customers.tolist()
    found = pd.DataFrame(_select_in(conn, q, _tags.c.customer_id, ids), columns=["customer_id", "value"])
    return pd.Series(found["value"].to_numpy(dtype=object), index=found["customer_id"].to_numpy(dtype=object))


def _household_tiers(conn: Connection, members: pd.DataFrame, run_tiers: pd.Series | None = None) -> pd.Series:
    """household -> the latest run's household tier, for each confirmed household: every member
    of one carries the same computed value; the head's (else the spouse's, else the first
    member's by id) is read. A candidate household does not pool AUM yet (standard), so it has
    no household tier. `run_tiers` (customer -> tier): the latest run's, when the caller holds them."""
    run = latest_run_id(conn)
    confirmed = members.loc[members["status"] == "confirmed", ["household_id", "customer_id", "role"]]
    if run is None or confirmed.empty:
        return pd.Series(dtype=object)
    if run_tiers is None:
        run_tiers = _run_tiers(conn, run, confirmed["customer_id"])
    picked = (
        confirmed.assign(
            rank=confirmed["role"].map(_ROLE_ORDER).fillna(9),
            tier=confirmed["customer_id"].map(run_tiers),
        )
        .dropna(subset=["tier"])
        .sort_values(["household_id", "rank", "customer_id"])
        .drop_duplicates("household_id")
    )
    return pd.Series(picked["tier"].to_numpy(dtype=object), index=picked["household_id"].to_numpy(dtype=object))


def _write(conn: Connection, table: sa.Table, key: str, rows: pd.DataFrame, version: int, at: dt.datetime) -> None:
    """The changed rollups upserted in bulk (the driver's executemany, or COPY), stamped with
    the writer's version and moment (in the text SQLAlchemy would have stored)."""
    stamp = (version, _stored(conn, table.c.updated_at, at))
    values = [(*r, *stamp) for r in rows.astype(object).itertuples(index=False, name=None)]
    columns = [*rows.columns, "version", "updated_at"]
    for i in range(0, len(values), CHUNK * 10):
        bulk_upsert(conn, table, columns, values[i : i + CHUNK * 10], [key])


def _stored(conn: Connection, column: sa.Column, value):
    """`value` as SQLAlchemy binds it for `column` on this connection's database."""
    process = column.type.bind_processor(conn.dialect)
    return process(value) if process is not None else value


def _frame(conn: Connection, q: sa.Select, column, ids: Sequence[str] | None, columns: list[str]) -> pd.DataFrame:
    """`_select_in`'s rows as a frame, read as the driver's tuples (no SQLAlchemy row per row:
    numbers are selected CAST to a float, as PostgreSQL's numeric is a Decimal)."""
    parts = [q] if ids is None else [q.where(column.in_(part)) for part in _chunks(ids)]
    return pd.DataFrame([r for part in parts for r in driver_rows(conn, part)], columns=columns)


def _round2(values) -> np.ndarray:
    """Each value rounded to cents exactly as Python's `round(float(v), 2)` (the figures stored
    and fingerprinted). numpy's `rint(v * 100) / 100` agrees except where `v * 100` lies within
    a few units in the last place of a half cent (the product itself rounds): those few go
    through Python's own."""
    x = np.asarray(values, dtype=float)
    scaled = x * 100
    out = np.rint(scaled) / 100
    near = np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5) <= 4 * np.spacing(np.abs(scaled)) + 1e-9
    for i in np.flatnonzero(near):
        out[i] = round(float(x[i]), 2)
    return out


def _sums(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Each slice's sum bit for bit as `values[start:end].sum()` (what the fingerprints hold):
    numpy adds fewer than 8 values one after another from +0.0 (here a pass per position, over
    every slice at once) and more in blocks, so the rare long slices are summed one by one."""
    sums = np.zeros(len(starts), dtype=float)
    sizes = ends - starts
    for k in range(min(int(sizes.max(initial=0)), _BLOCK - 1)):
        at = np.flatnonzero(sizes > k)
        sums[at] += values[starts[at] + k]
    for i in np.flatnonzero(sizes >= _BLOCK):
        sums[i] = values[starts[i] : ends[i]].sum()
    return sums


def _changed_customers(conn: Connection, clock: _Clock, keys: list[str] | None, month, fx) -> tuple[int, set[str]]:
    """The customers' rollups whose household or AUM moved, written; how many, and every
    household they belong or belonged to (for an incremental refresh)."""
    people = _frame(conn, sa.select(_individuals.c.customer_id), _individuals.c.customer_id, keys, ["customer_id"])
    membership = _frame(
        conn,
        sa.select(_household_members.c.customer_id, _household_members.c.household_id),
        _household_members.c.customer_id,
        keys,
        ["customer_id", "household_id"],
    )
    old = _frame(
        conn,
        sa.select(
            _customer_rollups.c.customer_id,
            _customer_rollups.c.household_id,
            sa.cast(_customer_rollups.c.aum, sa.Float),
        ),
        _customer_rollups.c.customer_id,
        keys,
        ["customer_id", "was_household", "was_aum"],
    )
    aum = customer_aum(conn, keys, month, fx)
    ids = people["customer_id"]
    household = ids.map(membership.set_index("customer_id")["household_id"])
    now = pd.DataFrame(
        {
            "customer_id": ids,
            "household_id": household.astype(object).where(household.notna(), None),
            "aum": _round2(ids.map(aum).fillna(0.0)),
        }
    )
    before = now.merge(old, on="customer_id", how="left")
    new = before["was_aum"].isna()
    was_aum = pd.Series(_round2(before["was_aum"].fillna(0.0)), index=before.index)
    moved = (before["was_household"].fillna("") != now["household_id"].fillna("")).to_numpy()
    hit = new.to_numpy() | moved | (was_aum != now["aum"]).to_numpy()
    changed = now[hit]
    if len(changed):
        _write(conn, _customer_rollups, "customer_id", changed, *clock.stamp())
    households = set(membership["household_id"].dropna()) | set(old["was_household"].dropna())
    return len(changed), households


def _changed_households(conn: Connection, clock: _Clock, hkeys: list[str] | None, run_tiers) -> int:
    """The households' rollups whose fingerprint moved (members and their AUM, the sum, the
    tier, name and status), written; how many."""
    heads = _frame(
        conn,
        sa.select(_households.c.household_id, _households.c.name, _households.c.status),
        _households.c.household_id,
        hkeys,
        ["household_id", "name", "status"],
    )
    q = sa.select(
        _household_members.c.household_id,
        _household_members.c.customer_id,
        _household_members.c.role,
        sa.cast(sa.func.coalesce(_customer_rollups.c.aum, 0), sa.Float),
    ).select_from(
        _household_members.outerjoin(
            _customer_rollups, _customer_rollups.c.customer_id == _household_members.c.customer_id
        )
    )
    members = _frame(conn, q, _household_members.c.household_id, hkeys, ["household_id", "customer_id", "role", "aum"])
    members["aum"] = members["aum"].astype(float)
    members = members.merge(heads[["household_id", "status"]], on="household_id", how="left")
    tiers = _household_tiers(conn, members, run_tiers)
    stored = dict(
        _select_in(
            conn,
            sa.select(_household_rollups.c.household_id, _household_rollups.c.fingerprint),
            _household_rollups.c.household_id,
            hkeys,
        )
    )
    # members in (household, customer) order: each household one slice, summed and fingerprinted
    ordered = members.sort_values(["household_id", "customer_id"], kind="stable")
    hh = ordered["household_id"].to_numpy(dtype=object)
    aum = ordered["aum"].to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, hh[1:] != hh[:-1]]) if len(hh) else np.array([], dtype=int)
    ends = np.r_[starts[1:], len(hh)].astype(int)
    sums = _sums(aum, starts, ends)
    slices = pd.DataFrame({"start": starts, "end": ends, "sum": sums}, index=pd.Index(hh[starts], dtype=object))
    listed = [list(m) for m in zip(ordered["customer_id"].tolist(), ordered["role"].tolist(), _round2(aum).tolist())]
    at = heads["household_id"]
    start = at.map(slices["start"]).fillna(0).astype(int).tolist()
    end = at.map(slices["end"]).fillna(0).astype(int).tolist()
    total = _round2(at.map(slices["sum"]).fillna(0.0)).tolist()
    tier = at.map(tiers).astype(object)
    tier = tier.where(tier.notna(), None).tolist()
    fingerprints = [
        _fingerprint(n, s, t, r, listed[a:b])
        for n, s, t, r, a, b in zip(heads["name"].tolist(), heads["status"].tolist(), total, tier, start, end)
    ]
    rows = pd.DataFrame(
        {
            "household_id": at,
            "aum": total,
            "member_count": [b - a for a, b in zip(start, end)],
            "tier": tier,
            "fingerprint": fingerprints,
        }
    )
    rows = rows[[stored.get(h) != f for h, f in zip(rows["household_id"].tolist(), fingerprints)]]
    if len(rows):
        _write(conn, _household_rollups, "household_id", rows, *clock.stamp())
    return len(rows)


def refresh_rollups(
    conn: Connection,
    customer_ids: Iterable[str] = (),
    household_ids: Iterable[str] = (),
    fx: dict[str, float] | None = None,
    full: bool = False,
    run_tiers: pd.Series | None = None,
) -> RollupReport:
    """Recompute the rollups of these customers, of their households (before and after any
    change of membership) and of these households, in the caller's transaction. Rebuilds
    everyone instead when asked, when the rollups were never built, when a new balance month
    arrived (it changes everyone's AUM) or when most customers are affected anyway.
    `run_tiers` (customer -> household tier): the latest run's, when the caller holds them (a
    publish), so they are not read back."""
    if fx is None:
        from clientstrata.jobs.classification.standard import load_standard

        fx = load_standard().fx_to_cny
    clock = _Clock(conn)  # first: the lock orders this writer's stamps against every other writer's
    month = latest_month(conn)
    cids, hids = set(customer_ids), set(household_ids)
    if not full and hids:
        cids |= {
            c
            for (c,) in _select_in(
                conn, sa.select(_household_members.c.customer_id), _household_members.c.household_id, sorted(hids)
            )
        }
    population = conn.execute(sa.select(sa.func.count()).select_from(_individuals)).scalar_one()
    full = full or not clock.built or month != clock.month or len(cids) > FULL_SHARE * population
    if not full and not cids and not hids:
        return RollupReport(clock.version, False, 0, 0)
    keys = None if full else sorted(cids)

    # customers: household and AUM now, against what their rollups said
    customers, theirs = _changed_customers(conn, clock, keys, month, fx)
    # households: those asked for, and every one a refreshed customer belongs or belonged to
    hkeys = None if full else sorted(hids | theirs)
    households = 0 if hkeys == [] else _changed_households(conn, clock, hkeys, run_tiers)
    if month != clock.month:
        clock.stamp()  # marks the rollups built for this month
        conn.execute(sa.update(_rollup_clock).where(_rollup_clock.c.id == 1).values(month=month))
    return RollupReport(clock.version, full, customers, households)


def rebuild_rollups(conn: Connection, fx: dict[str, float] | None = None) -> RollupReport:
    """Recompute every rollup (only those whose content changed get a new version), whenever the
    rollups are in doubt (`clientstrata rebuild-rollups`)."""
    return refresh_rollups(conn, fx=fx, full=True)


def refresh_after_publish(conn: Connection, tiers: pd.Series, fx: dict[str, float] | None = None) -> RollupReport:
    """The publish's hook, in its transaction: only the confirmed households whose tier the run
    moved (their members' new household tier differs from the stored one). A run changes no
    AUM, so recomputing everyone's, as a rebuild does, would be a million balances for nothing.

    `tiers` (customer_id → this run's household tier, as the publish wrote them) is compared in
    memory with one sequential read of the memberships: looking the run's tags up member by
    member meant 777k lookups into a run still in the write-ahead log (47 s at 1M)."""
    if latest_run_id(conn) is None:
        return RollupReport(0, False, 0, 0)
    stored = pd.read_sql(
        sa.select(_household_members.c.customer_id, _household_members.c.household_id, _household_rollups.c.tier)
        .select_from(
            _household_members.join(
                _households, _households.c.household_id == _household_members.c.household_id
            ).outerjoin(_household_rollups, _household_rollups.c.household_id == _household_members.c.household_id)
        )
        .where(_households.c.status == "confirmed"),
        conn,
    )
    now = stored["customer_id"].map(tiers)
    hit = now.notna() & (stored["tier"].isna() | (stored["tier"].astype(object) != now.astype(object)))
    moved = sorted(set(stored.loc[hit, "household_id"]))
    return refresh_rollups(conn, household_ids=moved, fx=fx, run_tiers=tiers)


def refresh_after_ingest(conn: Connection, touched: Touched, fx: dict[str, float] | None = None) -> RollupReport:
    """The ingest's hook: the customers behind the accounts it loaded, the people and
    memberships it loaded, and the households it loaded."""
    owners = set()
    if touched.accounts:
        q = sa.select(_accounts.c.owner_id).where(_accounts.c.owner_type == "individual").distinct()
        owners = {o for (o,) in _select_in(conn, q, _accounts.c.account_id, sorted(touched.accounts))}
    return refresh_rollups(conn, touched.customers | owners, touched.households, fx=fx)
