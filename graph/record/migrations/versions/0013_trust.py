"""api_tokens: person and expires_at; overrides: proposer_person

Revision ID: 0013
Revises: 0012
Create Date: 2027-01-05 10:00:00

Maker–checker compared tokens' free-text names, so one person holding two tokens could approve
their own proposal: a token now names the person who holds it, and an override the person who
proposed it. Existing tokens take their name as their person (as before) and the RM for an RM
token; existing overrides keep no person (they are compared by name, as before). Tokens now
expire: existing ones get the default lifetime, 90 days, from this upgrade.
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("person", sa.String(100), nullable=True))
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(), nullable=True))
    op.add_column("overrides", sa.Column("proposer_person", sa.String(100), nullable=True))
    tokens = sa.table(
        "api_tokens",
        sa.column("name", sa.String),
        sa.column("person", sa.String),
        sa.column("role", sa.String),
        sa.column("rm_id", sa.String),
        sa.column("expires_at", sa.DateTime),
    )
    rm_token = tokens.c.role == "relationship_manager"
    op.execute(
        tokens.update().values(
            person=sa.case((rm_token, tokens.c.rm_id), else_=tokens.c.name),
            expires_at=sa.bindparam(
                "expires", dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=90), type_=sa.DateTime
            ),
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("overrides") as batch:
        batch.drop_column("proposer_person")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("person")
