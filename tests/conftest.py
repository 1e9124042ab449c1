"""Shared fixtures: one real build of the real data per test session."""
from pathlib import Path

import pytest

from licn.build import build

# Modules whose module-scoped fixtures start a JVM, a browser or servers: under pytest-xdist
# (--dist loadgroup) each runs whole on one worker, so that its set-up runs once, not on every worker.
SET_UP_ONCE = {"test_jena", "test_browser", "test_accessibility", "test_editor", "test_studies_table", "test_pages",
               "test_serve", "test_site", "test_figures", "test_sparql_safety"}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.module.__name__ in SET_UP_ONCE:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


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
