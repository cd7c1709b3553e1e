"""household and customer rollups

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00

The tables start empty: the next ingest (or publish, or `clientstrata rollups --rebuild`)
builds them all, since the clock says they were never built.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollup_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    # the one clock row every rollup writer locks; version 0 and no moment: never built
    op.execute("INSERT INTO rollup_clock (id, version) VALUES (1, 0)")
    op.create_table(
        "customer_rollups",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("household_id", sa.String(length=40), nullable=True),
        sa.Column("aum", sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["individuals.customer_id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_index("ix_customer_rollups_aum", "customer_rollups", ["aum", "customer_id"], unique=False)
    op.create_index("ix_customer_rollups_version", "customer_rollups", ["version"], unique=False)
    op.create_table(
        "household_rollups",
        sa.Column("household_id", sa.String(length=40), nullable=False),
        sa.Column("aum", sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=40), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["households.household_id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("household_id"),
    )
    op.create_index("ix_household_rollups_updated_at", "household_rollups", ["updated_at"], unique=False)
    op.create_index("ix_household_rollups_version", "household_rollups", ["version", "household_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_household_rollups_version", table_name="household_rollups")
    op.drop_index("ix_household_rollups_updated_at", table_name="household_rollups")
    op.drop_table("household_rollups")
    op.drop_index("ix_customer_rollups_version", table_name="customer_rollups")
    op.drop_index("ix_customer_rollups_aum", table_name="customer_rollups")
    op.drop_table("customer_rollups")
    op.drop_table("rollup_clock")
