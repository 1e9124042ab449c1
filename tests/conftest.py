"""Shared fixtures: one real build of the real data per test session."""
from pathlib import Path

import pytest

from licn.build import build


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "dist"
    build(out)
    return out


@pytest.fixture(scope="module")
def server(dist):
    """`licn serve` of that build on a loopback port, one per test module (a module may define its own)."""
    from licn.serve.app import create_app, serving
    with serving(create_app(dist, workers=1)) as url:
        yield url
