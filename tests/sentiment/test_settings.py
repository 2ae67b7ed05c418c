from pathlib import Path

import pytest
from pydantic import ValidationError

from sentiment.settings import PACKAGED_MODEL, Settings


def test_defaults_derive_from_home(monkeypatch):
    for key in ("TWEETSENT_HOME", "TWEETSENT_DB_URL", "TWEETSENT_LABELS", "TWEETSENT_INBOX", "TWEETSENT_CONFIG", "TWEETSENT_MODEL"):
        monkeypatch.delenv(key, raising=False)
    settings = Settings()
    assert settings.home == Path("var")
    assert settings.db_url == "sqlite:///var/tweetsent.db"
    assert settings.inbox == Path("var/inbox")
    assert settings.labels == ("negative", "neutral", "positive")
    assert settings.model == PACKAGED_MODEL


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("TWEETSENT_HOME", str(tmp_path))
    monkeypatch.setenv("TWEETSENT_LABELS", "Negative, positive")
    settings = Settings()
    assert settings.labels == ("negative", "positive")
    assert settings.db_url == f"sqlite:///{tmp_path.as_posix()}/tweetsent.db"
    assert not (tmp_path / "inbox").exists()  # no side effects until asked
    settings.ensure_home()
    assert (tmp_path / "inbox").is_dir()


@pytest.mark.parametrize("labels, message", [("positive", "at least two"), ("a,,b", "empty class"), ("a,b,a", "repeats")])
def test_bad_labels_are_rejected_with_the_value(monkeypatch, labels, message):
    monkeypatch.setenv("TWEETSENT_LABELS", labels)
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_config_file_below_environment(monkeypatch, tmp_path):
    config = tmp_path / "tweetsent.toml"
    config.write_text('[tweetsent]\nlabels = "negative,positive"\nsynthetic_count = 50\n')
    monkeypatch.setenv("TWEETSENT_CONFIG", str(config))
    monkeypatch.setenv("TWEETSENT_SYNTHETIC_COUNT", "70")
    settings = Settings()
    assert settings.labels == ("negative", "positive")
    assert settings.synthetic_count == 70
    monkeypatch.setenv("TWEETSENT_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ValueError, match="no such file"):
        Settings()
