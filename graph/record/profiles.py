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

_accounts, _products, _loans = Account.__table__, Product.__table__, Loan.__table__
_individuals, _enterprises = Individual.__table__, Enterprise.__table__


def holdings_by_customer(conn: Connection, ids: Sequence[str]) -> dict[str, list[dict]]:
    """Open accounts and running loans of each customer, one row per account, with the product,
    its family and risk level; `kind` says which (account or loan: they are numbered apart). Loans count their outstanding principal as the balance."""
    accounts = (
        sa.select(
            _accounts.c.owner_id.label("customer_id"),
            sa.literal("account").label("kind"),
            _accounts.c.account_id,
            _accounts.c.account_number,
            _accounts.c.product_id,
            _products.c.name.label("product_name"),
            _products.c.family,
            _products.c.risk_level,
            _accounts.c.currency,
            _accounts.c.balance,
            _accounts.c.opened_on,
            _accounts.c.status,
        )
        .join(_products, _products.c.product_id == _accounts.c.product_id)
        .where(
            _accounts.c.owner_type == "individual", _accounts.c.owner_id.in_(list(ids)), _accounts.c.status != "closed"
        )
    )
    loans = (
        sa.select(
            _accounts.c.owner_id,
            sa.literal("loan"),
            _loans.c.loan_id,
            _accounts.c.account_number,
            _loans.c.product_id,
            _products.c.name,
            _products.c.family,
            _products.c.risk_level,
            _accounts.c.currency,
            _loans.c.outstanding,
            _loans.c.granted_on,
            _loans.c.status,
        )
        .join(_accounts, _accounts.c.account_id == _loans.c.account_id)
        .join(_products, _products.c.product_id == _loans.c.product_id)
        .where(
            _accounts.c.owner_type == "individual", _accounts.c.owner_id.in_(list(ids)), _loans.c.status.in_(["C", "D"])
        )
    )
    out: dict[str, list[dict]] = defaultdict(list)
    for r in conn.execute(accounts.union_all(loans).order_by("customer_id", "family", "account_id")).mappings():
        out[r["customer_id"]].append(dict(r))
    return out


def rms_by_id(conn: Connection, ids: Sequence[str]) -> dict[str, dict]:
    managers, branches = RelationshipManager.__table__, Branch.__table__
    q = (
        sa.select(managers, branches.c.name.label("branch_name"), branches.c.region, branches.c.city)
        .join(branches, branches.c.branch_id == managers.c.branch_id)
        .where(managers.c.rm_id.in_(list(ids)))
    )
    return {r["rm_id"]: dict(r) for r in conn.execute(q).mappings()}


def enterprises_by_id(conn: Connection, ids: Sequence[str], book: str | None = None) -> dict[str, dict]:
    """Enterprises; a relationship manager sees those they manage."""
    q = sa.select(_enterprises).where(_enterprises.c.enterprise_id.in_(list(ids)))
    if book is not None:
        q = q.where(_enterprises.c.rm_id == book)
    return {r["enterprise_id"]: dict(r) for r in conn.execute(q).mappings()}


def enterprise_people(
    conn: Connection, ids: Sequence[str], book: str | None = None, limit: int = 200
) -> dict[str, list[dict]]:
    """Individuals linked to each enterprise: controllers (legal representative, shareholder,
    executive) first, then employees (payroll first), limited to the caller's book and to `limit`
    per enterprise (a core employer has thousands); each row carries the enterprise's `total`."""
    employment, control = Employment.__table__, EnterpriseControl.__table__
    employees = sa.select(
        employment.c.enterprise_id,
        employment.c.customer_id,
        sa.literal("employee").label("link"),
        employment.c.payroll,
        sa.null().label("share"),
    ).where(employment.c.enterprise_id.in_(list(ids)))
    controllers = sa.select(
        control.c.enterprise_id, control.c.customer_id, control.c.role, sa.null(), control.c.share
    ).where(control.c.enterprise_id.in_(list(ids)))
    both = employees.union_all(controllers).subquery()
    order = (sa.case((both.c.link == "employee", 1), else_=0), both.c.payroll.desc(), both.c.customer_id)
    q = sa.select(
        both,
        _individuals.c.name,
        sa.func.row_number().over(partition_by=both.c.enterprise_id, order_by=order).label("n"),
        sa.func.count().over(partition_by=both.c.enterprise_id).label("total"),
    ).join(_individuals, _individuals.c.customer_id == both.c.customer_id)
    if book is not None:
        q = q.where(_individuals.c.rm_id == book)
    ranked = q.subquery()
    out: dict[str, list[dict]] = defaultdict(list)
    rows = conn.execute(sa.select(ranked).where(ranked.c.n <= limit).order_by(ranked.c.enterprise_id, ranked.c.n))
    for r in rows.mappings():
        out[r["enterprise_id"]].append({k: v for k, v in r.items() if k != "n"})
    return out


def supply_chain(conn: Connection, ids: Sequence[str]) -> dict[str, list[dict]]:
    """Each enterprise's suppliers and buyers with the annual volume between them."""
    links = SupplyChainLink.__table__
    sup = sa.select(
        links.c.buyer_id.label("enterprise_id"),
        links.c.supplier_id.label("partner_id"),
        sa.literal("supplier").label("partner_role"),
        links.c.annual_volume,
    ).where(links.c.buyer_id.in_(list(ids)))
    buy = sa.select(links.c.supplier_id, links.c.buyer_id, sa.literal("buyer"), links.c.annual_volume).where(
        links.c.supplier_id.in_(list(ids))
    )
    both = sup.union_all(buy).subquery()
    q = sa.select(both, _enterprises.c.name.label("partner_name")).join(
        _enterprises, _enterprises.c.enterprise_id == both.c.partner_id
    )
    out: dict[str, list[dict]] = defaultdict(list)
    for r in conn.execute(q.order_by(both.c.enterprise_id, both.c.partner_role, both.c.partner_id)).mappings():
        out[r["enterprise_id"]].append(dict(r))
    return out
