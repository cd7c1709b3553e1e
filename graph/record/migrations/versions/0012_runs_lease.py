"""runs and what-ifs hold a lease; standards are adopted deliberately

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-17 10:00:00

A run or what-if whose process died stayed `running` for ever: each now carries `lease_until`,
renewed by its process's heartbeat, and `worker` (host and pid, for the operator), so a lapsed
one can be marked failed. `standard_adoptions` records who made which standard live, and when:
runs use the latest adopted standard and never swap it on their own.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("classification_runs", "whatifs"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
            batch.add_column(sa.Column("worker", sa.String(length=100), nullable=True))
    op.create_table(
        "standard_adoptions",
        sa.Column("adoption_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("adopted_by", sa.String(length=100), nullable=False),
        sa.Column("adopted_at", sa.DateTime(), nullable=False),
        sa.Column("previous_sha256", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["sha256"], ["standards.sha256"]),
        sa.PrimaryKeyConstraint("adoption_id"),
    )


def downgrade() -> None:
    op.drop_table("standard_adoptions")
    for table in ("whatifs", "classification_runs"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("worker")
            batch.drop_column("lease_until")
