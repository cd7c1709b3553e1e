"""Suitability rechecked in SQL (`suitable_now`) is `risk.suitable` case for case: the hard
rule must not drift between the run's `decide` and the reads of its stored actions."""

import itertools

import sqlalchemy as sa

from clientstrata.jobs.classification.dimensions.risk import suitable
from clientstrata.jobs.strategies.suitable_now import suitable_clause

CUSTOMER = ["C1", "C2", "C3", "C4", "C5", None, "unassessed", "expired", "c3"]
PRODUCT = ["R1", "R2", "R3", "R4", "R5", None, "", " r3 "]


def test_the_sql_rule_is_the_python_rule(engine):
    with engine.connect() as conn:
        for customer, product, professional in itertools.product(CUSTOMER, PRODUCT, (True, False, None)):
            clause = suitable_clause(
                sa.literal(customer, sa.String),
                sa.literal(product, sa.String),
                sa.literal(professional, sa.Boolean),
            )
            got = conn.execute(sa.select(sa.case((clause, True), else_=False))).scalar_one()
            level = customer if customer in ("C1", "C2", "C3", "C4", "C5") else None
            assert bool(got) == suitable(level, product, bool(professional)), (customer, product, professional)
