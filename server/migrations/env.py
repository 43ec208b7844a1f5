"""Alembic environment of the desk service.

``server.migrate`` passes an open connection (``config.attributes["connection"]``) already
holding the migration lock; the developer command line (``alembic -c
server/migrations/alembic.ini -x db=URL``) opens its own.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from server.store import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True,  # SQLite: ALTER TABLE through a table copy
                      compare_type=True)


def run_offline() -> None:
    context.configure(url=context.get_x_argument(as_dictionary=True).get("db"),
                      target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("db")
    if not url:
        raise SystemExit("alembic: give the database with -x db=URL")
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
