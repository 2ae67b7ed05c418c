import pytest


def pytest_collection_modifyitems(config, items):
    """Every flow test runs against a Prefect server (and most train a model): all are slow."""
    for item in items:
        if "tests/flows/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.slow)




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
