"""The migrations build exactly the schema the models describe, on every backend."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from clientstrata.graph.record.db import _MIGRATIONS, migrate
from clientstrata.graph.record.models import Base


def test_models_match_the_migrated_schema(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations disagree; add a migration: {diff}"


def test_migrate_is_idempotent(engine):
    migrate(engine)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    assert current == ScriptDirectory(str(_MIGRATIONS)).get_current_head()


def test_processes_starting_together_migrate_one_at_a_time(engine):
    """The API and a job starting on an empty database both migrate; neither trips over the other."""
    from concurrent.futures import ThreadPoolExecutor

    import sqlalchemy as sa

    from clientstrata.graph.record.db import engine_for

    with engine.begin() as conn:  # back to an empty database
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table.name}"'))
            conn.execute(sa.text("DROP VIEW IF EXISTS tags"))
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engines = [engine_for(str(engine.url.render_as_string(hide_password=False))) for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(migrate, engines))
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    for e in engines:
        e.dispose()
