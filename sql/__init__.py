"""tweetsent's SQL, shipped as package data so an installed wheel finds it: Alembic migrations
(``migrations/``), analyst views (``views/``), named queries (``queries/``) and the schema as
PostgreSQL DDL for reading (``schema.sql``). See ``README.md`` here."""

from pathlib import Path

#: Where the SQL files are, in a checkout and in an installed wheel alike.
SQL_DIR = Path(__file__).resolve().parent
