"""notifications: an approved or revoked override notifies the customer too

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 04:00:00

A letter was written only when a run changed a notified tag, so an override that moved a
customer's wealth tier changed it in silence. Override notifications name their override; a
run's stay unique per (run, customer, channel, template), an override's per (override,
channel, template), so approving and then revoking one in the same run's life writes both.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("override_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_notifications_override", "overrides", ["override_id"], ["override_id"])
        batch.drop_constraint("uq_notifications_run_customer_channel", type_="unique")
    run_only, override_only = sa.text("override_id IS NULL"), sa.text("override_id IS NOT NULL")
    op.create_index(
        "uq_notifications_run",
        "notifications",
        ["run_id", "customer_id", "channel", "template"],
        unique=True,
        sqlite_where=run_only,
        postgresql_where=run_only,
    )
    op.create_index(
        "uq_notifications_override",
        "notifications",
        ["override_id", "channel", "template"],
        unique=True,
        sqlite_where=override_only,
        postgresql_where=override_only,
    )


def downgrade() -> None:
    op.drop_index("uq_notifications_override", table_name="notifications")
    op.drop_index("uq_notifications_run", table_name="notifications")
    op.execute("DELETE FROM notifications WHERE override_id IS NOT NULL")
    with op.batch_alter_table("notifications") as batch:
        batch.create_unique_constraint(
            "uq_notifications_run_customer_channel", ["run_id", "customer_id", "channel", "template"]
        )
        batch.drop_constraint("fk_notifications_override", type_="foreignkey")
        batch.drop_column("override_id")
