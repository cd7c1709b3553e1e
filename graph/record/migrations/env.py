"""Alembic environment: runs on the connection `clientstrata.graph.record.db.migrate` hands over,
or on CLIENTSTRATA_DATABASE_URL when invoked from the alembic command line."""

from alembic import context

from clientstrata.graph.config import settings
from clientstrata.graph.record.db import engine_for
from clientstrata.graph.record.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with engine_for(settings().database_url).begin() as conn:
        _run(conn)
