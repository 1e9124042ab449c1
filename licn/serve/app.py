"""licn serve: the built graph as linked data, with a read-only SPARQL 1.1 endpoint.

Every instance IRI under the canonical base (https://w3id.org/licn/id/...) is served from the local
root (http://127.0.0.1:8000/id/...): 303 See Other to the document Accept asks for (HTML, Turtle,
JSON-LD, N-Triples, RDF/XML), each also at its own suffix (.html, .ttl, .jsonld, .nt, .rdf)."""
from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import re
import socket
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from loaders.vocab import BASE

from .. import paths
from ..lease import hold
from ..publish.documents import FORMATS, TEMPLATES, Documents, best_type, dump_list
from ..publish.search import search_documents, search_index
from ..publish.signposts import document_links, landing_links
from ..query.catalogue import QueryError, bind, load_catalogue
from ..query.engines import oxigraph_store, run_oxigraph
from ..query.parse import READ_ONLY, Rejected
from ..query.results import format_result
from . import sparql
from .pool import ClientGone, Limits, QueryPool

log = logging.getLogger("licn.serve")

MAX_BODY = 1_000_000
QUERIES_AT_ONCE = 32  # SPARQL queries that run at once in one server process, each a process of its own
# A stored query's result as a file: suffix (or format parameter) -> result format of the endpoint.
DOWNLOADS = {"csv": "csv", "tsv": "tsv", "json": "json", "srj": "json", "srx": "xml"}
MAX_HEADERS = 64 * 1024  # bytes of request line and headers
MAX_CONNECTIONS = 1000  # open at once; past that, idle ones are closed to make room
MAX_CLIENT_CONNECTIONS = 64  # open at once from one address
PRESSURE = MAX_CONNECTIONS // 2  # connections open at which idle ones get a short deadline
LOG_LINES_PER_SECOND = 20
DOCUMENT_CACHE = 4096  # rendered documents kept in memory (a few KB each)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class LogRate(logging.Filter):
    """At most LOG_LINES_PER_SECOND lines a second from a logger; the next line let through says how
    many were dropped, so that a flood of bad requests cannot flood the log."""

    def __init__(self):
        super().__init__()
        self.second, self.lines, self.dropped = 0, 0, 0

    def filter(self, record: logging.LogRecord) -> bool:
        second = int(record.created)
        if second != self.second:
            self.second, self.lines = second, 0
        self.lines += 1
        if self.lines > LOG_LINES_PER_SECOND:
            self.dropped += 1
            return False
        if self.dropped:
            record.msg = f"({self.dropped} log lines dropped) {record.msg}"
            self.dropped = 0
        return True


def limit_log_rate() -> None:
    for name in ("uvicorn.error", "licn.serve"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, LogRate) for f in logger.filters):
            logger.addFilter(LogRate())


def _text(message: str, status: int, **headers) -> Response:
    return Response(message.rstrip("\n") + "\n", status_code=status, headers=headers or None, media_type="text/plain")


def built_nquads(dist: Path) -> Path:
    """dist/licn.nq, which everything served is read from."""
    nq = Path(dist) / "licn.nq"
    if not nq.exists():
        raise FileNotFoundError(f"{nq} does not exist: run 'licn build' first")
    return nq


def client_of(request: Request) -> str:
    """Who a request comes from, for fair turns between clients: its address (forwarded headers are
    not read, so a client cannot name itself)."""
    return request.client.host if request.client else ""


async def bounded_body(request: Request) -> bytes | None:
    """The request body, or None if it is larger than MAX_BODY; read piece by piece, as a chunked
    upload gives no length beforehand."""
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        return None
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def create_app(dist: Path = paths.DIST, base_iri: str | None = None, *,
               time_limit: float = sparql.DEFAULT_TIME_LIMIT, result_cap: int = sparql.DEFAULT_RESULT_CAP,
               workers: int = QUERIES_AT_ONCE, queries: Path = paths.QUERIES, max_pending: int | None = None,
               query_memory: int = sparql.DEFAULT_QUERY_MEMORY) -> Starlette:
    """The ASGI application over a built dist/ folder; the query sandbox starts with the app. A build
    swaps dist/ for a new version folder: the server keeps reading the version it started with, on
    which it holds a lease that the build's tidy-up respects, so it never serves a mix of two builds
    nor a removed one (restart it to serve a new one)."""
    built_nquads(dist)
    dist, lease = hold(dist)
    nq = built_nquads(dist)
    catalogue = load_catalogue(queries)
    docs = Documents.from_dist(dist, base_iri or BASE, catalogue)
    base = docs.base  # with its closing slash
    if not any(p.startswith("id/") for p in docs.resource_paths):
        log.warning("no resource in %s has an IRI under %s: the graph was built with another base", nq, base)
    resources = set(docs.resource_paths)
    lists = set(docs.list_paths())
    downloads = dump_list(dist)
    dump_media = {d["name"]: d["media"] for d in downloads}
    figures = dist / "figures"
    evidence_map = (figures / "evidence-map.svg").exists()
    void_file = dist / "void.ttl" if (dist / "void.ttl").is_file() else None  # also a graph of the endpoint
    named_graphs = sparql.named_graph_sizes(docs.graph_sizes, void_file)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        """The query sandbox, which every request finds as request.state.pool; the lease on the
        version served ends with the server."""
        limit_log_rate()
        try:
            with contextlib.closing(QueryPool(nq, time_limit, result_cap, Limits.of(workers, max_pending),
                                              query_memory, void_file)) as pool:
                yield {"pool": pool}
        finally:
            os.close(lease)

    def html(text: str, status: int = 200, vary: bool = False) -> Response:
        return Response(text, status_code=status, headers={"Vary": "Accept"} if vary else None, media_type="text/html")

    def capped(truncated: bool) -> dict:
        """The header that tells a client its result was cut at the cap."""
        return {"X-SPARQL-MaxRows": str(result_cap)} if truncated else {}

    store = oxigraph_store(dist)
    studies_table = run_oxigraph(store, bind(catalogue["studies"], {"scope": "all"}))
    search_script = "window.LICN_SEARCH = " + search_index(search_documents(store)) + ";\n"
    search_page = docs.search_page(live=True)
    studies_page = docs.studies_page(studies_table, live=True)
    studies_csv = format_result(studies_table, "csv")
    prefixes = docs.prefixes_json()
    # Paths whose answer does not depend on the request: path -> a function making the response.
    def site_file(name: str, media: str) -> Response:
        """A page the build writes only into the static site (a build without the site has none)."""
        path = dist / "site" / name
        return FileResponse(path, media_type=media) if path.is_file() else _text(f"not built: /{name}", 404)

    fixed = {
        "/style.css": lambda: FileResponse(TEMPLATES / "style.css", media_type="text/css"),
        **dict.fromkeys(["/favicon.ico", "/favicon.svg"],
                        lambda: FileResponse(TEMPLATES / "favicon.svg", media_type="image/svg+xml")),
        "/prefixes.json": lambda: Response(prefixes, media_type="application/json"),
        "/sparql.html": lambda: html(docs.sparql_page(time_limit, result_cap, live=True)),
        **dict.fromkeys(["/search", "/search.html"], lambda: html(search_page)),
        "/search-index.js": lambda: Response(search_script, media_type="text/javascript"),
        **dict.fromkeys(["/studies", "/studies.html"], lambda: html(studies_page)),
        "/studies.csv": lambda: Response(studies_csv, media_type="text/csv; charset=utf-8"),
        **dict.fromkeys(["/dumps", "/dumps/"], lambda: html(docs.dumps_page(downloads, live=True))),
        **dict.fromkeys(["/queries", "/queries.html", "/queries/"], lambda: html(docs.catalogue_page(live=True))),
        **dict.fromkeys(["/whats-new", "/whats-new.html"], lambda: site_file("whats-new.html", "text/html; charset=utf-8")),
        "/whats-new.atom": lambda: site_file("whats-new.atom", "application/atom+xml"),
    }

    def answering(respond):
        async def endpoint(request: Request) -> Response:
            return respond()
        return endpoint

    async def landing(request: Request) -> Response:
        if best_type(request.headers.get("accept"), [("text/html", "html"), ("text/turtle", "ttl")]) == "ttl":
            return RedirectResponse("/.well-known/void", status_code=303, headers={"Vary": "Accept"})
        response = html(docs.landing(downloads, evidence_map, live=True), vary=True)
        response.headers["Link"] = landing_links(docs.base, "/", downloads)
        return response

    async def vendored(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in paths.VENDORED or not (paths.VENDOR / paths.VENDORED[name]).is_file():
            return not_found(request, f"not found: /vendor/{name}")
        media = "text/css" if name.endswith(".css") else "text/javascript"
        return FileResponse(paths.VENDOR / paths.VENDORED[name], media_type=media)

    async def void(request: Request) -> Response:
        if not (dist / "void.ttl").exists():
            return not_found(request, "the VoID description has not been built")
        return FileResponse(dist / "void.ttl", media_type="text/turtle; charset=utf-8")

    async def dump(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "index.html":
            return fixed["/dumps"]()
        if name not in dump_media:
            return not_found(request, f"no dump named {name}")
        return FileResponse(dist / name, media_type=dump_media[name])

    async def figure(request: Request) -> Response:
        name = request.path_params["name"]
        if not NAME_RE.match(name) or not (figures / name).is_file():
            return not_found(request, f"no figure named {name}")
        return FileResponse(figures / name)

    async def query_page(request: Request) -> Response:
        """A stored query: its page, its text (.rq) or its result as a file. QueryError and Rejected
        become a page with the message, or for a file a plain-text answer (see the exception handlers)."""
        name = request.path_params["name"]
        stem, dot, suffix = name.rpartition(".")
        values = dict(request.query_params)
        download = values.pop("format", None)
        if dot and suffix in ("html", "rq", *DOWNLOADS):
            name, download = stem, (download or (suffix if suffix in DOWNLOADS else None))
        if name not in catalogue:
            return not_found(request, f"no stored query named {name} (see /queries)")
        if suffix == "rq" and dot:
            return Response(catalogue[name].text, media_type="application/sparql-query")
        if download is not None:
            if download not in DOWNLOADS:
                return _text(f"a stored query's result is available as {', '.join(DOWNLOADS)}", 400)
            media, body, truncated = await request.state.pool.answer(
                bind(catalogue[name], values), DOWNLOADS[download], None, disconnected=request.is_disconnected,
                client=client_of(request))
            return Response(body, media_type=media, headers={
                "Content-Disposition": f'inline; filename="{name}.{download}"', **capped(truncated)})
        table, error, status, text = None, None, 200, None
        try:
            text = bind(catalogue[name], values)
            table = await request.state.pool.table(text, request.is_disconnected, client_of(request))
        except (QueryError, Rejected) as exc:
            error, status = str(exc), exc.status
        return html(docs.query_page(name, values, text, table, error, live=True), status)

    async def sparql_endpoint(request: Request) -> Response:
        params = {k: request.query_params.getlist(k) for k in request.query_params}
        query = None
        if request.method == "POST":
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            body = await bounded_body(request)
            if body is None:
                return _text(f"the request is larger than {MAX_BODY} bytes", 413)
            if media == "application/sparql-update":
                return _text(READ_ONLY, 403)
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
                return _text("POST a form (application/x-www-form-urlencoded) or a query "
                             "(application/sparql-query)", 415)
        if "update" in params or "using-graph-uri" in params or "using-named-graph-uri" in params:
            return _text(READ_ONLY, 403)
        found = params.get("query", [])
        if query is None:
            if len(found) > 1:
                return _text("give exactly one query parameter", 400)
            if not found:
                return service_description(request)
            query = found[0]
        elif found:
            return _text("give the query either as the request body or as the query parameter, not both", 400)
        result_format, graph_format = _sparql_formats(request.headers.get("accept"))
        asked = [value.strip().lower() for value in params.get("format", []) + params.get("output", [])]
        chosen = next((sparql.FORMAT_PARAM[value] for value in asked if value in sparql.FORMAT_PARAM), (None, None))
        result_format, graph_format = chosen[0] or result_format, chosen[1] or graph_format
        try:
            media, body, truncated = await request.state.pool.answer(
                query, result_format, graph_format,
                params.get("default-graph-uri", []), params.get("named-graph-uri", []), request.is_disconnected,
                client_of(request))
        except Rejected as exc:
            retry = {"Retry-After": "5"} if exc.status == 503 else {}
            return _text(exc.message, exc.status, Vary="Accept", **retry)
        return Response(body, media_type=media, headers={"Vary": "Accept", **capped(truncated)})

    def service_description(request: Request) -> Response:
        offers = sparql.GRAPH_OFFERS
        key = best_type(request.headers.get("accept"), offers[:1] + [("text/html", "html")] + offers[1:])
        if key == "html":
            return html(docs.sparql_page(time_limit, result_cap, live=True), vary=True)
        if key is None:
            return _text("the service description is available as " + ", ".join(m for m, _ in offers), 406)
        graph = sparql.service_graph(base + "sparql", docs.base + "id/dataset/licn-kg", docs.triple_count,
                                     named_graphs, time_limit, result_cap)
        media = FORMATS[key][0]  # rdflib knows its serialisers by media type too
        return Response(graph.serialize(format=media.split(";")[0]), media_type=media, headers={"Vary": "Accept"})

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
                return Response(rendered(stem, suffix), media_type=FORMATS[suffix][0], headers={
                    "Vary": "Accept", "Link": document_links(docs.base, "/", stem)})
            if suffix == "html" and stem in lists:
                return html(docs.html(stem, live=True))
        elif path in resources:
            key = best_type(request.headers.get("accept"))
            if key is None:
                offered = ", ".join(media.split(";")[0] for media, _ in FORMATS.values())
                return _text(f"/{path} is available as {offered}", 406, Vary="Accept")
            return RedirectResponse(f"/{path}.{key}", status_code=303, headers={"Vary": "Accept"})
        elif path in lists:
            return RedirectResponse(f"/{path}.html", status_code=303)
        return not_found(request, f"not found: /{path}")

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return not_found(request, f"not found: {request.url.path}")
        return _text(exc.detail or "the request cannot be answered", exc.status_code)

    def not_found(request: Request, message: str) -> Response:
        """A 404 in the site's frame for a browser, in plain text for everyone else."""
        if best_type(request.headers.get("accept"), [("text/plain", "text"), ("text/html", "html")]) == "html":
            return html(docs.error_page(404, message, live=True), 404)
        return _text(message, 404)

    async def refused(request: Request, exc: Exception) -> Response:
        """A bad stored-query parameter (QueryError), a query refused (Rejected) or a client gone."""
        if isinstance(exc, ClientGone):
            return Response(status_code=499)
        return _text(str(exc), exc.status)

    async def internal_error(request: Request, exc: Exception) -> Response:
        log.error("error while answering %s %s", request.method, request.url.path, exc_info=exc)
        return _text("internal error: the server could not answer this request", 500)

    routes = [Route(path, answering(respond)) for path, respond in fixed.items()] + [
        Route("/", landing), Route("/index.html", landing),
        Route("/sparql", sparql_endpoint, methods=["GET", "POST"]), Route("/vendor/{name:path}", vendored),
        Route("/.well-known/void", void), Route("/dumps/{name}", dump), Route("/figures/{name}", figure),
        Route("/queries/{name}", query_page), Route("/{path:path}", document),
    ]
    gzip = Middleware(GZipMiddleware, minimum_size=1024)  # text: pages, YASGUI, dumps, results
    cors = Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "HEAD", "OPTIONS"],
                      allow_headers=["Accept", "Content-Type"], max_age=86400)
    handlers = {HTTPException: http_error, QueryError: refused, Rejected: refused, ClientGone: refused,
                Exception: internal_error}
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[cors, gzip], exception_handlers=handlers)
    app.state.base = base
    return app


@functools.lru_cache(maxsize=256)
def _sparql_formats(accept: str | None) -> tuple[str | None, str | None]:
    """The result and graph formats an Accept header asks for (clients send the same few headers)."""
    return best_type(accept, sparql.RESULT_OFFERS), best_type(accept, sparql.GRAPH_OFFERS)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the two bounds on a request head it lacks. A head (request line
    and headers) larger than MAX_HEADERS is refused; uvicorn bounds heads only with h11, which parses
    in Python at about two thirds of the rate. A connection that sends no complete head within
    head_timeout seconds of opening or of its last response is closed; uvicorn times out only
    connections idle after a response, so half a request would hold one for ever."""

    head_timeout = 10.0
    pressed_head_timeout = 1.0  # under pressure (PRESSURE connections open)
    _head_timer = None
    _since = 0.0  # when the connection opened or last finished a response
    _in_head = False
    _head_bytes = 0  # of the chunks read wholly inside the current head: what the parser holds of it

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        host = self.client[0] if self.client else None
        if sum(1 for c in self.connections if c.client and c.client[0] == host) > MAX_CLIENT_CONNECTIONS:
            self._refuse("this address has too many connections open")
            return
        if len(self.connections) > MAX_CONNECTIONS:
            idle = [c for c in self.connections if c is not self and c._idle()]
            if not idle:
                self._refuse("the server has too many connections open")
                return
            min(idle, key=lambda c: c._since).transport.close()  # the longest idle
        self._since = time.monotonic()
        self._head_deadline(self._head_timeout())

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._since = time.monotonic()
        self._head_deadline(self._head_timeout())

    def _refuse(self, why: str) -> None:
        body = f"{why}; try again in a few seconds\n".encode()
        self.transport.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 5\r\n"
                             b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        self.transport.close()

    def _idle(self) -> bool:
        """No request of this connection is being read or answered."""
        return not self._in_head and (self.cycle is None or self.cycle.response_complete)

    def _head_timeout(self) -> float:
        return self.pressed_head_timeout if len(self.connections) >= PRESSURE else self.head_timeout

    def connection_lost(self, exc) -> None:
        self._head_deadline(None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        inside = self._in_head
        super().data_received(data)
        if inside and self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEADERS:
                self.send_400_response("the request head is too large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        if len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers) > MAX_HEADERS:
            raise ValueError("the request head is too large")  # the parser's error: uvicorn answers 400
        super().on_headers_complete()

    def _head_deadline(self, seconds: float | None) -> None:
        """Cancel the deadline that runs, if any; with seconds, start a new one."""
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = None if seconds is None else self.loop.call_later(seconds, self._head_late)

    def _head_late(self) -> None:
        self._head_timer = None
        if self.cycle is None or self.cycle.response_complete:  # no request head has arrived since
            self.transport.close()


def server_config(app, **options) -> uvicorn.Config:
    """uvicorn's configuration for the project's server: bounded request heads, idle and slow
    connections closed, connections bounded per client and in all (BoundedHttpToolsProtocol). Forwarded headers are not
    read: no address the server gives comes from the request. asyncio's loop, not uvloop: uvloop
    raises on a write to a connection that is gone, which uvicorn's httptools protocol makes when a
    client that sent pipelined requests hangs up (a traceback per request)."""
    return uvicorn.Config(app, **{"http": BoundedHttpToolsProtocol, "proxy_headers": False, "loop": "asyncio",
                                  "timeout_keep_alive": 5, "limit_concurrency": 2 * MAX_CONNECTIONS, "lifespan": "on",
                                  "log_level": "warning", "access_log": False, "timeout_graceful_shutdown": 5,
                                  **options})


@contextlib.contextmanager
def serving(app, host: str = "127.0.0.1"):
    """Run app with uvicorn in a thread on a free port of host; yield its root URL."""
    sock = listening_socket(host, 0)
    server = uvicorn.Server(server_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket, made with an explicit IPPROTO_TCP so that asyncio sets TCP_NODELAY on the
    connections it accepts, also in server processes that inherit it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def app_from_environment() -> Starlette:
    """The application of one of several server processes, configured by the environment `licn serve` sets."""
    return create_app(Path(os.environ["LICN_SERVE_DIST"]), os.environ.get("LICN_SERVE_BASE") or None,
                      workers=int(os.environ.get("LICN_SERVE_QUERY_WORKERS", str(QUERIES_AT_ONCE))))


def cmd_serve(args) -> int:
    dist = Path(args.dist)
    try:
        built_nquads(dist)
        version, _ = hold(dist)  # held by the supervisor too, for the server processes it starts again
        sock = listening_socket(args.host, args.port)
    except FileNotFoundError as exc:
        print(f"licn serve: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        hint = " (another server is using that port; choose another with --port)"
        print(f"licn serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
              + (hint if exc.errno == errno.EADDRINUSE else ""), file=sys.stderr)
        return 2
    base = args.base_iri or BASE
    print(f"serving {dist}/ at http://{args.host}:{args.port}/ (IRIs under {base.rstrip('/')}/ map onto it); "
          f"SPARQL at http://{args.host}:{args.port}/sparql; {args.processes} server process(es)", file=sys.stderr)
    # the socket is handed over as a socket, not by its descriptor: uvicorn would take a descriptor for
    # a Unix socket, and asyncio would then not set TCP_NODELAY (every answer delayed by ~40 ms)
    options = {"log_level": "info", "access_log": args.access_log}
    if args.processes <= 1:
        app = create_app(version, args.base_iri, workers=args.query_workers)
        uvicorn.Server(server_config(app, **options)).run(sockets=[sock])
        return 0
    os.environ.update(LICN_SERVE_DIST=str(version), LICN_SERVE_BASE=args.base_iri or "",
                      LICN_SERVE_QUERY_WORKERS=str(args.query_workers))
    config = server_config("licn.serve.app:app_from_environment", factory=True, workers=args.processes, **options)
    Multiprocess(config, sockets=[sock]).run()
    return 0
