"""licn push: upload the built graph to a SPARQL 1.1 triple store, one named graph per layer.

One SPARQL Update request drops every layer graph (and the staging graphs older pushes left behind)
and inserts every layer with one INSERT DATA. A store that runs one request as one transaction
(Oxigraph, tested; Fuseki's TDB2 and GraphDB, untested) shows its readers, the union default graph
included, the complete old graphs or the complete new ones, never both; staging graphs cannot give
that, as a union default graph shows them too (on Virtuoso 7.2 a reader can catch the request half
applied). The request does the same run once or twice, so it is retried on transient failures. A
count query (through SPARQLWrapper) then checks every graph against dist/licn.nq. Credentials come
from LICN_USER and LICN_PASSWORD and never appear in the output; README.md tells more.
"""
from __future__ import annotations

import http.client
import os
import sys
import time
import urllib.error
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import httpx
import pyoxigraph as ox

from loaders.vocab import BASE, GRAPH, LAYERS, graph_iri

from .progress import Quiet, Stages

STAGING = BASE + "staging/"
TRANSIENT_STATUS = (502, 503, 504)
ATTEMPTS = 3
BACKOFF = 0.5  # seconds before the second attempt, doubled after each further failure
TIMEOUT = 60.0  # seconds per request (10 s to connect)


class PushError(Exception):
    """An expected failure: the message says which graph, which URL and what happened."""


class Transient(Exception):
    """A failure worth another attempt: connection refused or reset, timeout, 502/503/504."""


class Urls(NamedTuple):
    graph_store: str
    update: str
    query: str


def derive_urls(endpoint: str, graph_store: str | None = None, update: str | None = None,
                query: str | None = None) -> Urls:
    """Oxigraph's layout from its base URL (or its /query URL): /store, /update, /query.
    Other stores need --update; --endpoint is then their query URL. (The graph store URL is
    still derived and checked, but a push no longer uses it.)"""
    endpoint = endpoint.rstrip("/")
    for url in filter(None, (endpoint, graph_store, update, query)):
        try:
            httpx.URL(url)
            parts = urlsplit(url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise PushError(f"'{safe_url(url)}' is not a valid URL: {exc}") from None
        if parts.scheme not in ("http", "https"):
            raise PushError(f"'{safe_url(url)}' is not an http:// or https:// URL")
        if not parts.hostname:
            raise PushError(f"'{safe_url(url)}' has no host")
        if "@" in parts.netloc:
            raise PushError(f"{safe_url(url)}: give the credentials in LICN_USER and LICN_PASSWORD, not in the URL")
    base = endpoint.removesuffix("/query")
    if query is None:
        query = endpoint if urlsplit(endpoint).path not in ("", "/") else base + "/query"
    return Urls(graph_store or base + "/store", update or base + "/update", query)


def safe_url(url: str) -> str:
    """The URL without any user:password@ part."""
    scheme, sep, rest = url.partition("://")
    end = min([i for i in (rest.find(c) for c in "/?#") if i >= 0], default=len(rest))
    return scheme + sep + rest[:end].rpartition("@")[2] + rest[end:] if sep else url


def staging_iri(graph: str) -> str:
    return STAGING + graph[len(str(GRAPH)):]


def read_graphs(nq: Path) -> dict[str, list]:
    """The triples of each layer graph in dist/licn.nq, in file order, without duplicates; a layer
    without triples is there too, empty, so that the push empties it in the store."""
    graphs: dict[str, dict] = {str(graph_iri(layer)): {} for layer in LAYERS}
    try:
        for quad in ox.parse(path=nq, format=ox.RdfFormat.N_QUADS):
            name = quad.graph_name
            if not isinstance(name, ox.NamedNode) or not name.value.startswith(str(GRAPH)):
                raise PushError(f"{nq}: a triple outside the layer graphs ({GRAPH}<layer>): {quad}")
            graphs.setdefault(name.value, {})[quad.triple] = None
    except SyntaxError as exc:
        raise PushError(f"{nq} does not parse: {exc}") from None
    return {name: list(triples) for name, triples in sorted(graphs.items())}


def _retrying(call, what: str, attempts: int):
    for attempt in range(attempts):
        if attempt:
            time.sleep(BACKOFF * 2 ** (attempt - 1))
        try:
            return call()
        except Transient as exc:
            problem = str(exc)
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    raise PushError(f"{what} failed{tries}: {problem}")


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return f": {text[:300]}" if text else ""


class Remote:
    """The store's HTTP side: requests with timeouts, retries and Basic or Digest credentials."""

    def __init__(self, urls: Urls, user: str | None = None, password: str | None = None):
        self.urls, self.user, self.password = urls, user, password
        self.digest = False
        auth = httpx.BasicAuth(user, password or "") if user else None
        self.client = httpx.Client(auth=auth, timeout=httpx.Timeout(TIMEOUT, connect=10.0))

    def update(self, body: bytes, what: str) -> None:
        """One SPARQL Update request, retried on transient failures."""
        url = safe_url(self.urls.update)
        headers = {"Content-Type": "application/sparql-update; charset=utf-8"}

        def once():
            try:
                response = self.client.post(self.urls.update, content=body, headers=headers)
                if response.status_code == 401 and self.user and not self.digest:
                    self.digest = True  # Basic refused: try Digest (Virtuoso's -auth endpoints)
                    self.client.auth = httpx.DigestAuth(self.user, self.password or "")
                    response = self.client.post(self.urls.update, content=body, headers=headers)
            except httpx.TimeoutException:
                raise Transient(f"no answer from {url} within {TIMEOUT:g} s") from None
            except httpx.TransportError as exc:
                raise Transient(f"cannot reach {url}: {exc or type(exc).__name__}") from None
            if response.is_success:
                return
            problem = f"{url} answered HTTP {response.status_code} {response.reason_phrase}{_excerpt(response.text)}"
            if response.status_code == 401:
                problem += f" ({'check' if self.user else 'set'} LICN_USER and LICN_PASSWORD)"
            if response.status_code in TRANSIENT_STATUS:
                raise Transient(problem)
            raise PushError(f"{what} failed: {problem}")
        _retrying(once, what, ATTEMPTS)

    def counts(self, graphs: list[str], attempts: int | None = None) -> dict[str, int]:
        """Triples per graph in the store, through SPARQLWrapper."""
        from SPARQLWrapper import BASIC, DIGEST, JSON, POST, SPARQLWrapper
        values = " ".join(f"<{g}>" for g in graphs)
        client = SPARQLWrapper(self.urls.query, returnFormat=JSON)
        client.setMethod(POST)
        client.setTimeout(int(TIMEOUT))
        client.setQuery(f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} "
                        "GROUP BY ?g")
        if self.user:
            client.setCredentials(self.user, self.password or "")
            client.setHTTPAuth(DIGEST if self.digest else BASIC)
        url = safe_url(self.urls.query)

        def once():
            try:
                data = client.queryAndConvert()
            except urllib.error.HTTPError as exc:
                if exc.code in TRANSIENT_STATUS:
                    raise Transient(f"{url} answered HTTP {exc.code} {exc.reason}") from None
                raise PushError(f"the count query at {url} failed: HTTP {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                reason = getattr(exc, "reason", None) or exc or type(exc).__name__
                raise Transient(f"cannot reach {url}: {reason}") from None
            except Exception as exc:  # SPARQLWrapper's own errors (400, 401, 404, 500, bad JSON)
                raise PushError(f"the count query at {url} failed: {type(exc).__name__}: "
                                f"{_excerpt(str(exc))[2:]}") from None
            try:
                found = {b["g"]["value"]: int(b["n"]["value"]) for b in data["results"]["bindings"]}
            except (KeyError, TypeError, ValueError):
                raise PushError(f"the count query at {url} returned something that is not a SPARQL result") from None
            return {g: found.get(g, 0) for g in graphs}
        return _retrying(once, f"the count query at {url}", attempts or ATTEMPTS)


def count_table(local: dict[str, int], remote: dict[str, int]) -> tuple[str, bool]:
    """The per-graph table and whether the store holds exactly the local graphs."""
    rows = []
    for graph, n in local.items():
        rows.append((graph, str(n), str(remote.get(graph, "?")), "ok" if remote.get(graph) == n else "DIFFERS"))
        if leftover := remote.get(staging_iri(graph), 0):
            rows.append((staging_iri(graph), "-", str(leftover), "staging graph left behind"))
    ok = all(note == "ok" for *_, note in rows)
    rows.append(("total", str(sum(local.values())), str(sum(remote.get(g, 0) for g in local)), ""))
    width = max(len(r[0]) for r in rows)
    lines = [f"{'graph':<{width}}  {'local':>6}  {'remote':>6}"]
    lines += [f"{g:<{width}}  {a:>6}  {b:>6}  {note}".rstrip() for g, a, b, note in rows]
    return "\n".join(lines), ok


def replacement(graphs: dict[str, list]) -> str:
    """The one SPARQL Update request of a push (see above). N-Triples lines are valid SPARQL triples;
    one INSERT DATA keeps a blank node shared between layers one node, as in dist/licn.nq."""
    drops = [f"DROP SILENT GRAPH <{staging_iri(g)}>" for g in graphs] + [f"DROP SILENT GRAPH <{g}>" for g in graphs]
    data = "".join(f"GRAPH <{g}> {{\n{ox.serialize(t, format=ox.RdfFormat.N_TRIPLES).decode('utf-8')}}}\n"
                   for g, t in graphs.items() if t)
    return " ;\n".join(drops + ([f"INSERT DATA {{\n{data}}}"] if data else []))


def push(graphs: dict[str, list], remote: Remote, say=print, progress=None) -> bool:
    """Replace and verify. Raises PushError when the store did not take the request (it then keeps
    its previous graphs) or the outcome is unknown; returns whether the verified counts match.
    progress: a licn.progress.Stages to report the stages to."""
    stages = progress or Quiet()
    local = {g: len(t) for g, t in graphs.items()}
    counted = list(local) + [staging_iri(g) for g in local]
    total, where = sum(local.values()), safe_url(remote.urls.update)
    start = time.perf_counter()
    say(f"pushing {total} triples in {len(graphs)} graphs to {where}")
    body = replacement(graphs).encode("utf-8")
    size = f"{len(body) / 1e6:.1f} MB"
    stages.next(f"replacing the graphs with one SPARQL Update request of {size}")
    try:
        remote.update(body, f"replacing {len(graphs)} graphs ({total} triples, one SPARQL Update request of {size}) "
                      f"at {where}")
    except PushError as exc:
        try:  # what the store now holds, as far as it can be asked
            held = "\nThe store now holds:\n" + count_table(local, remote.counts(counted, attempts=1))[0]
        except PushError as unknown:
            held = f"\nWhat the store holds now could not be checked: {unknown}"
        raise PushError(f"{exc}\nThe store applies that request whole or not at all: unless the counts below show "
                        "the new graphs, the store keeps its previous graphs." + held) from None
    say(f"replaced {len(graphs)} graphs with one SPARQL Update request of {size} "
        f"in {time.perf_counter() - start:.2f} s")
    stages.next("counting the graphs in the store")
    try:
        counts = remote.counts(counted)
    except PushError as exc:
        raise PushError(f"the graphs were replaced, but they could not be counted: {exc}") from None
    table, ok = count_table(local, counts)
    say(table)
    if ok:
        say(f"pushed in {time.perf_counter() - start:.2f} s: the store holds what the local build holds")
    return ok


def cmd_push(args) -> int:
    user = os.environ.get("LICN_USER") or None
    password = os.environ.get("LICN_PASSWORD") or None

    def say(message: str, file=sys.stdout) -> None:
        if password:
            message = message.replace(password, "***")
        print(message, file=file, flush=True)

    nq = Path(args.dist) / "licn.nq"
    if not nq.exists():
        say(f"licn push: {nq} does not exist: run 'licn build' first", sys.stderr)
        return 2
    try:
        remote = Remote(derive_urls(args.endpoint, args.graph_store, args.update, args.query_endpoint), user, password)
        # on a terminal, the stages as they go; elsewhere the lines push says are its progress
        with remote.client, Stages("licn push", lines=False) as stages:  # closed however the push ends
            stages.next(f"reading {nq}")
            ok = push(read_graphs(nq), remote, say, stages)
    except PushError as exc:
        say(f"licn push: {exc}", sys.stderr)
        return 1
    if not ok:
        say("licn push: the store does not hold what the local build holds (see the table above)", sys.stderr)
        return 1
    return 0
