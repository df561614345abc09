"""Alembic environment: runs on the connection the Catalogue hands over, or on -x db=URL."""

from alembic import context
from sqlalchemy import create_engine

from archive.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("db") or config.get_main_option("sqlalchemy.url")
    with create_engine(url).connect() as connection:
        _run(connection)
        connection.commit()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    # render_as_batch: SQLite can only ALTER tables by copying them, which batch mode does.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
