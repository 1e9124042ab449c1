"""Build gates: queries/checks/*-violation.rq must return no rows."""
from __future__ import annotations

from pathlib import Path

from .. import paths
from .catalogue import parse_query_file
from .engines import run_oxigraph


def run_checks(store, folder: Path = paths.CHECKS) -> list[str]:
    """One message per offending row of a check over a pyoxigraph store; empty when all pass."""
    failures = []
    for path in sorted(folder.glob("*-violation.rq")):
        query = parse_query_file(path)
        result = run_oxigraph(store, query.text)
        for row in result.rows:
            cells = ", ".join(f"{c}={v}" for c, v in zip(result.columns, row))
            failures.append(f"  {query.name}: {query.title}: {cells}")
    return failures
