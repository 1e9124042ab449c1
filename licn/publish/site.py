"""The static site: every resource as HTML and RDF files, for publishing without Python.

dist/site/ holds the same documents `licn serve` answers with (rendered by licn.documents), the
dumps, the stored queries with their results for the default parameters, and an example .htaccess
with the 303 and content-negotiation rules for a w3id.org redirect. Files are written from the
dumps already in dist/, in sorted order and with no timestamps, so the same data gives the same
bytes."""
from __future__ import annotations

import multiprocessing
import os
import re
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pyoxigraph as ox

from loaders import vocab
from loaders.vocab import BASE

from .. import paths
from ..processes import end_with_parent
from ..query.catalogue import QueryError, bind, load_catalogue
from ..query.engines import oxigraph_store, run_oxigraph
from ..query.results import format_result

# The live endpoint's bounds, which the pages state.
from ..serve.sparql import DEFAULT_RESULT_CAP, DEFAULT_TIME_LIMIT
from . import whatsnew
from .documents import FORMATS, TEMPLATES, Documents, dump_list
from .incremental import Pages, setting_digest
from .search import search_documents, search_index
from .signposts import document_links, landing_links

RESOURCES_PER_PROCESS = 500  # below this, starting processes costs more than it saves
_FORKED: dict = {}


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def write_site(out: Path, base: str = BASE, queries: Path = paths.QUERIES, previous: Path | None = None) -> Path:
    """Write out/site/ from the dumps and figures in out/; with previous, a built dist/ whose site
    was written by this code, link in those of its documents that are still right."""
    docs = write_site_documents(out, base, queries, previous)
    write_pages(docs, out)
    return write_figure_pages(docs, out)


def write_site_documents(out: Path, base: str = BASE, queries: Path = paths.QUERIES,
                         previous: Path | None = None) -> Documents:
    """The first part of the site, which needs only the dumps: every resource's documents and the lists."""
    out = Path(out)
    site = out / "site"
    if site.exists():
        shutil.rmtree(site)
    site.mkdir()
    docs = Documents.from_dist(out, base, load_catalogue(queries))
    pages = Pages(docs, setting_digest(docs), [out / "licn.nq", out / "void.ttl"], previous)
    records = {path: reads for path, reads in pages.unchanged(set(docs.resource_paths)).items()
               if pages.link(path, site, FORMATS)}
    resources = [path for path in docs.resource_paths if path not in records]
    # every n-th resource from the first is written by this process, the other shares by forked ones
    # (sharing the pages as they are); no more forks than needed: each unshares much of the index
    workers = max(1, min(os.cpu_count() or 1, len(resources) // RESOURCES_PER_PROCESS))
    shares = [resources[i::workers] for i in range(workers)]
    _FORKED["pages"] = pages
    try:
        with ProcessPoolExecutor(max(1, workers - 1), mp_context=multiprocessing.get_context("fork"),
                                 initializer=end_with_parent) as pool:  # starts no process for no share
            forked = pool.map(_write_resources, [None] * (workers - 1), [site] * (workers - 1), shares[1:])
            records |= _write_resources(pages, site, shares[0])
            for written in forked:
                records |= written
    finally:
        _FORKED.clear()
    pages.write(out, records)
    for path in docs.list_paths():
        _write(site / f"{path}.html", docs.html(path))
    return docs


def _write_resources(pages: Pages | None, site: Path, resources) -> dict[str, list[tuple[str, str]]]:
    """Every document of the resources, and the record of what each one read; a forked process,
    given no pages, uses those it was forked with."""
    pages = pages or _FORKED["pages"]
    docs = pages.docs
    reads: set = set()
    docs.record_reads(reads)
    records = {}
    for path in resources:
        reads.clear()
        _write(site / f"{path}.html", docs.html(path))
        for suffix, document in docs.rdf_documents(path).items():
            _write(site / f"{path}.{suffix}", document)
        records[path] = pages.named(reads)
    return records


def _apache_variable(name: str) -> str:
    """A placeholder for a variable of the request, which _apache_header turns into mod_headers' %{NAME}e."""
    return f"\0{name}\0"


def _apache_header(value: str) -> str:
    """A header value as the quoted argument of mod_headers' Header directive: its percent signs and
    quotes escaped, its placeholders the request's variables (set by the .htaccess's rewrite rules)."""
    value = value.replace("%", "%%").replace('"', '\\"')
    return re.sub("\0([A-Z_]+)\0", r"%{\1}e", value)


def htaccess(docs: Documents, downloads: list[dict]) -> str:
    """The .htaccess: linked-data rules for Apache, with the Signposting links `licn serve` sends, for
    the site's address (LICN_SITE) and the resource a document is of (LICN_RESOURCE)."""
    site, resource = _apache_variable("LICN_SITE"), _apache_variable("LICN_RESOURCE")
    return docs.env.get_template("htaccess").render(
        base=docs.base, suffixes="|".join(FORMATS),
        landing_links=_apache_header(landing_links(docs.base, site, downloads)),
        document_links=_apache_header(document_links(docs.base, site, resource)))


def write_figure_pages(docs: Documents, out: Path) -> Path:
    """What shows the figures, once they are drawn: the files copied as they are (the figures, the
    dumps, the style), and the landing page."""
    out = Path(out)
    site = out / "site"
    downloads = dump_list(out)
    figures = out / "figures"
    # Files copied as they are: site path -> source, when the source exists.
    copies = {f"dumps/{item['name']}": out / item["name"] for item in downloads}
    copies |= {".well-known/void": out / "void.ttl", "style.css": TEMPLATES / "style.css",
               "favicon.svg": TEMPLATES / "favicon.svg"}
    copies |= {f"vendor/{name}": paths.VENDOR / path for name, path in paths.VENDORED.items()}
    copies |= {f"figures/{path.relative_to(figures)}": path for path in sorted(figures.rglob("*"))}
    for target, source in copies.items():
        if source.is_file():
            _write(site / target, source.read_bytes())
    _write(site / "index.html", docs.landing(downloads, (figures / "evidence-map.svg").exists()))
    return site


def write_pages(docs: Documents, out: Path, data_dir: Path = paths.DATA) -> None:
    """The pages that need the dumps but not the figures (written while they are drawn): downloads,
    the SPARQL editor, search, What's new since the releases recorded in data_dir, the studies table
    and the stored queries with their results."""
    out = Path(out)
    site = out / "site"
    downloads = dump_list(out)
    store = oxigraph_store(out)
    _write(site / "dumps" / "index.html", docs.dumps_page(downloads))
    _write(site / "sparql.html", docs.sparql_page(DEFAULT_TIME_LIMIT, DEFAULT_RESULT_CAP))
    _write(site / "prefixes.json", docs.prefixes_json())
    _write(site / "search.html", docs.search_page())
    _write(site / "search-index.js", "window.LICN_SEARCH = " + search_index(search_documents(store)) + ";\n")
    _write(site / ".htaccess", htaccess(docs, downloads))
    _write(site / ".nojekyll", "")  # GitHub Pages: publish .well-known/ as it is

    items = whatsnew.entries(out, data_dir, today=docs.text(docs.dataset, str(vocab.DCTERMS.modified)))
    _write(site / "whats-new.html", docs.render_page(
        "whats-new.html", "whats-new", title="What's new", items=items,
        href=lambda iri: docs.href(iri, "")))
    _write(site / "whats-new.atom", whatsnew.atom_feed(items, docs.base, docs.base, "LICN-KG"))

    _write(site / "queries.html", docs.catalogue_page())
    studies = run_oxigraph(store, bind(docs.catalogue["studies"], {"scope": "all"}))
    _write(site / "studies.html", docs.studies_page(studies))
    _write(site / "studies.csv", format_result(studies, "csv"))
    for name, query in docs.catalogue.items():
        _write(site / "queries" / f"{name}.rq", query.text)
        text, table, error = None, None, None
        try:
            text = bind(query)
            table = run_oxigraph(store, text, cap=DEFAULT_RESULT_CAP, terms=True)
        except QueryError as exc:
            error = str(exc)
        _write(site / "queries" / f"{name}.html", docs.query_page(name, {}, text, table, error))
        if error is None and query.form == "SELECT":
            # A result can be read once: it is written in each format from one JSON serialisation.
            document = store.query(text, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)
            for suffix, fmt in (("json", ox.QueryResultsFormat.JSON), ("csv", ox.QueryResultsFormat.CSV),
                                ("tsv", ox.QueryResultsFormat.TSV), ("srx", ox.QueryResultsFormat.XML)):
                result = ox.parse_query_results(document, format=ox.QueryResultsFormat.JSON)
                _write(site / "queries" / f"{name}.{suffix}", result.serialize(format=fmt))
