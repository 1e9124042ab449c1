"""The read-only SPARQL engine behind `licn serve` and the stored-query pages.

Queries run in worker processes that hold their own pyoxigraph store, so that a query over its time
limit can be stopped (the worker is killed and replaced); a request a worker has once answered
within a couple of milliseconds is afterwards answered in the server process (see QueryPool).
Results are cut at a cap. SPARQL Update and SERVICE are refused before anything runs."""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import pickle
import re
import socket
import struct
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

DEFAULT_TIME_LIMIT = 10.0
DEFAULT_RESULT_CAP = 10_000
QUICK_LIMIT = 0.002  # a request a worker answered this fast is afterwards answered in the server (see QueryPool)
QUICK_REMEMBERED = 10_000

# Media types: what a client may ask for and what is sent back.
RESULT_TYPES = {  # SELECT and ASK
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
}
RESULT_FORMATS = {
    "json": (ox.QueryResultsFormat.JSON, "application/sparql-results+json"),
    "xml": (ox.QueryResultsFormat.XML, "application/sparql-results+xml"),
    "csv": (ox.QueryResultsFormat.CSV, "text/csv; charset=utf-8"),
    "tsv": (ox.QueryResultsFormat.TSV, "text/tab-separated-values; charset=utf-8"),
}
GRAPH_TYPES = {  # CONSTRUCT and DESCRIBE
    "text/turtle": "ttl", "application/x-turtle": "ttl",
    "application/ld+json": "jsonld", "application/json": "jsonld",
    "application/n-triples": "nt", "application/rdf+xml": "rdf", "application/xml": "rdf",
}
GRAPH_FORMATS = {
    "ttl": (ox.RdfFormat.TURTLE, "text/turtle; charset=utf-8"),
    "jsonld": (ox.RdfFormat.JSON_LD, "application/ld+json"),
    "nt": (ox.RdfFormat.N_TRIPLES, "application/n-triples"),
    "rdf": (ox.RdfFormat.RDF_XML, "application/rdf+xml"),
}
# The `format` parameter some clients (SPARQLWrapper among them) send instead of, or beside, Accept.
FORMAT_PARAM = {
    "json": ("json", "jsonld"), "xml": ("xml", "rdf"), "csv": ("csv", None), "tsv": ("tsv", None),
    "turtle": (None, "ttl"), "ttl": (None, "ttl"), "n3": (None, "ttl"),
    "json-ld": (None, "jsonld"), "jsonld": (None, "jsonld"),
    "nt": (None, "nt"), "ntriples": (None, "nt"), "n-triples": (None, "nt"),
    "rdf+xml": (None, "rdf"), "rdf": (None, "rdf"), "rdfxml": (None, "rdf"),
}
for _media, _key in RESULT_TYPES.items():
    FORMAT_PARAM.setdefault(_media, (_key, GRAPH_TYPES.get(_media)))
for _media, _key in GRAPH_TYPES.items():
    FORMAT_PARAM.setdefault(_media, (RESULT_TYPES.get(_media), _key))

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


class Refused(Exception):
    """A request this endpoint will not run; status is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# -- looking at a query before it runs -------------------------------------------------------

_ESCAPE_RE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_SKIP_RE = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
                      r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
                      r'|<[^<>"{}|^`\\\s]*>|#[^\n]*', re.DOTALL)
_SERVICE_RE = re.compile(r"(?<![\w:?$-])SERVICE(?![\w:-])", re.IGNORECASE)
_UPDATE_RE = re.compile(r"(?<![\w:?$-])(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)(?![\w:-])", re.IGNORECASE)
_FORM_RE = re.compile(r"(?<![\w:?$-])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:-])", re.IGNORECASE)


def _unescaped(text: str) -> str:
    """The text with SPARQL's codepoint escapes (\\uXXXX) decoded, as the grammar allows anywhere."""
    return _ESCAPE_RE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)) if int(m.group(1) or m.group(2), 16) < 0x110000 else m.group(0), text)


def keywords_text(text: str) -> str:
    """The query with strings, IRIs and comments blanked out: what is left are keywords and names."""
    return _SKIP_RE.sub(" ", _unescaped(text))


def looks_like_update(text: str) -> bool:
    """True when the text starts (after its prologue) with an update operation."""
    body = keywords_text(text)
    body = re.sub(r"(?i)\b(PREFIX\s+[\w.-]*:|BASE)\s*", " ", body)
    first = _UPDATE_RE.search(body)
    form = _FORM_RE.search(body)
    return first is not None and (form is None or first.start() < form.start())


def uses_service(text: str) -> bool:
    return _SERVICE_RE.search(keywords_text(text)) is not None


def check_query(text: str) -> None:
    """Refuse an update or a federated query; parse errors are left to the engine."""
    if not text or not text.strip():
        raise Refused(400, "the query is empty")
    if looks_like_update(text):
        raise Refused(403, "this endpoint is read-only: SPARQL Update is not accepted")
    if uses_service(text):
        raise Refused(403, "federated queries (SERVICE) are not accepted by this endpoint")


# -- running a query in a store ---------------------------------------------------------------

def load_store(nq: Path) -> ox.Store:
    store = ox.Store()
    store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    return store


def plain_term(term):
    """A term as a tuple of plain values, so that it can cross a process boundary."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode", term.value)
    if isinstance(term, ox.Literal):
        return ("literal", term.value, term.language, term.datatype.value if term.datatype else None)
    return ("literal", str(term), None, None)  # RDF-star triples: shown as text


def ox_term(plain):
    kind = plain[0]
    if kind == "iri":
        return ox.NamedNode(plain[1])
    if kind == "bnode":
        return ox.BlankNode(plain[1])
    _, value, lang, datatype = plain
    if lang:
        return ox.Literal(value, language=lang)
    return ox.Literal(value, datatype=ox.NamedNode(datatype) if datatype else None)


def _graphs(names):
    return [ox.NamedNode(n) for n in names] if names else None


def _run(store: ox.Store, text: str, default_graphs=(), named_graphs=()):
    try:
        kwargs = {"default_graph": _graphs(default_graphs)} if default_graphs else {"use_default_graph_as_union": True}
        if named_graphs:
            kwargs["named_graphs"] = _graphs(named_graphs)
        return store.query(text, **kwargs)
    except SyntaxError as exc:
        raise Refused(400, f"the query does not parse: {exc}") from None
    except (OSError, ValueError, TypeError) as exc:
        raise Refused(400, f"the query could not be run: {exc}") from None


@dataclass
class Table:
    """A SELECT or ASK result as plain values (see plain_term)."""
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    truncated: bool = False
    boolean: bool | None = None


def run_table(store: ox.Store, text: str, cap: int = DEFAULT_RESULT_CAP) -> Table:
    """A SELECT or ASK query's result, at most cap rows; used by the stored-query pages."""
    check_query(text)
    result = _run(store, text)
    if isinstance(result, ox.QueryBoolean):
        return Table(["ask"], [[("literal", "true" if result else "false", None, "http://www.w3.org/2001/XMLSchema#boolean")]], boolean=bool(result))
    if not isinstance(result, ox.QuerySolutions):
        raise Refused(400, "a stored query page shows SELECT and ASK results only")
    columns = [v.value for v in result.variables]
    table = Table(columns)
    try:
        for solution in result:
            if len(table.rows) >= cap:
                table.truncated = True
                break
            table.rows.append([plain_term(solution[c]) for c in columns])
    except OSError as exc:
        raise Refused(400, f"the query could not be run: {exc}") from None
    return table


def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if not isinstance(term, ox.Literal):
        raise Refused(400, "results holding quoted triples (RDF-star) are not supported by this endpoint")
    if term.language:
        return {"type": "literal", "value": term.value, "xml:lang": term.language}
    if term.datatype.value == XSD_STRING:
        return {"type": "literal", "value": term.value}
    return {"type": "literal", "value": term.value, "datatype": term.datatype.value}


def _solutions_document(columns: list[str], rows: list[list]) -> bytes:
    """Rows as a SPARQL results JSON document, byte for byte as pyoxigraph writes one (tested)."""
    bindings = [{c: _json_term(t) for c, t in zip(columns, row) if t is not None} for row in rows]
    return json.dumps({"head": {"vars": columns}, "results": {"bindings": bindings}},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def answer(store: ox.Store, text: str, result_format: str | None, graph_format: str | None,
           cap: int = DEFAULT_RESULT_CAP, default_graphs=(), named_graphs=()) -> tuple[str, bytes, bool]:
    """Run a protocol request: (content type, body, truncated). The formats are keys of
    RESULT_FORMATS / GRAPH_FORMATS, or None when the client accepts none for this query form."""
    check_query(text)
    result = _run(store, text, default_graphs, named_graphs)
    try:
        if isinstance(result, ox.QueryBoolean):
            if result_format is None:
                raise Refused(406, "an ASK result is available as " + ", ".join(sorted(RESULT_TYPES)))
            fmt, media = RESULT_FORMATS[result_format]
            return media, result.serialize(format=fmt), False
        if isinstance(result, ox.QuerySolutions):
            if result_format is None:
                raise Refused(406, "a SELECT result is available as " + ", ".join(sorted(RESULT_TYPES)))
            columns = [v.value for v in result.variables]
            rows, truncated = [], False
            for solution in result:
                if len(rows) >= cap:
                    truncated = True
                    break
                rows.append([solution[c] for c in columns])
            fmt, media = RESULT_FORMATS[result_format]
            body = _solutions_document(columns, rows)
            if fmt != ox.QueryResultsFormat.JSON:
                body = ox.parse_query_results(body, ox.QueryResultsFormat.JSON).serialize(format=fmt)
            return media, body, truncated
        if graph_format is None:
            raise Refused(406, "a CONSTRUCT or DESCRIBE result is available as " + ", ".join(sorted(GRAPH_TYPES)))
        triples, truncated = [], False
        for triple in result:
            if len(triples) >= cap:
                truncated = True
                break
            triples.append(triple)
        fmt, media = GRAPH_FORMATS[graph_format]
        return media, ox.serialize(triples, format=fmt, prefixes=PREFIXES if fmt != ox.RdfFormat.N_TRIPLES else None) or b"", truncated
    except OSError as exc:
        raise Refused(400, f"the query could not be run: {exc}") from None


# -- worker processes with a time limit -------------------------------------------------------
# The server talks to its workers from the event loop (length-prefixed pickles over a socket pair),
# so that a query costs no thread hand-over; a worker past the time limit is killed and replaced.

_FRAME = struct.Struct("!Q")


def _frame(value) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _FRAME.pack(len(data)) + data


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _worker_main(sock: socket.socket, nq: str) -> None:
    """Loop of a worker process: receive (function name, args), send back ('ok', value) or an error."""
    store = load_store(Path(nq))
    calls = {"answer": answer, "run_table": run_table}
    sock.sendall(_frame(("ready", None)))
    while True:
        try:
            name, args = pickle.loads(_recv_exactly(sock, _FRAME.unpack(_recv_exactly(sock, _FRAME.size))[0]))
        except (EOFError, OSError):
            return
        try:
            start = time.perf_counter()
            value = calls[name](store, *args)
            reply = ("ok", (value, time.perf_counter() - start))
        except Refused as exc:
            reply = ("refused", (exc.status, exc.message))
        except Exception as exc:  # noqa: BLE001 - reported to the parent as a server error, never to a client
            reply = ("error", f"{type(exc).__name__}: {exc}")
        sock.sendall(_frame(reply))


class _Worker:
    def __init__(self, ctx, nq: str):
        self.sock, child = socket.socketpair()
        self.process = ctx.Process(target=_worker_main, args=(child, nq), daemon=True, name="licn-sparql-worker")
        self.process.start()
        child.close()
        self.streams = None

    async def _receive(self):
        reader, _ = self.streams
        size = _FRAME.unpack(await reader.readexactly(_FRAME.size))[0]
        return pickle.loads(await reader.readexactly(size))

    async def call(self, name: str, args: tuple, timeout: float):
        """The worker's reply, or None when it did not answer within timeout seconds."""
        if self.streams is None:
            self.streams = await asyncio.open_connection(sock=self.sock, limit=1 << 26)
            await asyncio.wait_for(self._receive(), 120)  # the store is loaded
        self.streams[1].write(_frame((name, args)))
        try:
            return await asyncio.wait_for(self._receive(), timeout)
        except TimeoutError:
            return None

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        if self.streams is not None:
            self.streams[1].close()
        self.sock.close()


class QueryPool:
    """A few worker processes over one N-Quads file; each call waits at most time_limit seconds.
    Made and used inside one event loop (the server's).

    The data does not change while serving, so a request answered by a worker within quick_limit
    seconds takes about as long every time: such requests (the same text, formats and graphs) are
    remembered and afterwards answered in the server process itself, without the hop to a worker.
    Anything else, and every request seen for the first time, goes to a worker and its time limit."""

    def __init__(self, nq: Path, workers: int = 2, time_limit: float = DEFAULT_TIME_LIMIT,
                 cap: int = DEFAULT_RESULT_CAP, quick_limit: float = QUICK_LIMIT):
        self.nq = str(nq)
        self.time_limit = time_limit
        self.cap = cap
        self.quick_limit = quick_limit
        self.quick: OrderedDict[tuple, None] = OrderedDict()  # requests known to be quick, least recent first
        self._store = load_store(Path(nq)) if quick_limit > 0 else None
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: list[_Worker] = []
        self._closed = False
        for _ in range(max(1, workers)):
            self._add()

    def _add(self) -> None:
        worker = _Worker(self._ctx, self.nq)
        self._all.append(worker)
        self._idle.put_nowait(worker)

    async def _call(self, name: str, args: tuple):
        if self._closed:
            raise RuntimeError("the query pool is closed")
        worker = await self._idle.get()
        try:
            reply = await worker.call(name, args, self.time_limit)
        except (TimeoutError, EOFError, OSError, asyncio.IncompleteReadError):
            reply = ("error", "the query worker stopped")
        except BaseException:  # the request was cancelled (client gone): the worker's state is unknown
            self._replace(worker)
            raise
        if reply is None or reply[0] == "error":
            self._replace(worker)
            if reply is None:
                raise Refused(503, f"the query ran longer than the time limit of {self.time_limit:g} s and was stopped")
            raise RuntimeError(reply[1])
        self._idle.put_nowait(worker)
        status, value = reply
        if status == "refused":
            raise Refused(*value)
        return value  # (the answer, seconds the worker took)

    def _replace(self, worker: _Worker) -> None:
        worker.stop()
        self._all.remove(worker)
        if not self._closed:
            self._add()

    async def answer(self, text: str, result_format: str | None, graph_format: str | None,
                     default_graphs=(), named_graphs=()) -> tuple[str, bytes, bool]:
        check_query(text)
        args = (text, result_format, graph_format, self.cap, tuple(default_graphs), tuple(named_graphs))
        return await self._quick_or_worker("answer", answer, args)

    async def run_table(self, text: str) -> Table:
        check_query(text)
        return await self._quick_or_worker("run_table", run_table, (text, self.cap))

    async def _quick_or_worker(self, name: str, function, args: tuple):
        key = (name, *args)
        if key in self.quick:
            self.quick.move_to_end(key)
            return function(self._store, *args)
        value, seconds = await self._call(name, args)
        if seconds <= self.quick_limit and self._store is not None:
            self.quick[key] = None
            if len(self.quick) > QUICK_REMEMBERED:
                self.quick.popitem(last=False)
        return value

    def close(self) -> None:
        self._closed = True
        workers, self._all = list(self._all), []
        for worker in workers:
            worker.stop()
