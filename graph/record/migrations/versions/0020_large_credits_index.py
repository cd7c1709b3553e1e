"""a partial index on the large credits, for a bank's first points run

Revision ID: 0020
Revises: 0019
Create Date: 2027-01-25 10:00:00

A bank's first points run (issue 13 §6) looks for the credits of CNY 50,000 or more (the default
playbook's deposit earn rule) among every transaction of every deposit account: no index holds
the amount in front, so SQLite read each account's whole history (0.7 s CPU at 100,000
individuals, 107 credits found). Only the rows it describes enter this index, so loading
transactions costs about what it did. The condition is written out here as the models state it
(`models.LARGE_CREDIT_WHERE`, 50,000 when this revision was written).
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_WHERE = "direction = 'credit' AND amount >= 50000"
# the covering index's columns (0006): an account's credits read in the order they were before
_COLUMNS = ["account_id", "booked_at", "direction", "amount", "currency", "is_cash", "counterparty_country", "channel"]


def upgrade() -> None:
    op.create_index(
        "ix_transactions_large_credits",
        "transactions",
        _COLUMNS,
        sqlite_where=sa.text(_WHERE),
        postgresql_where=sa.text(_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_transactions_large_credits", table_name="transactions")
