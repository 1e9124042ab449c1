"""licn serve: the built graph as linked data, with a read-only SPARQL 1.1 endpoint.

Every instance IRI under the canonical base (https://w3id.org/licn/id/...) is served from the
local root (http://127.0.0.1:8000/id/...): it answers 303 See Other to the document the client's
Accept header asks for (HTML, Turtle, JSON-LD, N-Triples, RDF/XML), and each document also has its
own suffix (.html, .ttl, .jsonld, .nt, .rdf). The pages are the same as the static site's."""
from __future__ import annotations

import contextlib
import functools
import logging
import re
import socket
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from loaders.vocab import BASE

from . import paths
from .catalogue import QueryError, bind, load_catalogue
from .documents import FORMATS, TEMPLATES, Documents, best_type, dump_list
from .endpoint import (
    DEFAULT_RESULT_CAP,
    DEFAULT_TIME_LIMIT,
    FORMAT_PARAM,
    QueryPool,
    Refused,
)

log = logging.getLogger("licn.serve")

RESULT_OFFERS = [("application/sparql-results+json", "json"), ("application/json", "json"),
                 ("application/sparql-results+xml", "xml"), ("application/xml", "xml"), ("text/xml", "xml"),
                 ("text/csv", "csv"), ("text/tab-separated-values", "tsv")]
GRAPH_OFFERS = [("text/turtle", "ttl"), ("application/x-turtle", "ttl"), ("application/ld+json", "jsonld"),
                ("application/json", "jsonld"), ("application/n-triples", "nt"), ("application/rdf+xml", "rdf"),
                ("application/xml", "rdf")]
MAX_BODY = 1_000_000
DOCUMENT_CACHE = 4096  # rendered documents kept in memory (a few KB each)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
EXAMPLE_QUERY = """PREFIX licn: <https://w3id.org/licn/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>

# Studies coded for a mechanism at the network level
SELECT ?number ?title ?mechanism WHERE {
  ?coding a licn:Coding ; licn:level ?level ; licn:mechanism/skos:prefLabel ?mechanism ; licn:citesEntry ?entry .
  ?level skos:notation "network" .
  ?entry licn:referenceNumber ?number .
  OPTIONAL { ?study licn:studyEntry ?entry ; dcterms:title ?title }
}
ORDER BY ?number
LIMIT 50
"""


def _text(message: str, status: int, **headers) -> PlainTextResponse:
    return PlainTextResponse(message.rstrip("\n") + "\n", status_code=status, headers=headers or None)


class OpenToAll:
    """Adds Access-Control-Allow-Origin: * so that browser applications elsewhere can read the data."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_header(message):
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("Access-Control-Allow-Origin", "*")
            await send(message)
        await self.app(scope, receive, send_with_header)


def built_nquads(dist: Path) -> Path:
    """dist/licn.nq, which everything served is read from."""
    nq = Path(dist) / "licn.nq"
    if not nq.exists():
        raise FileNotFoundError(f"{nq} does not exist: run 'licn build' first")
    return nq


def create_app(dist: Path = paths.DIST, base_iri: str | None = None, *, time_limit: float = DEFAULT_TIME_LIMIT,
               result_cap: int = DEFAULT_RESULT_CAP, workers: int = 2, queries: Path = paths.QUERIES) -> Starlette:
    """The ASGI application over a built dist/ folder; worker processes start with the app."""
    dist = Path(dist)
    nq = built_nquads(dist)
    base = base_iri or BASE
    base = base if base.endswith("/") else base + "/"
    catalogue = load_catalogue(queries)
    docs = Documents.from_dist(dist, base, catalogue)
    if not any(p.startswith("id/") for p in docs.resource_paths):
        log.warning("no resource in %s has an IRI under %s: the graph was built with another base", nq, base)
    resources = set(docs.resource_paths)
    lists = set(docs.list_paths())
    downloads = dump_list(dist)
    dump_names = {d["name"] for d in downloads}
    figures = dist / "figures"
    evidence_map = (figures / "evidence-map.svg").exists()
    state = {}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        state["pool"] = QueryPool(nq, workers=workers, time_limit=time_limit, cap=result_cap)
        try:
            yield
        finally:
            state.pop("pool").close()

    def html(text: str, status: int = 200, vary: bool = False) -> HTMLResponse:
        return HTMLResponse(text, status_code=status, headers={"Vary": "Accept"} if vary else None)

    async def landing(request: Request) -> Response:
        if best_type(request.headers.get("accept"), [("text/html", "html"), ("text/turtle", "ttl")]) == "ttl":
            return RedirectResponse("/.well-known/void", status_code=303, headers={"Vary": "Accept"})
        return html(docs.landing(downloads, evidence_map, live=True), vary=True)

    async def style(request: Request) -> Response:
        return FileResponse(TEMPLATES / "style.css", media_type="text/css")

    async def void(request: Request) -> Response:
        path = dist / "void.ttl"
        if not path.exists():
            return _text("the VoID description has not been built", 404)
        return FileResponse(path, media_type="text/turtle; charset=utf-8")

    async def dumps_index(request: Request) -> Response:
        return html(docs.dumps_page(downloads, live=True))

    async def dump(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "index.html":
            return await dumps_index(request)
        if name not in dump_names:
            return _text(f"no dump named {name}", 404)
        media = next(d["media"] for d in downloads if d["name"] == name)
        return FileResponse(dist / name, media_type=media, filename=None)

    async def figure(request: Request) -> Response:
        name = request.path_params["name"]
        path = figures / name
        if not NAME_RE.match(name) or not path.is_file():
            return _text(f"no figure named {name}", 404)
        return FileResponse(path)

    async def catalogue_page(request: Request) -> Response:
        return html(docs.catalogue_page(live=True))

    async def query_page(request: Request) -> Response:
        name = request.path_params["name"]
        raw = name.endswith(".rq")
        name = name[:-5] if name.endswith(".html") else name[:-3] if raw else name
        if name not in catalogue:
            return _text(f"no stored query named {name} (see /queries)", 404)
        if raw:
            return PlainTextResponse(catalogue[name].text, media_type="application/sparql-query")
        values = dict(request.query_params)
        table, error, status, text = None, None, 200, None
        try:
            text = bind(catalogue[name], values)
            table = await state["pool"].run_table(text)
        except QueryError as exc:
            error, status = str(exc), 400
        except Refused as exc:
            error, status = exc.message, exc.status
        return html(docs.query_page(name, values, text, table, error, live=True), status)

    async def sparql(request: Request) -> Response:
        params = {k: request.query_params.getlist(k) for k in request.query_params}
        query = None
        if request.method == "POST":
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if int(request.headers.get("content-length") or 0) > MAX_BODY:
                return _text(f"the request is larger than {MAX_BODY} bytes", 413)
            body = await request.body()
            if len(body) > MAX_BODY:
                return _text(f"the request is larger than {MAX_BODY} bytes", 413)
            if media == "application/sparql-update":
                return _text("this endpoint is read-only: SPARQL Update is not accepted", 403)
            try:
                decoded = body.decode("utf-8")
            except UnicodeDecodeError:
                return _text("the request body is not UTF-8", 400)
            if media == "application/x-www-form-urlencoded":
                for key, values in parse_qs(decoded, keep_blank_values=True).items():
                    params.setdefault(key, []).extend(values)
            elif media == "application/sparql-query":
                query = decoded
            else:
                return _text("POST a form (application/x-www-form-urlencoded) or a query (application/sparql-query)", 415)
        if "update" in params or "using-graph-uri" in params or "using-named-graph-uri" in params:
            return _text("this endpoint is read-only: SPARQL Update is not accepted", 403)
        if query is not None and "query" in params:
            return _text("give the query either as the request body or as the query parameter, not both", 400)
        if query is None:
            found = params.get("query", [])
            if len(found) > 1:
                return _text("give exactly one query parameter", 400)
            query = found[0] if found else None
        if query is None:
            return service_description(request)
        result_format, graph_format = _sparql_formats(request.headers.get("accept"))
        for value in params.get("format", []) + params.get("output", []):
            chosen = FORMAT_PARAM.get(value.strip().lower())
            if chosen:
                result_format, graph_format = chosen[0] or result_format, chosen[1] or graph_format
                break
        try:
            media, body, truncated = await state["pool"].answer(
                query, result_format, graph_format,
                params.get("default-graph-uri", []), params.get("named-graph-uri", []))
        except Refused as exc:
            return _text(exc.message, exc.status, Vary="Accept")
        headers = {"Vary": "Accept"}
        if truncated:
            headers["X-SPARQL-MaxRows"] = str(result_cap)
        return Response(body, media_type=media, headers=headers)

    def service_description(request: Request) -> Response:
        key = best_type(request.headers.get("accept"), GRAPH_OFFERS[:1] + [("text/html", "html")] + GRAPH_OFFERS[1:])
        if key == "html":
            return html(docs.render_page("sparql.html", "sparql", live=True, title="SPARQL endpoint", time_limit=f"{time_limit:g}",
                                     cap=result_cap, example=EXAMPLE_QUERY), vary=True)
        if key is None:
            return _text("the service description is available as " + ", ".join(m for m, _ in GRAPH_OFFERS), 406)
        graph = _service_graph(str(request.url.replace(query="")), docs, time_limit, result_cap)
        rdflib_format = {"ttl": "turtle", "jsonld": "json-ld", "nt": "nt", "rdf": "xml"}[key]
        return Response(graph.serialize(format=rdflib_format), media_type=FORMATS[key][0], headers={"Vary": "Accept"})

    @functools.lru_cache(maxsize=DOCUMENT_CACHE)
    def rendered(path: str, suffix: str) -> bytes:
        """A resource's document; the data does not change while serving, so it is rendered once."""
        if suffix == "html":
            return docs.html(path, live=True).encode("utf-8")
        return docs.rdf(path, suffix)

    async def document(request: Request) -> Response:
        path = request.path_params["path"]
        stem, dot, suffix = path.rpartition(".")
        if dot and suffix in FORMATS and path not in resources:  # an IRI may itself end in .ttl
            if stem in resources:
                return Response(rendered(stem, suffix), media_type=FORMATS[suffix][0], headers={"Vary": "Accept"})
            if suffix == "html" and stem in lists:
                return html(docs.html(stem, live=True))
            return _text(f"not found: /{path}", 404)
        if path in resources:
            key = best_type(request.headers.get("accept"))
            if key is None:
                offered = ", ".join(media.split(";")[0] for media, _ in FORMATS.values())
                return _text(f"/{path} is available as {offered}", 406, Vary="Accept")
            return RedirectResponse(f"/{path}.{key}", status_code=303, headers={"Vary": "Accept"})
        if path in lists:
            return RedirectResponse(f"/{path}.html", status_code=303)
        return _text(f"not found: /{path}", 404)

    async def not_found(request: Request, exc: Exception) -> Response:
        return _text(f"not found: {request.url.path}", 404)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _text(exc.detail or "the request cannot be answered", exc.status_code)

    async def internal_error(request: Request, exc: Exception) -> Response:
        log.error("error while answering %s %s", request.method, request.url.path, exc_info=exc)
        return _text("internal error: the server could not answer this request", 500)

    routes = [
        Route("/", landing), Route("/index.html", landing), Route("/style.css", style),
        Route("/sparql", sparql, methods=["GET", "POST"]),
        Route("/.well-known/void", void),
        Route("/dumps", dumps_index), Route("/dumps/", dumps_index), Route("/dumps/{name}", dump),
        Route("/figures/{name}", figure),
        Route("/queries", catalogue_page), Route("/queries.html", catalogue_page), Route("/queries/", catalogue_page),
        Route("/queries/{name}", query_page),
        Route("/{path:path}", document),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(OpenToAll)],
                    exception_handlers={404: not_found, HTTPException: http_error, Exception: internal_error})
    app.state.docs = docs
    app.state.base = base
    return app


@functools.lru_cache(maxsize=256)
def _sparql_formats(accept: str | None) -> tuple[str | None, str | None]:
    """The result and graph formats an Accept header asks for (clients send the same few headers)."""
    return best_type(accept, RESULT_OFFERS), best_type(accept, GRAPH_OFFERS)


def _service_graph(endpoint: str, docs: Documents, time_limit: float, cap: int):
    """The SPARQL 1.1 service description of the endpoint, as an rdflib graph."""
    from rdflib import BNode, Graph, Literal, Namespace, URIRef
    from rdflib.namespace import DCTERMS, RDF, VOID

    SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
    FMT = Namespace("http://www.w3.org/ns/formats/")
    g = Graph()
    g.bind("sd", SD)
    g.bind("formats", FMT)
    g.bind("void", VOID)
    g.bind("dcterms", DCTERMS)
    service = URIRef(endpoint)
    g += [(service, RDF.type, SD.Service), (service, SD.endpoint, service),
          (service, SD.supportedLanguage, SD.SPARQL11Query), (service, SD.feature, SD.UnionDefaultGraph),
          (service, DCTERMS.description, Literal(
              f"Read-only SPARQL 1.1 endpoint of LICN-KG. SPARQL Update and SERVICE are refused; each query runs "
              f"for at most {time_limit:g} s and returns at most {cap} results.", lang="en"))]
    for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                 "Turtle", "JSON-LD", "N-Triples", "RDF_XML"):
        g.add((service, SD.resultFormat, FMT[name]))
    dataset, default = BNode(), BNode()
    g += [(service, SD.defaultDataset, dataset), (dataset, RDF.type, SD.Dataset),
          (dataset, DCTERMS.source, URIRef(docs.base + "id/dataset/licn-kg")),
          (dataset, SD.defaultGraph, default), (default, RDF.type, SD.Graph),
          (default, VOID.triples, Literal(docs.triple_count))]
    for graph_iri, size in sorted(docs.graph_sizes.items()):
        named, desc = BNode(), BNode()
        g += [(dataset, SD.namedGraph, named), (named, RDF.type, SD.NamedGraph), (named, SD.name, URIRef(graph_iri)),
              (named, SD.graph, desc), (desc, RDF.type, SD.Graph), (desc, VOID.triples, Literal(size))]
    return g


@contextlib.contextmanager
def serving(app, host: str = "127.0.0.1"):
    """Run app with uvicorn in a thread on a free port of host; yield its root URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket. Made with an explicit IPPROTO_TCP so that asyncio sets
    TCP_NODELAY on the connections it accepts, also in server processes that inherit it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _run(app, sock: socket.socket, access_log: bool) -> None:
    import uvicorn

    uvicorn.Server(uvicorn.Config(app, log_level="info", access_log=access_log, lifespan="on")).run(sockets=[sock])


def _serve_on(sock: socket.socket, dist: Path, base_iri: str | None, query_workers: int, access_log: bool) -> None:
    """One of several server processes: its own application on the shared listening socket."""
    _run(create_app(dist, base_iri, workers=query_workers), sock, access_log)


def _supervise(sock: socket.socket, args, count: int) -> int:
    """Run count server processes on one socket; start a new one when one dies; stop all on a signal."""
    import multiprocessing
    import signal

    ctx = multiprocessing.get_context("spawn")
    spec = (sock, Path(args.dist), args.base_iri, args.query_workers, args.access_log)
    stopping = threading.Event()

    def start():
        process = ctx.Process(target=_serve_on, args=spec, name="licn-serve")
        process.start()
        return process

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    processes = [start() for _ in range(count)]
    while not stopping.wait(0.5):
        for i, process in enumerate(processes):
            if not process.is_alive():
                log.warning("server process %s ended with code %s; starting another", process.pid, process.exitcode)
                processes[i] = start()
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(30)
    return 0


def cmd_serve(args) -> int:
    dist = Path(args.dist)
    try:
        # the one process's application, or a check of the folder and the base for the several
        app = create_app(dist, args.base_iri, workers=args.query_workers) if args.processes <= 1 else built_nquads(dist)
    except FileNotFoundError as exc:
        print(f"licn serve: {exc}", file=sys.stderr)
        return 2
    base = args.base_iri or BASE
    sock = listening_socket(args.host, args.port)
    print(f"serving {dist}/ at http://{args.host}:{args.port}/ (IRIs under {base.rstrip('/')}/ map onto it); "
          f"SPARQL at http://{args.host}:{args.port}/sparql; {args.processes} server process(es)", file=sys.stderr)
    if args.processes <= 1:
        _run(app, sock, args.access_log)
        return 0
    return _supervise(sock, args, args.processes)
