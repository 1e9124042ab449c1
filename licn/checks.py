"""Build gates: queries/checks/*-violation.rq must return no rows."""
from __future__ import annotations

from pathlib import Path

from . import paths
from .catalogue import parse_query_file, run_oxigraph
from .dataset import BuiltGraph


def dataset_store(data: BuiltGraph):
    """The built graph in an in-memory pyoxigraph store, through the N-Quads text of the dumps."""
    import pyoxigraph as ox

    from .dumps import gc_paused, nquads
    store = ox.Store()
    with gc_paused():
        text = nquads(data).encode("utf-8")
    store.load(text, format=ox.RdfFormat.N_QUADS)
    return store


def run_checks(data: BuiltGraph | None, folder: Path = paths.CHECKS, store=None) -> list[str]:
    """One message per offending row, naming the check; empty when all checks pass."""
    store = store if store is not None else dataset_store(data)
    failures = []
    for path in sorted(folder.glob("*-violation.rq")):
        query = parse_query_file(path)
        result = run_oxigraph(store, query.text)
        for row in result.rows:
            cells = ", ".join(f"{c}={v}" for c, v in zip(result.columns, row))
            failures.append(f"  {query.name}: {query.title}: {cells}")
    return failures
