"""ingest ledger: the ingest id on every bundle row, and how cleanly a quarantined row was read

Revision ID: 0011
Revises: 0010
Create Date: 2027-01-10 10:00:00

Every bundle table gets `ingest_id`: the ingest that last inserted or changed the row (rows
loaded before this revision have none). `quarantine.aligned` says whether the reader split the
row into the header's fields cleanly; rows quarantined before it have none and are masked in
full for readers without read_pii. Both columns are nullable, so adding them rewrites no rows
on either database.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BUNDLE_TABLES = (
    "branches",
    "relationship_managers",
    "products",
    "individuals",
    "enterprises",
    "households",
    "household_members",
    "employment",
    "enterprise_control",
    "supply_chain",
    "accounts",
    "account_holders",
    "balances_monthly",
    "loans",
    "cards",
    "standing_orders",
    "transactions",
    "risk_questionnaires",
)


def upgrade() -> None:
    for table in BUNDLE_TABLES:
        op.add_column(table, sa.Column("ingest_id", sa.Integer(), nullable=True))
    op.add_column("quarantine", sa.Column("aligned", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("aligned")
    for table in BUNDLE_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("ingest_id")
