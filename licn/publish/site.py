"""The static site: every resource as HTML and RDF files, for publishing without Python.

dist/site/ holds the same documents `licn serve` answers with (rendered by licn.documents), the
dumps, the stored queries with their results for the default parameters, and an example .htaccess
with the 303 and content-negotiation rules for a w3id.org redirect. Files are written from the
dumps already in dist/, in sorted order and with no timestamps, so the same data gives the same
bytes."""
from __future__ import annotations

import multiprocessing
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from loaders.vocab import BASE

import pyoxigraph as ox

from .. import paths
from ..query.catalogue import QueryError, bind, load_catalogue
from ..query.engines import oxigraph_store, run_oxigraph
from ..query.parse import Rejected, query_form
from ..query.results import format_result
from ..serve.sparql import DEFAULT_RESULT_CAP, DEFAULT_TIME_LIMIT  # the live endpoint's bounds, which the pages state
from .documents import FORMATS, TEMPLATES, Documents, dump_list
from .search import search_documents, search_index


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)


def write_site(out: Path, base: str = BASE, queries: Path = paths.QUERIES) -> Path:
    """Write out/site/ from the dumps and figures in out/."""
    docs = write_site_documents(out, base, queries)
    return finish_site(docs, out)


def write_site_documents(out: Path, base: str = BASE, queries: Path = paths.QUERIES) -> Documents:
    """The first part of the site, which needs only the dumps: every resource's documents and the lists."""
    out = Path(out)
    site = out / "site"
    if site.exists():
        shutil.rmtree(site)
    site.mkdir()
    docs = Documents.from_dist(out, base, load_catalogue(queries))
    resources = docs.resource_paths
    workers = min(os.cpu_count() or 1, len(resources) // RESOURCES_PER_PROCESS)
    if workers <= 1:
        _write_resources(docs, site, resources)
    else:  # forked processes share docs as it is; each writes every n-th resource
        _FORKED["docs"] = docs
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                list(pool.map(_write_share, [(site, resources[i::workers]) for i in range(workers)]))
        finally:
            _FORKED.clear()
    for path in docs.list_paths():
        _write(site / f"{path}.html", docs.html(path))
    return docs


RESOURCES_PER_PROCESS = 2_000  # below this, starting processes costs more than it saves
_FORKED: dict = {}


def _write_share(task) -> None:
    site, resources = task
    _write_resources(_FORKED["docs"], site, resources)


def _write_resources(docs: Documents, site: Path, resources) -> None:
    for path in resources:
        _write(site / f"{path}.html", docs.html(path))
        triples = docs.triples(path)
        for suffix in FORMATS:
            if suffix != "html":
                _write(site / f"{path}.{suffix}", docs.rdf(path, suffix, triples))


def finish_site(docs: Documents, out: Path) -> Path:
    """The rest of the site, once the figures are drawn: downloads, figures, landing page, queries."""
    out = Path(out)
    site = out / "site"
    catalogue = docs.catalogue
    downloads = dump_list(out)
    for item in downloads:
        _write(site / "dumps" / item["name"], (out / item["name"]).read_bytes())
    if (out / "void.ttl").exists():
        _write(site / ".well-known" / "void", (out / "void.ttl").read_bytes())
    figures = out / "figures"
    evidence_map = (figures / "evidence-map.svg").exists()
    if figures.is_dir():
        for path in sorted(figures.rglob("*")):
            if path.is_file():
                _write(site / "figures" / path.relative_to(figures), path.read_bytes())

    _write(site / "index.html", docs.landing(downloads, evidence_map))
    _write(site / "dumps" / "index.html", docs.dumps_page(downloads))
    _write(site / "style.css", (TEMPLATES / "style.css").read_bytes())
    store = oxigraph_store(out)
    _write(site / "favicon.svg", (TEMPLATES / "favicon.svg").read_bytes())
    for name, path in paths.VENDORED.items():
        if (paths.VENDOR / path).is_file():
            _write(site / "vendor" / name, (paths.VENDOR / path).read_bytes())
    _write(site / "sparql.html", docs.sparql_page(DEFAULT_TIME_LIMIT, DEFAULT_RESULT_CAP))
    _write(site / "prefixes.json", docs.prefixes_json())
    _write(site / "search.html", docs.search_page())
    _write(site / "search-index.js", "window.LICN_SEARCH = " + search_index(search_documents(store)) + ";\n")
    _write(site / ".htaccess", docs.env.get_template("htaccess").render(base=docs.base))
    _write(site / ".nojekyll", "")  # GitHub Pages: publish .well-known/ as it is

    _write(site / "queries.html", docs.catalogue_page())
    studies = run_oxigraph(store, bind(catalogue["studies"], {"scope": "all"}))
    _write(site / "studies.html", docs.studies_page(studies))
    _write(site / "studies.csv", format_result(studies, "csv"))
    for name, query in catalogue.items():
        _write(site / "queries" / f"{name}.rq", query.text)
        text, table, error = None, None, None
        try:
            text = bind(query)
            query_form(text)
            table = run_oxigraph(store, text, cap=DEFAULT_RESULT_CAP, terms=True)
        except (QueryError, Rejected) as exc:
            error = str(exc)
        _write(site / "queries" / f"{name}.html", docs.query_page(name, {}, text, table, error))
        if error is None and query.form == "SELECT":
            result = store.query(text, use_default_graph_as_union=True)
            document = result.serialize(format=ox.QueryResultsFormat.JSON)
            parsed = lambda: ox.parse_query_results(document, format=ox.QueryResultsFormat.JSON)  # noqa: E731
            for suffix, fmt in (("json", ox.QueryResultsFormat.JSON), ("csv", ox.QueryResultsFormat.CSV),
                                ("tsv", ox.QueryResultsFormat.TSV), ("srx", ox.QueryResultsFormat.XML)):
                _write(site / "queries" / f"{name}.{suffix}", parsed().serialize(format=fmt))
    return site
