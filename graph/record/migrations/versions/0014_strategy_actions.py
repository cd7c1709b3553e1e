"""next-best actions per run and their recorded outcomes

Revision ID: 0014
Revises: 0013
Create Date: 2027-01-10 10:00:00

Each published run stores every customer's chosen actions (held-out control rows included, so
the effect can be measured against them); relationship managers record what came of them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "next_best_actions",
        sa.Column("nba_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("rm_id", sa.String(length=40), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("action_key", sa.String(length=90), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=True),
        sa.Column("product_risk", sa.String(length=2), nullable=True),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("trigger", sa.String(length=30), nullable=True),
        sa.Column("segment", sa.String(length=40), nullable=True),
        sa.Column("propensity", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("control", sa.Boolean(), nullable=False),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.Column("reason_zh", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["classification_runs.run_id"]),
        sa.PrimaryKeyConstraint("nba_id"),
    )
    op.create_index("ix_next_best_actions_run_customer", "next_best_actions", ["run_id", "customer_id"])
    op.create_index("ix_next_best_actions_rm_run", "next_best_actions", ["rm_id", "run_id"])
    op.create_table(
        "action_outcomes",
        sa.Column("outcome_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("nba_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("action_key", sa.String(length=90), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=14), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["nba_id"], ["next_best_actions.nba_id"]),
        sa.PrimaryKeyConstraint("outcome_id"),
    )
    op.create_index("ix_action_outcomes_nba_id", "action_outcomes", ["nba_id"])
    op.create_index("ix_action_outcomes_customer_id", "action_outcomes", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_action_outcomes_customer_id", table_name="action_outcomes")
    op.drop_index("ix_action_outcomes_nba_id", table_name="action_outcomes")
    op.drop_table("action_outcomes")
    op.drop_index("ix_next_best_actions_rm_run", table_name="next_best_actions")
    op.drop_index("ix_next_best_actions_run_customer", table_name="next_best_actions")
    op.drop_table("next_best_actions")
