"""what-ifs asked over the API, done in the background

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-16 10:00:00

`whatIf` was answered inside the request; at a million customers that takes minutes. Requests
are now queued here, done by the server's RunWorker, and their reports kept.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "whatifs",
        sa.Column("whatif_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("standard_version", sa.String(length=40), nullable=False),
        sa.Column("standard_sha256", sa.String(length=64), nullable=False),
        sa.Column("standard_text", sa.Text(), nullable=False),
        sa.Column("sample", sa.Integer(), nullable=False),
        sa.Column("base_run_id", sa.Integer(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["base_run_id"], ["classification_runs.run_id"]),
        sa.PrimaryKeyConstraint("whatif_id"),
    )
    op.create_index("ix_whatifs_status", "whatifs", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_whatifs_status", table_name="whatifs")
    op.drop_table("whatifs")
