"""points (积分): purchases, card spend and fee events from the bundle; the points ledger

Revision ID: 0015
Revises: 0014
Create Date: 2027-01-06 10:00:00

Three bundle tables the points earn and redeem against (`purchases`, `card_spend`,
`fee_events`, each with the `ingest_id` of 0011), and the ledger: `points_postings`, append-only, unique per customer and source
(replaying a source never posts twice), and `points_accounts`, the balance kept with each
posting, never below zero (jobs/strategies/points.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_MONEY = sa.Numeric(18, 2)


def upgrade() -> None:
    op.create_table(
        "purchases",
        sa.Column("purchase_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=True),
        sa.Column("purchased_at", sa.DateTime(), nullable=False),
        sa.Column("amount", _MONEY, nullable=False),
        sa.Column("ingest_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["individuals.customer_id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["product_id"], ["products.product_id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("purchase_id"),
    )
    op.create_index("ix_purchases_customer_id", "purchases", ["customer_id"])
    op.create_table(
        "card_spend",
        sa.Column("spend_id", sa.String(length=40), nullable=False),
        sa.Column("card_id", sa.String(length=40), nullable=False),
        sa.Column("spent_at", sa.DateTime(), nullable=False),
        sa.Column("amount", _MONEY, nullable=False),
        sa.Column("merchant_category", sa.String(length=4), nullable=True),
        sa.Column("ingest_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["card_id"], ["cards.card_id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("spend_id"),
    )
    op.create_index("ix_card_spend_card_id", "card_spend", ["card_id"])
    op.create_table(
        "fee_events",
        sa.Column("fee_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("fee_item", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=True),
        sa.Column("charged_at", sa.DateTime(), nullable=False),
        sa.Column("amount", _MONEY, nullable=False),
        sa.Column("ingest_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["individuals.customer_id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("fee_id"),
    )
    op.create_index("ix_fee_events_customer_id", "fee_events", ["customer_id"])
    op.create_table(
        "points_accounts",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("balance >= 0", name="ck_points_accounts_balance"),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_table(
        "points_postings",
        sa.Column("posting_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("basis_amount", _MONEY, nullable=True),
        sa.Column("multiplier", sa.Float(), nullable=True),
        sa.Column("package", sa.String(length=40), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("posted_at", sa.DateTime(), nullable=False),
        sa.Column("posted_by", sa.String(length=80), nullable=False),
        sa.CheckConstraint("(kind = 'earn' AND points > 0) OR (kind <> 'earn' AND points < 0)", name="ck_points_sign"),
        sa.PrimaryKeyConstraint("posting_id"),
        sa.UniqueConstraint("customer_id", "source", name="uq_points_postings_customer_source"),
    )
    op.create_index("ix_points_postings_customer_posting", "points_postings", ["customer_id", "posting_id"])


def downgrade() -> None:
    op.drop_index("ix_points_postings_customer_posting", table_name="points_postings")
    op.drop_table("points_postings")
    op.drop_table("points_accounts")
    for table, col in (("fee_events", "customer_id"), ("card_spend", "card_id"), ("purchases", "customer_id")):
        op.drop_index(f"ix_{table}_{col}", table_name=table)
        op.drop_table(table)
