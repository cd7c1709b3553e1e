"""Batch reads behind the customer 360 and enterprise views: holdings, relationship managers,
enterprises with the people linked to them and their supply chain. Each takes a batch of keys
(the dataloaders' shape) and applies the caller's book where people are involved."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .models import (
    Account,
    Branch,
    Employment,
    Enterprise,
    EnterpriseControl,
    Individual,
    Loan,
    Product,
    RelationshipManager,
    SupplyChainLink,
)

__all__ = ["holdings_by_customer", "rms_by_id", "enterprises_by_id", "enterprise_people", "supply_chain"]

_A, _P, _L = Account.__table__, Product.__table__, Loan.__table__
_I, _E = Individual.__table__, Enterprise.__table__


def holdings_by_customer(conn: Connection, ids: Sequence[str]) -> dict[str, list[dict]]:
    """Open accounts and running loans of each customer, one row per account, with the product,
    its family and risk level. Loans count their outstanding principal as the balance."""
    accounts = (
        sa.select(
            _A.c.owner_id.label("customer_id"),
            _A.c.account_id,
            _A.c.account_number,
            _A.c.product_id,
            _P.c.name.label("product_name"),
            _P.c.family,
            _P.c.risk_level,
            _A.c.currency,
            _A.c.balance,
            _A.c.opened_on,
            _A.c.status,
        )
        .join(_P, _P.c.product_id == _A.c.product_id)
        .where(_A.c.owner_type == "individual", _A.c.owner_id.in_(list(ids)), _A.c.status != "closed")
    )
    loans = (
        sa.select(
            _A.c.owner_id,
            _L.c.loan_id,
            _A.c.account_number,
            _L.c.product_id,
            _P.c.name,
            _P.c.family,
            _P.c.risk_level,
            _A.c.currency,
            _L.c.outstanding,
            _L.c.granted_on,
            _L.c.status,
        )
        .join(_A, _A.c.account_id == _L.c.account_id)
        .join(_P, _P.c.product_id == _L.c.product_id)
        .where(_A.c.owner_type == "individual", _A.c.owner_id.in_(list(ids)), _L.c.status.in_(["C", "D"]))
    )
    out: dict[str, list[dict]] = defaultdict(list)
    for r in conn.execute(accounts.union_all(loans).order_by("customer_id", "family", "account_id")).mappings():
        out[r["customer_id"]].append(dict(r))
    return out


def rms_by_id(conn: Connection, ids: Sequence[str]) -> dict[str, dict]:
    rm, br = RelationshipManager.__table__, Branch.__table__
    q = (
        sa.select(rm, br.c.name.label("branch_name"), br.c.region, br.c.city)
        .join(br, br.c.branch_id == rm.c.branch_id)
        .where(rm.c.rm_id.in_(list(ids)))
    )
    return {r["rm_id"]: dict(r) for r in conn.execute(q).mappings()}


def enterprises_by_id(conn: Connection, ids: Sequence[str], book: str | None = None) -> dict[str, dict]:
    """Enterprises; a relationship manager sees those they manage."""
    q = sa.select(_E).where(_E.c.enterprise_id.in_(list(ids)))
    if book is not None:
        q = q.where(_E.c.rm_id == book)
    return {r["enterprise_id"]: dict(r) for r in conn.execute(q).mappings()}


def enterprise_people(
    conn: Connection, ids: Sequence[str], book: str | None = None, limit: int = 200
) -> dict[str, list[dict]]:
    """Individuals linked to each enterprise: controllers (legal representative, shareholder,
    executive) first, then employees (payroll first), limited to the caller's book and to `limit`
    per enterprise (a core employer has thousands); each row carries the enterprise's `total`."""
    emp, ctl = Employment.__table__, EnterpriseControl.__table__
    employees = sa.select(
        emp.c.enterprise_id,
        emp.c.customer_id,
        sa.literal("employee").label("link"),
        emp.c.payroll,
        sa.null().label("share"),
    ).where(emp.c.enterprise_id.in_(list(ids)))
    controllers = sa.select(ctl.c.enterprise_id, ctl.c.customer_id, ctl.c.role, sa.null(), ctl.c.share).where(
        ctl.c.enterprise_id.in_(list(ids))
    )
    both = employees.union_all(controllers).subquery()
    order = (sa.case((both.c.link == "employee", 1), else_=0), both.c.payroll.desc(), both.c.customer_id)
    q = sa.select(
        both,
        _I.c.name,
        sa.func.row_number().over(partition_by=both.c.enterprise_id, order_by=order).label("n"),
        sa.func.count().over(partition_by=both.c.enterprise_id).label("total"),
    ).join(_I, _I.c.customer_id == both.c.customer_id)
    if book is not None:
        q = q.where(_I.c.rm_id == book)
    ranked = q.subquery()
    out: dict[str, list[dict]] = defaultdict(list)
    rows = conn.execute(sa.select(ranked).where(ranked.c.n <= limit).order_by(ranked.c.enterprise_id, ranked.c.n))
    for r in rows.mappings():
        out[r["enterprise_id"]].append({k: v for k, v in r.items() if k != "n"})
    return out


def supply_chain(conn: Connection, ids: Sequence[str]) -> dict[str, list[dict]]:
    """Each enterprise's suppliers and buyers with the annual volume between them."""
    sc = SupplyChainLink.__table__
    sup = sa.select(
        sc.c.buyer_id.label("enterprise_id"),
        sc.c.supplier_id.label("partner_id"),
        sa.literal("supplier").label("partner_role"),
        sc.c.annual_volume,
    ).where(sc.c.buyer_id.in_(list(ids)))
    buy = sa.select(sc.c.supplier_id, sc.c.buyer_id, sa.literal("buyer"), sc.c.annual_volume).where(
        sc.c.supplier_id.in_(list(ids))
    )
    both = sup.union_all(buy).subquery()
    q = sa.select(both, _E.c.name.label("partner_name")).join(_E, _E.c.enterprise_id == both.c.partner_id)
    out: dict[str, list[dict]] = defaultdict(list)
    for r in conn.execute(q.order_by(both.c.enterprise_id, both.c.partner_role, both.c.partner_id)).mappings():
        out[r["enterprise_id"]].append(dict(r))
    return out
