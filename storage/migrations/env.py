"""Alembic environment: newsmon runs migrations programmatically (storage.db.Database.upgrade),
passing its own connection, so there is no alembic.ini."""

from alembic import context

from newsmon.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `newsmon db upgrade`, which passes the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
)
with context.begin_transaction():
    context.run_migrations()
