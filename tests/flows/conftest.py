import pytest


@pytest.fixture(scope="session", autouse=True)
def prefect_server():
    """One temporary Prefect API for the whole session (starting one takes ~20 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def small_model(tiny_checkpoint, monkeypatch, tmp_path):
    """A tiny model, one epoch, 300 synthetic tweets: the model flows in seconds."""
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.setenv("TWEETSENT_MODEL", str(tiny_checkpoint))
    monkeypatch.setenv("TWEETSENT_EPOCHS", "1")
    monkeypatch.setenv("TWEETSENT_SYNTHETIC_COUNT", "300")
    monkeypatch.setenv("TWEETSENT_LEARNING_RATE", "0.001")
