"""points_scans, cross_sell_rules, and ingest_id indexes on the tables points are earned on

Revision ID: 0019
Revises: 0018
Create Date: 2027-01-24 10:00:00

The strategy stage at a million customers (issue 13): the points job remembers which ingests it
has read per earn source and rules (`points_scans`), so a run reads only the rows of newer
ingests, found by the new `ingest_id` indexes; the cross-sell rules last mined are kept under
the digest of their inputs (`cross_sell_rules`), so a run whose holdings did not change reuses
them. Both tables start empty: the first run after this migration reads every event once (the
ledger's unique key still refuses a second posting) and mines the rules once.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_purchases_ingest_id", "purchases"),
    ("ix_card_spend_ingest_id", "card_spend"),
    ("ix_transactions_ingest_id", "transactions"),
)


def upgrade() -> None:
    op.create_table(
        "points_scans",
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("rules", sa.String(length=64), nullable=False),
        sa.Column("ingest_id", sa.Integer(), nullable=False),
        sa.Column("scanned_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "rules", "ingest_id"),
    )
    op.create_table(
        "cross_sell_rules",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("n_rules", sa.Integer(), nullable=False),
        sa.Column("mined_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    for name, table in _INDEXES:
        op.create_index(name, table, ["ingest_id"])


def downgrade() -> None:
    for name, table in _INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_table("cross_sell_rules")
    op.drop_table("points_scans")
