"""tags as validity spans: a run writes what changed

Revision ID: 0016
Revises: 0015
Create Date: 2027-01-10 10:00:00

Every run wrote every tag of every customer (19.2M rows a re-run at 1M customers, whether
anything changed or not). Tags are now stored once per stretch of publications they stayed
the same in (`tag_spans`: from_seq, to_seq NULL while still true); runs are numbered in
publication order (`classification_runs.publish_seq`), since a run reserved early may publish
late; and `tags` becomes a view giving every published run its tags, so readers keep their
queries. Existing rows are merged: consecutive publications with equal content make one span.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_CONTENT = ("value", "label_zh", "label_en", "score", "rule", "inputs", "standard_version")

VIEW = (
    "CREATE VIEW tags AS SELECT r.run_id AS run_id, s.customer_id AS customer_id, s.dimension AS dimension, "
    "s.value AS value, s.label_zh AS label_zh, s.label_en AS label_en, s.score AS score, s.rule AS rule, "
    "s.inputs AS inputs, s.standard_version AS standard_version "
    "FROM tag_spans s JOIN classification_runs r "
    "ON r.publish_seq >= s.from_seq AND (s.to_seq IS NULL OR r.publish_seq < s.to_seq)"
)


def _same(dialect: str, a: str, b: str) -> str:
    return f"{a} IS NOT DISTINCT FROM {b}" if dialect == "postgresql" else f"{a} IS {b}"


def _spans_from_tags(dialect: str) -> str:
    """One span per island of consecutive publications with equal content (gaps and islands)."""
    text = "CAST(g.inputs AS TEXT)"
    lags = ", ".join(f"LAG({c}) OVER w AS p_{c}" for c in ("seq", *_CONTENT))
    same = " AND ".join(_same(dialect, f"p_{c}", c) for c in _CONTENT)
    inputs = "CAST(MIN(inputs) AS JSON)" if dialect == "postgresql" else "MIN(inputs)"
    return (
        "INSERT INTO tag_spans (customer_id, dimension, from_seq, to_seq, value, label_zh, label_en, score, "
        "rule, inputs, standard_version) "
        "SELECT customer_id, dimension, MIN(seq), "
        "CASE WHEN MAX(seq) = (SELECT MAX(publish_seq) FROM classification_runs) THEN NULL ELSE MAX(seq) + 1 END, "
        f"MIN(value), MIN(label_zh), MIN(label_en), MIN(score), MIN(rule), {inputs}, MIN(standard_version) FROM ("
        "SELECT i.*, SUM(starts) OVER (PARTITION BY customer_id, dimension ORDER BY seq ROWS UNBOUNDED PRECEDING) "
        "AS island FROM ("
        f"SELECT l.*, CASE WHEN p_seq = seq - 1 AND {same} THEN 0 ELSE 1 END AS starts FROM ("
        f"SELECT t.*, {lags} FROM ("
        "SELECT r.publish_seq AS seq, g.customer_id, g.dimension, g.value, g.label_zh, g.label_en, g.score, "
        f"g.rule, {text} AS inputs, g.standard_version FROM tags g "
        "JOIN classification_runs r ON r.run_id = g.run_id WHERE r.publish_seq IS NOT NULL"
        ") t WINDOW w AS (PARTITION BY customer_id, dimension ORDER BY seq)) l) i) x "
        "GROUP BY customer_id, dimension, island"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("classification_runs") as batch:
        batch.add_column(sa.Column("publish_seq", sa.Integer(), nullable=True))
    # publication order, as `latest_run_id` reads it
    op.execute(
        "UPDATE classification_runs SET publish_seq = (SELECT COUNT(*) FROM classification_runs r2 "
        "WHERE r2.status = 'published' AND (r2.published_at < classification_runs.published_at "
        "OR (r2.published_at = classification_runs.published_at AND r2.run_id <= classification_runs.run_id))) "
        "WHERE status = 'published'"
    )
    op.create_index("ix_classification_runs_publish_seq", "classification_runs", ["publish_seq"], unique=True)
    op.create_table(
        "tag_spans",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=False),
        sa.Column("from_seq", sa.Integer(), nullable=False),
        sa.Column("to_seq", sa.Integer(), nullable=True),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("label_zh", sa.String(length=40), nullable=False),
        sa.Column("label_en", sa.String(length=60), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("standard_version", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "dimension", "from_seq"),
    )
    op.create_index("ix_tag_spans_dimension_value", "tag_spans", ["dimension", "value", "from_seq"])
    op.execute(_spans_from_tags(dialect))
    op.drop_table("tags")
    op.execute(VIEW)


def downgrade() -> None:
    op.execute("CREATE TABLE tags_rows AS SELECT * FROM tags")
    op.execute("DROP VIEW tags")
    op.drop_table("tag_spans")
    op.drop_index("ix_classification_runs_publish_seq", table_name="classification_runs")
    with op.batch_alter_table("classification_runs") as batch:
        batch.drop_column("publish_seq")
    op.rename_table("tags_rows", "tags")  # the rows back; the primary key is not rebuilt
    op.create_index("ix_tags_run_dimension_value", "tags", ["run_id", "dimension", "value"])
