"""The read-only SPARQL 1.1 protocol of `licn serve`: result formats, what runs in a query worker,
and the service description.

A query is looked at through its parse tree (licn.query.parse) before it runs: updates and SERVICE
are refused, the query form picks the result formats. The worker processes that run queries cannot
open network connections at all (see no_network), so even a query the parser misjudged could not
make the server call out."""
from __future__ import annotations

import errno
import itertools
import os
import resource
import signal
import socket

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Namespace, URIRef, Variable
from rdflib.namespace import DCTERMS, RDF, VOID
from rdflib.query import Result as QueryResult

from ..graph import to_rdflib
from ..query.engines import Result, run_oxigraph
from ..query.parse import Rejected, query_form

DEFAULT_TIME_LIMIT = 10.0
DEFAULT_RESULT_CAP = 10_000
DEFAULT_QUERY_MEMORY = 1 << 30  # address space a worker may grow by while answering, beyond the store

RESULT_FORMATS = {  # SELECT and ASK: key -> (pyoxigraph format, media type sent)
    "json": (ox.QueryResultsFormat.JSON, "application/sparql-results+json"),
    "xml": (ox.QueryResultsFormat.XML, "application/sparql-results+xml"),
    "csv": (ox.QueryResultsFormat.CSV, "text/csv; charset=utf-8"),
    "tsv": (ox.QueryResultsFormat.TSV, "text/tab-separated-values; charset=utf-8"),
}
GRAPH_FORMATS = {  # CONSTRUCT and DESCRIBE
    "ttl": (ox.RdfFormat.TURTLE, "text/turtle; charset=utf-8"),
    "jsonld": (ox.RdfFormat.JSON_LD, "application/ld+json"),
    "nt": (ox.RdfFormat.N_TRIPLES, "application/n-triples"),
    "rdf": (ox.RdfFormat.RDF_XML, "application/rdf+xml"),
}
RESULT_OFFERS = [("application/sparql-results+json", "json"), ("application/json", "json"),
                 ("application/sparql-results+xml", "xml"), ("application/xml", "xml"), ("text/xml", "xml"),
                 ("text/csv", "csv"), ("text/tab-separated-values", "tsv")]
GRAPH_OFFERS = [("text/turtle", "ttl"), ("application/x-turtle", "ttl"), ("application/ld+json", "jsonld"),
                ("application/json", "jsonld"), ("application/n-triples", "nt"), ("application/rdf+xml", "rdf"),
                ("application/xml", "rdf")]
# The `format` parameter some clients (SPARQLWrapper among them) send instead of, or beside, Accept.
FORMAT_PARAM = {
    "json": ("json", "jsonld"), "xml": ("xml", "rdf"), "csv": ("csv", None), "tsv": ("tsv", None),
    "turtle": (None, "ttl"), "ttl": (None, "ttl"), "n3": (None, "ttl"),
    "json-ld": (None, "jsonld"), "jsonld": (None, "jsonld"),
    "nt": (None, "nt"), "ntriples": (None, "nt"), "n-triples": (None, "nt"),
    "rdf+xml": (None, "rdf"), "rdf": (None, "rdf"), "rdfxml": (None, "rdf"),
    **{media: (key, dict(GRAPH_OFFERS).get(media)) for media, key in RESULT_OFFERS},
    **{media: (dict(RESULT_OFFERS).get(media), key) for media, key in GRAPH_OFFERS},
}
PREFIXES = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "xsd": "http://www.w3.org/2001/XMLSchema#"}


# -- inside a query worker --------------------------------------------------------------------

_STORE: dict = {}


def no_network() -> None:
    """Forbid this process to create internet sockets (seccomp): what it evaluates cannot reach
    the network, whatever the query says. Unix sockets, which the pool talks through, still work."""
    import pyseccomp as seccomp

    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for family in (socket.AF_INET, socket.AF_INET6, socket.AF_PACKET, socket.AF_NETLINK):
        rules.add_rule(seccomp.ERRNO(errno.EACCES), "socket", seccomp.Arg(0, seccomp.EQ, family))
    rules.load()


def start_worker(nq: str, query_memory: int) -> None:
    """A worker's set-up: the store in memory, no network, a bound on the memory it may take."""
    # A worker is stopped while pyoxigraph evaluates, outside the interpreter: a Python-level SIGTERM
    # handler (the pool's) would only run once the query ends, so SIGTERM ends the process at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    store = ox.Store()
    store.bulk_load(path=nq, format=ox.RdfFormat.N_QUADS)
    _STORE["store"] = store
    no_network()
    if query_memory > 0:
        with open("/proc/self/statm") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (size + query_memory, size + query_memory))


def _dataset(default_graphs, named_graphs) -> dict:
    options = ({"default_graph": [ox.NamedNode(g) for g in default_graphs]} if default_graphs
               else {"use_default_graph_as_union": True})
    if named_graphs:
        options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
    return options


def answer(text: str, result_format: str | None, graph_format: str | None, cap: int,
           default_graphs=(), named_graphs=()) -> tuple[str, bytes, bool]:
    """A protocol request: (media type, body, truncated). The formats are keys of RESULT_FORMATS
    and GRAPH_FORMATS, or None where the client accepts none for that query form."""
    form = query_form(text)
    if form in ("SELECT", "ASK") and result_format is None:
        raise Rejected(406, f"a {form} result is available as " + ", ".join(m for m, _ in RESULT_OFFERS))
    if form in ("CONSTRUCT", "DESCRIBE") and graph_format is None:
        raise Rejected(406, f"a {form} result is available as " + ", ".join(m for m, _ in GRAPH_OFFERS))
    try:
        result = _STORE["store"].query(text, **_dataset(default_graphs, named_graphs))
        if isinstance(result, ox.QueryBoolean):
            fmt, media = RESULT_FORMATS[result_format]
            return media, result.serialize(format=fmt), False
        if isinstance(result, ox.QuerySolutions):
            variables = [v.value for v in result.variables]
            rows = list(itertools.islice(result, cap + 1))
            media = RESULT_FORMATS[result_format][1]
            return media, _results_document(variables, rows[:cap], result_format), len(rows) > cap
        triples = list(itertools.islice(result, cap + 1))
        fmt, media = GRAPH_FORMATS[graph_format]
        body = ox.serialize(triples[:cap], format=fmt, prefixes=None if fmt == ox.RdfFormat.N_TRIPLES else PREFIXES)
        return media, body or b"", len(triples) > cap
    except SyntaxError as exc:
        raise Rejected(400, f"the query does not parse: {exc}") from None
    except (OSError, ValueError, TypeError) as exc:
        raise Rejected(400, f"the query could not be run: {exc}") from None


def _results_document(variables: list[str], rows, result_format: str) -> bytes:
    """Solutions (at most the cap of them) as a SPARQL results document. pyoxigraph writes only whole
    results, so rdflib writes the rows as SPARQL JSON, which pyoxigraph reads back and writes in the
    format asked for: every format comes from one writer, whether the result was cut or not."""
    document = QueryResult("SELECT")
    document.vars = [Variable(v) for v in variables]
    document.bindings = [{Variable(v): to_rdflib(solution[v]) for v in variables if solution[v] is not None}
                         for solution in rows]
    parsed = ox.parse_query_results(document.serialize(format="json"), format=ox.QueryResultsFormat.JSON)
    return parsed.serialize(format=RESULT_FORMATS[result_format][0])


def table(text: str, cap: int) -> Result:
    """A SELECT or ASK query's rows with their terms, at most cap of them, for a stored query's page."""
    form = query_form(text)
    if form not in ("SELECT", "ASK"):
        raise Rejected(400, "a stored query page shows SELECT and ASK results only")
    return run_oxigraph(_STORE["store"], text, cap=cap, terms=True)


# -- the service description -------------------------------------------------------------------

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FMT = Namespace("http://www.w3.org/ns/formats/")


def service_graph(endpoint: str, dataset: str, triples: int, graph_sizes: dict, time_limit: float, cap: int) -> Graph:
    """The SPARQL 1.1 service description of the endpoint at its configured address."""
    g = Graph()
    for prefix, ns in (("sd", SD), ("formats", FMT), ("void", VOID), ("dcterms", DCTERMS)):
        g.bind(prefix, ns)
    service = URIRef(endpoint)
    g += [(service, RDF.type, SD.Service), (service, SD.endpoint, service),
          (service, SD.supportedLanguage, SD.SPARQL11Query), (service, SD.feature, SD.UnionDefaultGraph),
          (service, DCTERMS.description, Literal(
              f"Read-only SPARQL 1.1 endpoint of LICN-KG. SPARQL Update and SERVICE are refused; each query "
              f"gets at most {time_limit:g} s, waiting included, and returns at most {cap} results.", lang="en"))]
    for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                 "Turtle", "JSON-LD", "N-Triples", "RDF_XML"):
        g.add((service, SD.resultFormat, FMT[name]))
    described, default = BNode(), BNode()
    g += [(service, SD.defaultDataset, described), (described, RDF.type, SD.Dataset),
          (described, DCTERMS.source, URIRef(dataset)),
          (described, SD.defaultGraph, default), (default, RDF.type, SD.Graph),
          (default, VOID.triples, Literal(triples))]
    for graph_iri, size in sorted(graph_sizes.items()):
        named, desc = BNode(), BNode()
        g += [(described, SD.namedGraph, named), (named, RDF.type, SD.NamedGraph), (named, SD.name, URIRef(graph_iri)),
              (named, SD.graph, desc), (desc, RDF.type, SD.Graph), (desc, VOID.triples, Literal(size))]
    return g

