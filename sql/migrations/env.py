"""Alembic environment of tweetsent.

``tweetsent db upgrade`` (sentiment/store/migrations.py) hands over its own connection, already inside a
transaction that holds the write lock, so a migration and the view rebuild around it commit or
roll back together. Run through the plain ``alembic`` command instead, the database comes from the
tweetsent settings (TWEETSENT_DB_URL, TWEETSENT_DB_SCHEMA); prefer ``tweetsent db upgrade``, which
also rebuilds the views.
"""

from __future__ import annotations

from alembic import context

from sentiment.store.schema import metadata

connection = context.config.attributes.get("connection")

if context.is_offline_mode():
    raise SystemExit("tweetsent migrations inspect the database they upgrade; offline (--sql) mode is not supported")

if connection is None:
    from sentiment.settings import Settings
    from sentiment.store.engine import make_engine

    settings = Settings()
    engine = make_engine(settings.db_url, settings.db_schema)
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
else:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
