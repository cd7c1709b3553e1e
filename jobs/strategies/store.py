"""The packages a run gave its customers, in the record (`customer_packages`): written in the
run's publish transaction, read by reports, notices and what-if."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clientstrata.graph.record.bulk import bulk_insert
from clientstrata.graph.record.models import CustomerPackage

from .packages import PACKAGE_COLUMNS
from .playbook import Package

__all__ = ["write_packages", "run_packages", "package_payload"]

_packages = CustomerPackage.__table__


def write_packages(conn: Connection, packages: pd.DataFrame, run_id: int) -> int:
    """Insert one partition's packages (PACKAGE_COLUMNS) for `run_id`; nothing commits here."""
    if packages.empty:
        return 0
    return bulk_insert(conn, _packages, packages[PACKAGE_COLUMNS].assign(run_id=run_id))


def run_packages(conn: Connection, run_id: int | None, customer_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """PACKAGE_COLUMNS of a run, by customer id (all, or those of `customer_ids`)."""
    if run_id is None:
        return pd.DataFrame(columns=PACKAGE_COLUMNS)
    q = sa.select(*[_packages.c[c] for c in PACKAGE_COLUMNS]).where(_packages.c.run_id == run_id)
    if customer_ids is not None:
        q = q.where(_packages.c.customer_id.in_(list(customer_ids)))
    rows = conn.execute(q.order_by(_packages.c.customer_id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=PACKAGE_COLUMNS)


def package_payload(package: Package) -> dict:
    """What a notice says of a package: its name and entitlements (权益), in both languages."""
    return {
        "value": package.value,
        "label_zh": package.label_zh,
        "label_en": package.label_en,
        "entitlements": [
            {"value": e.value, "label_zh": e.label_zh, "label_en": e.label_en} for e in package.entitlements
        ],
    }
