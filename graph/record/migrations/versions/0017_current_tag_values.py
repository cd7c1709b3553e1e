"""current_tag_values: the latest run's values one row per subject, for the bulk read

Revision ID: 0017
Revises: 0016
Create Date: 2027-01-20 10:00:00

`current_tag_values` holds, per subject, the latest published run's value of every dimension as a
JSON object; each publish rewrites the rows of the subjects its change feed names (and those with
an override in force, which the feed does not show). Filled here from the latest published run.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "current_tag_values",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("tag_values", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id"),
        sqlite_with_rowid=False,  # a page's range is one sequential read
    )
    bind = op.get_bind()
    agg = (
        "json_object_agg(dimension, value)::text"
        if bind.dialect.name == "postgresql"
        else "json_group_object(dimension, value)"
    )
    op.execute(
        "INSERT INTO current_tag_values (customer_id, tag_values) "
        f"SELECT customer_id, {agg} FROM tags WHERE run_id = (SELECT run_id FROM classification_runs "
        "WHERE status = 'published' ORDER BY published_at DESC, run_id DESC LIMIT 1) GROUP BY customer_id"
    )


def downgrade() -> None:
    op.drop_table("current_tag_values")
