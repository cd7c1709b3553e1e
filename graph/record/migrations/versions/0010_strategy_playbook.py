"""customer_packages: each run's service package per customer

Revision ID: 0010
Revises: 0009
Create Date: 2027-01-05 10:00:00

The playbook's service package, the selector that chose it and why, per run and customer
(`jobs/strategies/packages.py`), written in the publish transaction with the run's tags.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_packages",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("package", sa.String(length=40), nullable=False),
        sa.Column("selector", sa.String(length=80), nullable=False),
        sa.Column("explanation_zh", sa.Text(), nullable=False),
        sa.Column("explanation_en", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["classification_runs.run_id"]),
        sa.PrimaryKeyConstraint("run_id", "customer_id"),
    )
    op.create_index("ix_customer_packages_run_package", "customer_packages", ["run_id", "package"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_customer_packages_run_package", table_name="customer_packages")
    op.drop_table("customer_packages")
