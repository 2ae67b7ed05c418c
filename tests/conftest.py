"""Shared fixtures: the real data folder, and a database on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sentiment.settings import Settings
from sentiment.store import dispose_engines, init_db, make_engine

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TWEETSENT_SHARED_DATA", REPO.parent / "shared" / "data"))
PG_URL = os.environ.get("TWEETSENT_TEST_PG_URL")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real public tweets); tests that need it skip where it is absent."""
    if not (SHARED_DATA / "airline" / "tweets.csv").is_file():
        pytest.skip(f"real tweet data not found at {SHARED_DATA} (only present beside the project checkout in development and CI)")
    return SHARED_DATA


def _backends() -> list:
    return [
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="TWEETSENT_TEST_PG_URL is not set")),
    ]


@pytest.fixture(params=_backends())
def db_env(request, tmp_path, monkeypatch) -> dict[str, str]:
    """TWEETSENT_* variables for a fresh, empty database; PostgreSQL gets its own schema, dropped after."""
    env = {"TWEETSENT_HOME": str(tmp_path / "home")}
    schema = None
    if request.param == "postgresql":
        schema = f"t_{uuid.uuid4().hex[:12]}"
        env.update(TWEETSENT_DB_URL=PG_URL, TWEETSENT_DB_SCHEMA=schema)
    else:
        env.update(TWEETSENT_DB_URL=f"sqlite:///{tmp_path / 'home' / 'tweetsent.db'}")
    for key in ("TWEETSENT_DB_URL", "TWEETSENT_DB_SCHEMA", "TWEETSENT_HOME", "TWEETSENT_LABELS", "TWEETSENT_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield env
    dispose_engines()
    if schema:
        admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1) if PG_URL.startswith("postgresql://") else PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(db_env) -> Settings:
    return Settings()


@pytest.fixture
def engine(settings):
    engine = make_engine(settings.db_url, settings.db_schema)
    init_db(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A tiny random BERT with the packaged vocabulary (fast model-path tests)."""
    from tests.tiny_model import make_tiny_checkpoint

    return make_tiny_checkpoint(tmp_path_factory.mktemp("tinybert"))


@pytest.fixture
def silent_server():
    """The port of a loopback server that accepts connections and never answers (a hung server, a firewall)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []  # kept open: the clients wait

    def accept() -> None:
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    server.close()
    for conn in accepted:
        conn.close()
