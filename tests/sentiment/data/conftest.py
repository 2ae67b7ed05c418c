"""Fixtures shared by the data tests: the default synthetic dataset."""

from __future__ import annotations

import pytest

from sentiment.data.sources.synthetic import SyntheticSpec, generate_synthetic


@pytest.fixture(scope="module")
def default_rows() -> list[dict]:
    """The rows of ``SyntheticSpec()`` (3000 tweets, seed 13), generated once per test module."""
    return list(generate_synthetic(SyntheticSpec()))
