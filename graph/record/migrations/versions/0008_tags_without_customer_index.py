"""tags: drop ix_tags_customer

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-16 10:00:00

A run's tags are written in primary-key order (run, customer, dimension), so that index only
grows at its end. The (customer_id, run_id) index did not: each run's entries go next to every
earlier run's for the same customer, so a publish rewrote all of it. At 1M customers with one
run before, that doubled the tag writes (5.5 → 13 s per 50,000 customers, and growing with
every run kept). Readers that went by customer across runs now name the published runs, which
the primary key serves (`jobs/history.tag_histories`).
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tags_customer", table_name="tags")


def downgrade() -> None:
    op.create_index("ix_tags_customer", "tags", ["customer_id", "run_id"], unique=False)
