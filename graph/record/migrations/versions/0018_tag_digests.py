"""tag_digests: a digest of each subject's open spans, so a re-run stages only what changed

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 16:30:00

Each publish compares a partition's fresh per-subject digests (jobs/runs/digests.py) with these
and writes only the subjects whose tags changed. The digests are made in Python, so this fills
every subject that has open spans with 0, a digest no content makes: the next run finds each of
them changed (compares them exactly, as before) and stores the real digest — and a subject that
is gone by then is still found gone.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# the enterprise dimensions when this revision was written (jobs/classification/dimensions ENTERPRISE)
_ENTERPRISE = ("enterprise_industry", "enterprise_size", "enterprise_credit_tier", "enterprise_ecosystem_role")


def upgrade() -> None:
    op.create_table(
        "tag_digests",
        sa.Column("scope", sa.SmallInteger(), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("digest", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "customer_id"),
        sqlite_with_rowid=False,  # a partition's range is one sequential read
    )
    names = ", ".join(f"'{d}'" for d in _ENTERPRISE)
    op.execute(
        "INSERT INTO tag_digests (scope, customer_id, digest) "
        f"SELECT DISTINCT CASE WHEN dimension IN ({names}) THEN 1 ELSE 0 END, customer_id, 0 "
        "FROM tag_spans WHERE to_seq IS NULL"
    )


def downgrade() -> None:
    op.drop_table("tag_digests")
