from pathlib import Path

import pytest
from sqlalchemy import text

from sentiment.store.engine import make_engine, normalize_url
from sentiment.store.schema import schema_ddl

REPO = Path(__file__).resolve().parents[3]


def test_schema_sql_is_in_step_with_the_code():
    assert (REPO / "sql" / "schema.sql").read_text() == schema_ddl(), "regenerate: python -m sentiment.store.schema > sql/schema.sql"


def test_sqlite_runs_in_wal_with_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 60000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_urls_people_paste_are_understood_and_bad_ones_named():
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(ValueError, match="not a database URL"):
        make_engine("not a url")
    with pytest.raises(ValueError, match="unsupported database 'mysql'"):
        make_engine("mysql://u@h/db")
    with pytest.raises(ValueError, match="plain schema name"):
        make_engine("postgresql://u@127.0.0.1/db", schema="x; drop")
