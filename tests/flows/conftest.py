import pytest


@pytest.fixture(scope="session", autouse=True)
def prefect_server():
    """One temporary Prefect API for the whole session (starting one takes ~20 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
