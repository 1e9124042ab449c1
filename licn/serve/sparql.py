"""The read-only SPARQL 1.1 protocol of `licn serve`: result formats, what runs in the sandbox
(licn.serve.pool) for each query, and the service description. Every query is parsed and evaluated
by pyoxigraph in a process that cannot open network connections (see no_network): the form of the
result it gives picks the formats, and what it refuses becomes the answer's message."""
from __future__ import annotations

import errno
import itertools
import os
import resource
import signal
import socket
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Namespace, URIRef, Variable
from rdflib.namespace import DCTERMS, RDF, VOID
from rdflib.query import Result as QueryResult

from ..dumps import VOID_GRAPH
from ..graph import to_rdflib
from ..query.catalogue import QueryError
from ..query.engines import Result, load_dataset, run_oxigraph
from ..query.parse import READ_ONLY, Rejected, parses_as_update, syntax_problem

DEFAULT_TIME_LIMIT = 10.0
DEFAULT_RESULT_CAP = 10_000
DEFAULT_QUERY_MEMORY = 512 << 20  # address space a query's process may grow by, beyond the store

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
# The `format` parameter some clients (SPARQLWrapper among them) send instead of, or beside, Accept:
# a name or a media type, of a result format, a graph format or one of each.
_RESULT_NAMES = {**dict(RESULT_OFFERS), **{key: key for key in RESULT_FORMATS}}
_GRAPH_NAMES = {**dict(GRAPH_OFFERS), **{key: key for key in GRAPH_FORMATS}, "json": "jsonld", "xml": "rdf",
                "turtle": "ttl", "n3": "ttl", "json-ld": "jsonld", "ntriples": "nt", "n-triples": "nt",
                "rdf+xml": "rdf", "rdfxml": "rdf"}
FORMAT_PARAM = {name: (_RESULT_NAMES.get(name), _GRAPH_NAMES.get(name)) for name in _RESULT_NAMES | _GRAPH_NAMES}
PREFIXES = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "xsd": "http://www.w3.org/2001/XMLSchema#"}


# -- inside a query worker --------------------------------------------------------------------

_STORE: dict = {}
EMPTY_GRAPH = "urn:x-licn:empty"  # a graph with no statements: the default graph when only named graphs are named


def no_network() -> None:
    """Forbid this process to create internet sockets (seccomp): what it evaluates cannot reach
    the network, whatever the query says. Unix sockets, which the pool talks through, still work."""
    import pyseccomp as seccomp

    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for family in (socket.AF_INET, socket.AF_INET6, socket.AF_PACKET, socket.AF_NETLINK):
        rules.add_rule(seccomp.ERRNO(errno.EACCES), "socket", seccomp.Arg(0, seccomp.EQ, family))
    rules.load()


def start_worker(nq: str, query_memory: int, void: str | None = None) -> None:
    """The sandbox's set-up: the store in memory, its default graph the union of the named graphs
    (licn.query.engines.load_dataset: pyoxigraph's union option would override a query's own FROM),
    no network, a bound on the memory it may take. With void (dist/void.ttl), the VoID description
    as one more named graph (VOID_GRAPH), added after the union: the default graph stays the union of
    the layers that VoID describes and counts, as a store that `licn push` filled holds them."""
    # A query is stopped while pyoxigraph evaluates, outside the interpreter: a Python-level SIGTERM
    # handler would only run once the query ends, so SIGTERM ends the process at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _STORE["store"] = load_dataset(nq)
    if void:
        _STORE["store"].load(path=void, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(str(VOID_GRAPH)))
    no_network()
    if query_memory > 0:
        with open("/proc/self/statm") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (size + query_memory, size + query_memory))


def _dataset(default_graphs, named_graphs) -> dict:
    """The dataset the protocol's parameters name (SPARQL 1.1 Protocol 2.1.4): with either, exactly
    those graphs (an empty default graph where only named graphs are given); with neither, the
    query's own FROM and FROM NAMED, or else the stored default graph, the union of the layers."""
    if not default_graphs and not named_graphs:
        return {}
    return {"default_graph": [ox.NamedNode(g) for g in default_graphs] or [ox.NamedNode(EMPTY_GRAPH)],
            "named_graphs": [ox.NamedNode(g) for g in named_graphs]}


def _refusal(text: str, exc: Exception) -> Rejected:
    """What the engine's error means for the client: a 403 where the query asked for something this
    endpoint does not do (an update; a network call, which the sandbox refused), else a 400."""
    if isinstance(exc, SyntaxError):
        if not text.strip():
            return Rejected(400, "the query is empty")
        if parses_as_update(text):
            return Rejected(403, READ_ONLY)
        return Rejected(400, syntax_problem(text, str(exc)))
    if isinstance(exc, OSError):  # the in-memory store does no I/O of its own: a call out, refused
        return Rejected(403, "this endpoint does not call other services: federated queries (SERVICE) "
                             "and remote datasets are not accepted")
    if isinstance(exc, MemoryError):
        return Rejected(503, "the query needed more memory than one query may use, and was stopped")
    return Rejected(400, f"the query could not be run: {exc}")


def answer(text: str, result_format: str | None, graph_format: str | None, cap: int,
           default_graphs=(), named_graphs=()) -> tuple[str, bytes, bool]:
    """A protocol request in the sandbox: (media type, body, truncated). The formats are keys of
    RESULT_FORMATS and GRAPH_FORMATS, or None where the client accepts none for that query form."""
    try:
        result = _STORE["store"].query(text, **_dataset(default_graphs, named_graphs))
        return _document(result, result_format, graph_format, cap)
    except (SyntaxError, OSError, RuntimeError, ValueError, TypeError, MemoryError) as exc:
        refusal = _refusal(text, exc)
    # Raised here, not in the except clause: the error's traceback (with the engine's result objects)
    # is then freed at once.
    raise refusal


def _document(result, result_format, graph_format, cap: int) -> tuple[str, bytes, bool]:
    if isinstance(result, (ox.QueryBoolean, ox.QuerySolutions)):
        if result_format is None:
            form = "an ASK" if isinstance(result, ox.QueryBoolean) else "a SELECT"
            raise Rejected(406, f"{form} result is available as " + ", ".join(m for m, _ in RESULT_OFFERS))
        if isinstance(result, ox.QueryBoolean):
            fmt, media = RESULT_FORMATS[result_format]
            return media, result.serialize(format=fmt), False
        body, truncated = _results_document(result, cap, result_format)
        return RESULT_FORMATS[result_format][1], body, truncated
    if graph_format is None:
        raise Rejected(406, "a CONSTRUCT or DESCRIBE result is available as "
                       + ", ".join(m for m, _ in GRAPH_OFFERS))
    triples = list(itertools.islice(result, cap + 1))
    fmt, media = GRAPH_FORMATS[graph_format]
    body = ox.serialize(triples[:cap], format=fmt, prefixes=None if fmt == ox.RdfFormat.N_TRIPLES else PREFIXES)
    return media, body or b"", len(triples) > cap


def _results_document(solutions: ox.QuerySolutions, cap: int, result_format: str) -> tuple[bytes, bool]:
    """At most cap solutions as a SPARQL results document, and whether there were more. pyoxigraph writes
    only whole results, so rdflib writes the rows as SPARQL JSON, which pyoxigraph reads back and writes
    in the format asked for: every format comes from one writer, whether the result was cut or not."""
    variables = [v.value for v in solutions.variables]
    rows = list(itertools.islice(solutions, cap + 1))
    if any(isinstance(solution[v], ox.Triple) for solution in rows for v in variables):
        raise Rejected(400, "results holding triple terms (RDF 1.2) are not served by this endpoint")
    document = QueryResult("SELECT")
    document.vars = [Variable(v) for v in variables]
    document.bindings = [{Variable(v): to_rdflib(solution[v]) for v in variables if solution[v] is not None}
                         for solution in rows[:cap]]
    parsed = ox.parse_query_results(document.serialize(format="json"), format=ox.QueryResultsFormat.JSON)
    return parsed.serialize(format=RESULT_FORMATS[result_format][0]), len(rows) > cap


def table(text: str, cap: int) -> Result:
    """A SELECT or ASK query's rows with their terms, at most cap of them, for a stored query's page."""
    try:
        return run_oxigraph(_STORE["store"], text, cap=cap, terms=True, union=False)
    except QueryError as exc:
        refusal = Rejected(400, str(exc))
    except MemoryError as exc:
        refusal = _refusal(text, exc)
    raise refusal


# -- the service description -------------------------------------------------------------------

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FMT = Namespace("http://www.w3.org/ns/formats/")


def named_graph_sizes(layers: dict, void: Path | None) -> dict:
    """The named graphs the endpoint holds and their sizes: the layers, and with void (dist/void.ttl)
    the VoID description's graph, as start_worker loads it."""
    if void is None:
        return dict(layers)
    return {**layers, str(VOID_GRAPH): sum(1 for _ in ox.parse(path=str(void), format=ox.RdfFormat.TURTLE))}


def service_graph(endpoint: str, dataset: str, triples: int, graph_sizes: dict, time_limit: float, cap: int) -> Graph:
    """The SPARQL 1.1 service description of the endpoint at its configured address."""
    g = Graph()
    for prefix, ns in (("sd", SD), ("formats", FMT), ("void", VOID), ("dcterms", DCTERMS)):
        g.bind(prefix, ns)
    service, described, default = URIRef(endpoint), BNode(), BNode()
    # The default graph is the union of the layers; the VoID description, a named graph too, stands
    # outside it (start_worker), and then the default graph is not the union of every named graph.
    void = str(VOID_GRAPH) in graph_sizes
    where = (f" The default graph is the union of the layers; the VoID description of the dataset is the named "
             f"graph <{VOID_GRAPH}>, outside the default graph." if void else "")
    g += [(service, RDF.type, SD.Service), (service, SD.endpoint, service),
          (service, SD.supportedLanguage, SD.SPARQL11Query),
          (service, DCTERMS.description, Literal(
              f"Read-only SPARQL 1.1 endpoint of LICN-KG. SPARQL Update and SERVICE are refused; each query "
              f"gets at most {time_limit:g} s, waiting included, and returns at most {cap} results.{where}", lang="en"))]
    if not void:
        g.add((service, SD.feature, SD.UnionDefaultGraph))
    formats = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV", "Turtle",
               "JSON-LD", "N-Triples", "RDF_XML")
    g += [(service, SD.resultFormat, FMT[name]) for name in formats]
    g += [(service, SD.defaultDataset, described), (described, RDF.type, SD.Dataset),
          (described, DCTERMS.source, URIRef(dataset)),
          (described, SD.defaultGraph, default), (default, RDF.type, SD.Graph),
          (default, VOID.triples, Literal(triples))]
    for graph_iri, size in sorted(graph_sizes.items()):
        named, desc = BNode(), BNode()
        g += [(described, SD.namedGraph, named), (named, RDF.type, SD.NamedGraph), (named, SD.name, URIRef(graph_iri)),
              (named, SD.graph, desc), (desc, RDF.type, SD.Graph), (desc, VOID.triples, Literal(size))]
    return g

