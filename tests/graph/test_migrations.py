"""The migrations build exactly the schema the models describe, on every backend."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from clientstrata.graph.db import _MIGRATIONS, migrate
from clientstrata.graph.models import Base


def test_models_match_the_migrated_schema(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations disagree; add a migration: {diff}"


def test_migrate_is_idempotent(engine):
    migrate(engine)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    assert current == ScriptDirectory(str(_MIGRATIONS)).get_current_head()
