"""The household and customer rollups' refresh as main had it before the household tiers were
vectorised (issue 15), kept as the reference the faster code is held to. Not imported by the
product: tests/jobs/ingest/test_rollups_reference.py and `bench_strategy.py --household-tiers`
run it beside `jobs/ingest/rollups.py` on the same bank and compare what each wrote.

Each function is main's text unchanged (93f26d4); only the imports differ. What replaced them:
- `refresh_rollups`: customers compared one by one (`aum.get` per customer) → one frame
  comparison; members grouped into dict lists and summed per household → sorted once and summed
  by `np.add.reduceat`; rows upserted through SQLAlchemy → the driver's bulk upsert;
- `_household_tiers`: the run's tags read member by member (`IN` chunks of the `tags` view) and
  a groupby per household → the dimension read once (or handed over by the publish) and the
  head picked by one sort;
- `refresh_after_publish`: unchanged in what it selects; it hands the run's tiers over.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.db import upsert
from clientstrata.graph.record.queries import latest_run_id
from clientstrata.jobs.ingest.bundle import ASSET_FAMILIES
from clientstrata.jobs.ingest.rollups import (
    _ROLE_ORDER,
    CHUNK,
    FULL_SHARE,
    HOUSEHOLD_TIER_DIMENSION,
    RollupReport,
    _accounts,
    _balances,
    _Clock,
    _customer_rollups,
    _household_members,
    _household_rollups,
    _households,
    _individuals,
    _products,
    _rollup_clock,
    _tags,
)

__all__ = ["refresh_rollups", "refresh_after_publish"]


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


def _fingerprint(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _household_tiers(conn: Connection, members: pd.DataFrame) -> dict[str, str]:
    """The latest run's household tier of each confirmed household: every member of one carries
    the same computed value; the head's (else the first member's) is read. A candidate
    household does not pool AUM yet (standard), so it has no household tier."""
    run = latest_run_id(conn)
    confirmed = members[members["status"] == "confirmed"]
    if run is None or confirmed.empty:
        return {}
    q = sa.select(_tags.c.customer_id, _tags.c.value).where(
        _tags.c.run_id == run, _tags.c.dimension == HOUSEHOLD_TIER_DIMENSION
    )
    values = dict(_select_in(conn, q, _tags.c.customer_id, list(confirmed["customer_id"])))
    out = {}
    for hid, part in (
        confirmed.assign(rank=confirmed["role"].map(_ROLE_ORDER).fillna(9))
        .sort_values(["household_id", "rank", "customer_id"])
        .groupby("household_id", sort=False)
    ):
        tier = next((values[c] for c in part["customer_id"] if c in values), None)
        if tier is not None:
            out[hid] = tier
    return out


def _write(conn: Connection, table: sa.Table, key: str, rows: list[dict]) -> None:
    for i in range(0, len(rows), CHUNK):
        upsert(conn, table, rows[i : i + CHUNK], [key])


def refresh_rollups(
    conn: Connection,
    customer_ids: Iterable[str] = (),
    household_ids: Iterable[str] = (),
    fx: dict[str, float] | None = None,
    full: bool = False,
) -> RollupReport:
    """Recompute the rollups of these customers, of their households (before and after any
    change of membership) and of these households, in the caller's transaction. Rebuilds
    everyone instead when asked, when the rollups were never built, when a new balance month
    arrived (it changes everyone's AUM) or when most customers are affected anyway."""
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
    people = [c for (c,) in _select_in(conn, sa.select(_individuals.c.customer_id), _individuals.c.customer_id, keys)]
    membership = dict(
        _select_in(
            conn,
            sa.select(_household_members.c.customer_id, _household_members.c.household_id),
            _household_members.c.customer_id,
            keys,
        )
    )
    old = {
        r[0]: r[1:]
        for r in _select_in(
            conn,
            sa.select(_customer_rollups.c.customer_id, _customer_rollups.c.household_id, _customer_rollups.c.aum),
            _customer_rollups.c.customer_id,
            keys,
        )
    }
    aum = customer_aum(conn, keys, month, fx)
    changed = []
    for c in people:
        now = (membership.get(c), round(float(aum.get(c, 0.0)), 2))
        before = old.get(c)
        if before is None or before[0] != now[0] or round(float(before[1]), 2) != now[1]:
            version, at = clock.stamp()
            changed.append(
                {"customer_id": c, "household_id": now[0], "aum": now[1], "version": version, "updated_at": at}
            )
    _write(conn, _customer_rollups, "customer_id", changed)

    # households: those asked for, and every one a refreshed customer belongs or belonged to
    if not full:
        hids |= {h for h in membership.values() if h} | {v[0] for v in old.values() if v[0]}
    hkeys = None if full else sorted(hids)
    if hkeys == []:
        return RollupReport(clock.version, full, len(changed), 0)
    heads = pd.DataFrame(
        _select_in(
            conn,
            sa.select(_households.c.household_id, _households.c.name, _households.c.status),
            _households.c.household_id,
            hkeys,
        ),
        columns=["household_id", "name", "status"],
    )
    q = sa.select(
        _household_members.c.household_id,
        _household_members.c.customer_id,
        _household_members.c.role,
        sa.func.coalesce(_customer_rollups.c.aum, 0),
    ).select_from(
        _household_members.outerjoin(
            _customer_rollups, _customer_rollups.c.customer_id == _household_members.c.customer_id
        )
    )
    members = pd.DataFrame(
        _select_in(conn, q, _household_members.c.household_id, hkeys),
        columns=["household_id", "customer_id", "role", "aum"],
    )
    members["aum"] = members["aum"].astype(float)
    members = members.merge(heads[["household_id", "status"]], on="household_id", how="left")
    tiers = _household_tiers(conn, members)
    stored = dict(
        _select_in(
            conn,
            sa.select(_household_rollups.c.household_id, _household_rollups.c.fingerprint),
            _household_rollups.c.household_id,
            hkeys,
        )
    )
    # members as plain lists per household, in customer order: a DataFrame per household cost
    # more than everything else in a first ingest's refresh (thousands of households)
    ordered = members.sort_values(["household_id", "customer_id"], kind="stable")
    by_household: dict[str, list[tuple]] = {}
    for h, c, r, a in zip(*(ordered[k].tolist() for k in ("household_id", "customer_id", "role", "aum"))):
        by_household.setdefault(h, []).append((c, r, a))
    rows = []
    for h in heads.itertuples(index=False):
        part = by_household.get(h.household_id, [])
        total = round(float(np.array([a for _, _, a in part], dtype=float).sum()), 2)  # as pandas sums
        tier = tiers.get(h.household_id)
        fp = _fingerprint(h.name, h.status, total, tier, [[c, r, round(a, 2)] for c, r, a in part])
        if stored.get(h.household_id) != fp:
            version, at = clock.stamp()
            rows.append(
                {
                    "household_id": h.household_id,
                    "aum": total,
                    "member_count": len(part),
                    "tier": tier,
                    "fingerprint": fp,
                    "version": version,
                    "updated_at": at,
                }
            )
    _write(conn, _household_rollups, "household_id", rows)
    if month != clock.month:
        clock.stamp()  # marks the rollups built for this month
        conn.execute(sa.update(_rollup_clock).where(_rollup_clock.c.id == 1).values(month=month))
    return RollupReport(clock.version, full, len(changed), len(rows))


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
    return refresh_rollups(conn, household_ids=sorted(set(stored.loc[hit, "household_id"])), fx=fx)
