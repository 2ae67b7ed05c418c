"""A database URL that cannot be used is one line naming the database, its password hidden."""

from __future__ import annotations

import os
import time

import pytest

from sentiment.errors import UserError
from sentiment.store.engine import DatabaseError, make_engine, mask_secrets, safe_url

BAD_URLS = [
    # (url, what the message says)
    ("postgresql+psycopg://u:secret@host:notaport/db", "the port 'notaport' is not a number"),
    ("postgresql+psycopg://u:sec@ret@host/db", None),  # an unencoded @ in the password: parses, but wrongly
    ("u:secret@host/db", "is not a database URL"),  # no scheme
    ("postgresql+psycopg://u:secret@[::1/db", "is not a database URL"),
    ("mysql://u:secret@localhost/db", "unsupported database 'mysql'"),
]


@pytest.mark.parametrize("url, problem", BAD_URLS)
def test_the_password_of_a_url_is_hidden_whether_or_not_it_parses(url, problem):
    assert "secret" not in safe_url(url) and "sec" not in safe_url(url).split("@")[0]
    assert "***" in safe_url(url)
    if problem is None:
        return
    with pytest.raises(DatabaseError) as caught:
        make_engine(url)
    line = str(caught.value)
    assert isinstance(caught.value, UserError) and "\n" not in line
    assert line.startswith("database ") and problem in line and "secret" not in line, line


def test_passwords_are_hidden_in_any_text():
    safe_url("postgresql+psycopg://u:hunter2@db/x")  # a URL seen once: its password is hidden everywhere,
    with pytest.raises(DatabaseError):
        make_engine("mysql://b:pw two@h")  # a password with a space can only be found in a URL seen
    text = "failed: 'postgresql://a:pw-one@h/d' and mysql://b:pw two@h, then hunter2 again, ?password=pw3&x=1"
    masked = mask_secrets(text)
    for secret in ("pw-one", "pw two", "hunter2", "pw3"):
        assert secret not in masked, masked
    assert "postgresql://a:***@h/d" in masked and "password=***&x=1" in masked
    assert safe_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert safe_url("sqlite:////tmp/odd@name.db") == "sqlite:////tmp/odd@name.db"


def test_a_folder_or_an_unwritable_file_is_not_a_sqlite_database(tmp_path, monkeypatch):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(DatabaseError, match="a-folder is a folder, not a SQLite file"):
        make_engine(f"sqlite:///{folder}")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(DatabaseError, match="cannot create the folder .*a-file"):
        make_engine(f"sqlite:///{tmp_path / 'a-file' / 'x.db'}")
    read_only = tmp_path / "read-only.db"
    read_only.write_bytes(b"")
    read_only.chmod(0o444)
    real_access = os.access
    # root may write to anything: pretend to be an ordinary user for this one file
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(read_only) and mode & os.W_OK else real_access(path, mode))
    with pytest.raises(DatabaseError, match="read-only.db is read-only"):
        make_engine(f"sqlite:///{read_only}")


def test_a_server_that_never_answers_fails_after_the_connect_timeout(silent_server):
    from sqlalchemy.exc import OperationalError

    engine = make_engine(f"postgresql+psycopg://u:secret@127.0.0.1:{silent_server}/db", connect_timeout=2)
    start = time.monotonic()
    try:
        with pytest.raises(OperationalError, match="timeout"):
            engine.connect()
    finally:
        engine.dispose()
    assert time.monotonic() - start < 2 + 5


def test_the_connect_timeout_is_a_setting(monkeypatch):
    from pydantic import ValidationError

    from sentiment.settings import Settings

    monkeypatch.setenv("TWEETSENT_DB_CONNECT_TIMEOUT", "4")
    assert Settings().db_connect_timeout == 4
    monkeypatch.setenv("TWEETSENT_DB_CONNECT_TIMEOUT", "0")
    with pytest.raises(ValidationError):
        Settings()
