"""Shared fixtures: one real build of the real data per test session."""
from pathlib import Path

import pytest

from licn.build import build


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "dist"
    build(out)
    return out
