"""override labels (the overriding value's zh/en labels, kept with it); index runs by
publication time for as-of reads

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 00:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("overrides", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label_zh", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("label_en", sa.String(length=60), nullable=True))
    with op.batch_alter_table("classification_runs", schema=None) as batch_op:
        batch_op.create_index("ix_classification_runs_published_at", ["published_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("classification_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_classification_runs_published_at")
    with op.batch_alter_table("overrides", schema=None) as batch_op:
        batch_op.drop_column("label_en")
        batch_op.drop_column("label_zh")
