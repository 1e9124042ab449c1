"""The read-only SPARQL 1.1 protocol of `licn serve`: result formats, what runs in a query worker,
and the service description. A query's parse tree (licn.query.parse) is looked at before it runs:
updates and SERVICE are refused, the query form picks the result formats. The query workers cannot
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


def answer(text: str, result_format: str | None, graph_format: str | None, cap: int,
           default_graphs=(), named_graphs=(), store: ox.Store | None = None,
           subject: str | None = None) -> tuple[str, bytes, bool]:
    """A protocol request: (media type, body, truncated), on the worker's store unless given one (the
    server's own, for point lookups, with the subject IRI of its pattern if known). The formats are keys
    of RESULT_FORMATS and GRAPH_FORMATS, or None where the client accepts none for that query form."""
    form = query_form(text)
    offers, chosen = (RESULT_OFFERS, result_format) if form in ("SELECT", "ASK") else (GRAPH_OFFERS, graph_format)
    if chosen is None:
        raise Rejected(406, f"a {form} result is available as " + ", ".join(m for m, _ in offers))
    dataset = ({"default_graph": [ox.NamedNode(g) for g in default_graphs]} if default_graphs
               else {"use_default_graph_as_union": True})
    if named_graphs:
        dataset["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
    try:
        return _evaluate(store or _STORE["store"], text, dataset, result_format, graph_format, cap,
                         point=store is not None, subject=subject)
    except SyntaxError as exc:
        problem = f"the query does not parse: {exc}"
    except (OSError, ValueError, TypeError) as exc:
        problem = f"the query could not be run: {exc}"
    # Raised here, not in the except clause: the error's traceback (with the engine's result objects,
    # which pyoxigraph must free on the thread that made them) is then freed at once, not by a later
    # garbage collection on whichever thread runs it.
    raise Rejected(400, problem)


def _evaluate(store: ox.Store, text: str, dataset: dict, result_format, graph_format, cap: int, point: bool,
              subject: str | None):
    result = store.query(text, **dataset)
    if isinstance(result, ox.QueryBoolean):
        fmt, media = RESULT_FORMATS[result_format]
        return media, result.serialize(format=fmt), False
    if isinstance(result, ox.QuerySolutions):
        if point:  # written whole by pyoxigraph if it fits the cap: its subject's statements say so, or a count
            fits = subject is not None and _statements_of(store, subject, cap) <= cap
            if not fits:  # a point lookup is cheap to run twice
                fits = sum(1 for _ in itertools.islice(result, cap + 1)) <= cap
                result = store.query(text, **dataset)
            if fits:
                fmt, media = RESULT_FORMATS[result_format]
                return media, result.serialize(format=fmt), False
        body, truncated = _results_document(result, cap, result_format)
        return RESULT_FORMATS[result_format][1], body, truncated
    triples = list(itertools.islice(result, cap + 1))
    fmt, media = GRAPH_FORMATS[graph_format]
    body = ox.serialize(triples[:cap], format=fmt, prefixes=None if fmt == ox.RdfFormat.N_TRIPLES else PREFIXES)
    return media, body or b"", len(triples) > cap


def _statements_of(store: ox.Store, iri: str, most: int) -> int:
    """How many statements of every graph have this subject, counted up to most + 1."""
    try:
        subject = ox.NamedNode(iri)
    except ValueError:
        return most + 1
    return sum(1 for _ in itertools.islice(store.quads_for_pattern(subject, None, None), most + 1))


def _results_document(solutions: ox.QuerySolutions, cap: int, result_format: str) -> tuple[bytes, bool]:
    """At most cap solutions as a SPARQL results document, and whether there were more. pyoxigraph writes
    only whole results, so rdflib writes the rows as SPARQL JSON, which pyoxigraph reads back and writes
    in the format asked for: every format comes from one writer, whether the result was cut or not."""
    variables = [v.value for v in solutions.variables]
    rows = list(itertools.islice(solutions, cap + 1))
    document = QueryResult("SELECT")
    document.vars = [Variable(v) for v in variables]
    document.bindings = [{Variable(v): to_rdflib(solution[v]) for v in variables if solution[v] is not None}
                         for solution in rows[:cap]]
    parsed = ox.parse_query_results(document.serialize(format="json"), format=ox.QueryResultsFormat.JSON)
    return parsed.serialize(format=RESULT_FORMATS[result_format][0]), len(rows) > cap


def table(text: str, cap: int, store: ox.Store | None = None) -> Result:
    """A SELECT or ASK query's rows with their terms, at most cap of them, for a stored query's page."""
    if query_form(text) not in ("SELECT", "ASK"):
        raise Rejected(400, "a stored query page shows SELECT and ASK results only")
    return run_oxigraph(store or _STORE["store"], text, cap=cap, terms=True)


# -- the service description -------------------------------------------------------------------

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FMT = Namespace("http://www.w3.org/ns/formats/")


def service_graph(endpoint: str, dataset: str, triples: int, graph_sizes: dict, time_limit: float, cap: int) -> Graph:
    """The SPARQL 1.1 service description of the endpoint at its configured address."""
    g = Graph()
    for prefix, ns in (("sd", SD), ("formats", FMT), ("void", VOID), ("dcterms", DCTERMS)):
        g.bind(prefix, ns)
    service, described, default = URIRef(endpoint), BNode(), BNode()
    g += [(service, RDF.type, SD.Service), (service, SD.endpoint, service),
          (service, SD.supportedLanguage, SD.SPARQL11Query), (service, SD.feature, SD.UnionDefaultGraph),
          (service, DCTERMS.description, Literal(
              f"Read-only SPARQL 1.1 endpoint of LICN-KG. SPARQL Update and SERVICE are refused; each query "
              f"gets at most {time_limit:g} s, waiting included, and returns at most {cap} results.", lang="en"))]
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

