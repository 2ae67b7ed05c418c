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
    # 300 tweets give about 9 test tweets of the smaller classes.
    monkeypatch.setenv("TWEETSENT_MIN_TEST_PER_CLASS", "5")
    # A tiny random BERT after one epoch predicts the majority class: the quality gates rightly
    # refuse it (tests/flows/test_quality_gates.py). These tests are about the plumbing.
    monkeypatch.setenv("TWEETSENT_QUALITY_GATES", "false")


@pytest.fixture
def cli(prefect_server):
    """Run ``tweetsent ARGS`` as a real process with this test's environment (its TWEETSENT_*
    settings), its flows reporting to the session's Prefect server."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from prefect.settings import PREFECT_API_URL

    repo = Path(__file__).resolve().parents[2]

    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        full = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **env}
        return subprocess.run([sys.executable, "-m", "flows.cli", *args], env=full, cwd=repo, capture_output=True, text=True, timeout=600)

    return run
