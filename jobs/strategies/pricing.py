"""Tiered pricing (递减定价): what a customer pays per fee item, and what the waivers cost.

A customer's discount on a fee item is their package's (`discounts`, percent; 100 waives it)
plus the contribution bonus of their value decile (`contribution_discounts`), capped at 100.
`prices` answers the price, the discount and why for any number of customers (pure, vectorised);
`waiver_costs` multiplies the discounts by yearly fee volumes.

The bundle has no fee events, so the volumes are estimates (`fee_volumes`): ATM cash withdrawals
and non-cash transfers of the last twelve months of transactions (times each item's `share`, the
part assumed to be charged, e.g. interbank), twelve months of SMS, open accounts and debit cards
held. Every cost this module reports says so (`ESTIMATED`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.models import Account, Card, Transaction

from .playbook import Playbook

__all__ = [
    "PRICE_COLUMNS",
    "VOLUME_COLUMNS",
    "ESTIMATED",
    "prices",
    "fee_volumes",
    "yearly_volumes",
    "waiver_costs",
]

PRICE_COLUMNS = ["customer_id", "fee_item", "base_price", "discount_pct", "price", "why_zh", "why_en"]
VOLUME_COLUMNS = ["customer_id", "atm_withdrawals", "transfers", "months", "accounts", "cards"]
ESTIMATED = (
    "fee volumes are estimated from the last 12 months of transactions, open accounts and debit cards "
    "(the bundle has no fee events)"
)


def _pct(x: float) -> str:
    return f"{x:g}%"


def prices(customers: pd.DataFrame, playbook: Playbook, fee_items: list[str] | None = None) -> pd.DataFrame:
    """PRICE_COLUMNS for every customer × fee item. `customers`: customer_id, package and
    value_contribution (the decile, D1..D10; None when unknown)."""
    fees = [f for f in playbook.fee_schedule if fee_items is None or f.value in fee_items]
    labels = {p.value: p for p in playbook.packages}
    bonus = {d: c.extra_pct for c in playbook.contribution_discounts for d in c.deciles}
    decile = customers.get("value_contribution", pd.Series(None, index=customers.index))
    extra = decile.map(bonus).fillna(0.0).to_numpy(dtype=float)
    decile_text = decile.fillna("none").astype(str).to_numpy()
    frames = []
    for f in fees:
        pkg = customers["package"].map(lambda p, f=f: labels[p].discounts.get(f.value, 0.0) if p in labels else 0.0)
        base_off = pkg.to_numpy(dtype=float)
        off = np.minimum(base_off + extra, 100.0)
        en_pkg = customers["package"].map(lambda p: labels[p].label_en if p in labels else p).to_numpy(dtype=object)
        zh_pkg = customers["package"].map(lambda p: labels[p].label_zh if p in labels else p).to_numpy(dtype=object)
        why_en, why_zh = [], []
        for b, e, o, pe, pz, d in zip(base_off, extra, off, en_pkg, zh_pkg, decile_text):
            parts_en = [f"{pe} takes {_pct(b)} off"] if b else [f"{pe} gives no discount"]
            parts_zh = [f"{pz}优惠{_pct(b)}"] if b else [f"{pz}无优惠"]
            if e:
                parts_en.append(f"value decile {d} adds {e:g} points")
                parts_zh.append(f"价值贡献{d}加{e:g}个百分点")
            tail_en = "waived" if o >= 100 else (f"{_pct(o)} off" if o else "full price")
            tail_zh = "全免" if o >= 100 else (f"优惠{_pct(o)}" if o else "原价")
            cap = " (capped at 100%)" if b + e > 100 else ""
            why_en.append(f"{f.label_en}: " + ", ".join(parts_en) + f" → {tail_en}{cap}")
            why_zh.append(f"{f.label_zh}：" + "，".join(parts_zh) + f" → {tail_zh}")
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": customers["customer_id"].to_numpy(dtype=object),
                    "fee_item": f.value,
                    "base_price": f.price,
                    "discount_pct": off,
                    "price": np.round(f.price * (1 - off / 100), 2),
                    "why_zh": why_zh,
                    "why_en": why_en,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=PRICE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[PRICE_COLUMNS]


def fee_volumes(conn: Connection, customer_ids: list[str] | None = None) -> pd.DataFrame:
    """VOLUME_COLUMNS per individual who owns an account: counts of the twelve months up to the
    latest booking (estimates: see the module docstring)."""
    acc, tx, cards = Account.__table__, Transaction.__table__, Card.__table__
    latest = conn.execute(sa.select(sa.func.max(tx.c.booked_at))).scalar()
    owned = acc.c.owner_type == "individual"
    if customer_ids is not None:
        owned = sa.and_(owned, acc.c.owner_id.in_(list(customer_ids)))
    counts = pd.DataFrame(columns=["customer_id", "atm_withdrawals", "transfers"])
    if latest is not None:
        since = (pd.Timestamp(latest) - pd.Timedelta(days=365)).to_pydatetime()
        atm = sa.and_(tx.c.channel == "atm", tx.c.is_cash.is_(True), tx.c.direction == "debit")
        transfer = sa.and_(tx.c.is_cash.isnot(True), tx.c.direction == "debit", tx.c.channel != "pos")
        q = (
            sa.select(
                acc.c.owner_id.label("customer_id"),
                sa.func.sum(sa.case((atm, 1), else_=0)).label("atm_withdrawals"),
                sa.func.sum(sa.case((transfer, 1), else_=0)).label("transfers"),
            )
            .select_from(tx.join(acc, acc.c.account_id == tx.c.account_id))
            .where(owned, tx.c.booked_at > since)
            .group_by(acc.c.owner_id)
        )
        counts = pd.DataFrame([tuple(r) for r in conn.execute(q)], columns=counts.columns)
    accounts = pd.DataFrame(
        [
            tuple(r)
            for r in conn.execute(
                sa.select(acc.c.owner_id, sa.func.count())
                .where(owned, sa.or_(acc.c.status.is_(None), acc.c.status != "closed"))
                .group_by(acc.c.owner_id)
            )
        ],
        columns=["customer_id", "accounts"],
    )
    held = cards.c.card_type != "credit"
    if customer_ids is not None:
        held = sa.and_(held, cards.c.holder_id.in_(list(customer_ids)))
    debit = pd.DataFrame(
        [
            tuple(r)
            for r in conn.execute(sa.select(cards.c.holder_id, sa.func.count()).where(held).group_by(cards.c.holder_id))
        ],
        columns=["customer_id", "cards"],
    )
    out = accounts.merge(counts, how="outer", on="customer_id").merge(debit, how="outer", on="customer_id")
    out["months"] = np.where(out["accounts"].fillna(0) > 0, 12, 0)
    for c in VOLUME_COLUMNS[1:]:
        out[c] = out[c].fillna(0).astype(int)
    return out[VOLUME_COLUMNS].sort_values("customer_id", ignore_index=True)


def yearly_volumes(volumes: pd.DataFrame, playbook: Playbook) -> pd.DataFrame:
    """customer_id, fee_item, volume: each fee item's yearly count (its basis × its share)."""
    frames = [
        pd.DataFrame(
            {
                "customer_id": volumes["customer_id"].to_numpy(dtype=object),
                "fee_item": f.value,
                "volume": volumes[f.volume].to_numpy(dtype=float) * f.share,
            }
        )
        for f in playbook.fee_schedule
    ]
    return (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["customer_id", "fee_item", "volume"])
    )


def waiver_costs(
    price_table: pd.DataFrame, volumes: pd.DataFrame, playbook: Playbook, by: pd.DataFrame
) -> pd.DataFrame:
    """What the discounts cost a year, per segment: `by` maps customer_id → segment (e.g. the
    package). Columns: segment, customers, fee_item, volume, full_price, charged, waived (CNY)."""
    p = price_table.merge(yearly_volumes(volumes, playbook), how="left", on=["customer_id", "fee_item"])
    p["volume"] = p["volume"].fillna(0.0)
    p = p.merge(by.rename(columns={by.columns[1]: "segment"}), on="customer_id")
    p["full_price"] = p["base_price"] * p["volume"]
    p["charged"] = p["price"] * p["volume"]
    p["waived"] = p["full_price"] - p["charged"]
    g = p.groupby(["segment", "fee_item"], sort=True)
    out = g.agg(
        customers=("customer_id", "nunique"),
        volume=("volume", "sum"),
        full_price=("full_price", "sum"),
        charged=("charged", "sum"),
        waived=("waived", "sum"),
    ).reset_index()
    out[["full_price", "charged", "waived"]] = out[["full_price", "charged", "waived"]].round(2)
    out.attrs["note"] = ESTIMATED
    out.attrs["as_of"] = dt.date.today().isoformat()
    return out
