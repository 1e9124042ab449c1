"""licn push and remote queries against a real `oxigraph serve` process on 127.0.0.1.

Every server runs on a free loopback port with a temporary store and is terminated at the end.
Failures are made real: a closed port, a loopback HTTP proxy that answers 5xx or resets the
connection, a loopback TCP relay that holds the update request halfway through while the server
is stopped or the licn push process is killed. Readers query the union default graph while
pushes run and must only ever see one complete build."""
from __future__ import annotations

import os
import signal
import shutil
import socket
import struct
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from licn import cli
from licn.query.catalogue import load_catalogue
from licn.query.engines import run, run_text
from licn.push import STAGING, PushError, derive_urls, read_graphs, replacement, safe_url, staging_iri

ROOT = Path(__file__).resolve().parents[1]
OXIGRAPH = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
pytestmark = pytest.mark.skipif(OXIGRAPH is None, reason="the oxigraph server is not installed (pip install oxigraph)")

LAYER = "https://w3id.org/licn/graph/"
MARKER = '<https://w3id.org/licn/id/test/old> <http://www.w3.org/2000/01/rdf-schema#label> "only in the old build" <https://w3id.org/licn/graph/review> .'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Oxigraph:
    """One `oxigraph serve` process on a free loopback port."""

    def __init__(self, location: Path):
        self.location = location
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(location.parent / f"oxigraph-{self.port}.log", "wb")
        self.process = subprocess.Popen(
            [OXIGRAPH, "serve", "--location", str(location), "--bind", f"127.0.0.1:{self.port}", "--union-default-graph"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"oxigraph serve exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("oxigraph serve did not start listening within 20 s")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def query(self, text: str):
        return run_text(text, endpoint=self.url + "/query")

    def graph_counts(self) -> dict[str, int]:
        result = self.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        return {g: n for g, n in result.rows}

    def ask(self, pattern: str) -> bool:
        return self.query(f"ASK {{ {pattern} }}").rows[0][0]


@pytest.fixture
def oxigraph(tmp_path):
    """A factory: oxigraph(location=None) starts a server (a fresh store unless a location is
    given); every server it started is stopped at the end."""
    servers = []

    def start(location: Path | None = None) -> Oxigraph:
        server = Oxigraph(location or tmp_path / f"store-{len(servers)}")
        servers.append(server)
        return server
    try:
        yield start
    finally:
        for server in servers:
            server.stop()


class Proxy(ThreadingHTTPServer):
    """A loopback HTTP proxy in front of a server. plan(n, method, path) decides the fate of the
    n-th request (1-based): None forwards it, an int answers with that status, 'reset' cuts the
    connection. When the upstream cannot be reached it answers 502, as a reverse proxy does."""

    daemon_threads = True

    def __init__(self, upstream: str, plan):
        self.upstream, self.plan, self.seen = upstream, plan, []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def handle_error(self, request, client_address):
        pass  # a reset connection is what the test asked for

    def close(self):
        self.shutdown()
        self.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _handle(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.seen.append((self.command, self.path))
            fate = self.server.plan(len(self.server.seen), self.command, self.path)
        if fate == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if isinstance(fate, int):
            status, headers, content = fate, {"Content-Type": "text/plain"}, f"proxy says {fate}".encode()
            if fate == 401:
                headers["WWW-Authenticate"] = 'Basic realm="store"'
        else:
            forward = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept", "authorization")}
            try:
                r = httpx.request(self.command, self.server.upstream + self.path, content=body, headers=forward, timeout=30)
                status, headers, content = r.status_code, {"Content-Type": r.headers.get("content-type", "text/plain")}, r.content
            except httpx.TransportError:
                status, headers, content = 502, {"Content-Type": "text/plain"}, b"upstream unreachable"
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


@pytest.fixture
def proxy():
    proxies = []

    def start(upstream: str, plan) -> Proxy:
        proxies.append(Proxy(upstream, plan))
        return proxies[-1]
    try:
        yield start
    finally:
        for p in proxies:
            p.close()


def push_cli(capfd, endpoint: str, dist: Path, *extra: str) -> tuple[int, str, str]:
    rc = cli.main(["push", "--endpoint", endpoint, "--dist", str(dist), *extra])
    out, err = capfd.readouterr()
    return rc, out, err


def local_counts(dist: Path) -> dict[str, int]:
    return {g: len(t) for g, t in read_graphs(dist / "licn.nq").items() if t}


def changed_dist(dist: Path, folder: Path) -> Path:
    """A copy of the build with one triple added and every codings triple about one coding gone."""
    folder.mkdir()
    lines = (dist / "licn.nq").read_text(encoding="utf-8").splitlines()
    codings = [line for line in lines if line.endswith(f"<{LAYER}codings> .")]
    subject = codings[0].split(" ", 1)[0]
    kept = [line for line in lines if not (line.startswith(subject + " ") and line.endswith(f"<{LAYER}codings> ."))]
    assert len(kept) < len(lines)
    (folder / "licn.nq").write_text("\n".join(sorted(kept + [MARKER])) + "\n", encoding="utf-8")
    return folder


class Relay:
    """A loopback TCP relay in front of a server that passes bytes on as they come. The first
    request that starts with POST /update is cut once hold_after of its bytes went through: the
    server has then half an update request, `held` is set, and what the client still sends is
    read and dropped. When either side goes away, the relay closes the other (a killed client
    leaves the server with a truncated request; a stopped server leaves the client without an
    answer); every later connection is passed on whole."""

    def __init__(self, upstream_port: int, hold_after: int):
        self.upstream_port, self.hold_after = upstream_port, hold_after
        self.held = threading.Event()
        self.holding = False  # whether a request was chosen to be held
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket):
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            upstream.settimeout(None)
        except OSError:
            client.close()  # the client sees the server disconnect without an answer, as from a dead server
            return
        with self.lock:
            self.sockets += [client, upstream]
        threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()
        self._pump(client, upstream, True)

    def _pump(self, source: socket.socket, sink: socket.socket, request: bool):
        passed, hold = 0, False
        try:
            while data := source.recv(65536):
                if request and passed == 0 and data.startswith(b"POST /update"):
                    with self.lock:
                        hold, self.holding = not self.holding, True
                if hold and passed + len(data) >= self.hold_after:
                    sink.sendall(data[: max(self.hold_after - passed, 0)])
                    passed = self.hold_after
                    self.held.set()
                    while source.recv(65536):  # the rest of the request never reaches the server
                        pass
                    break
                sink.sendall(data)
                passed += len(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()


@pytest.fixture
def relay():
    relays = []

    def start(upstream_port: int, hold_after: int) -> Relay:
        relays.append(Relay(upstream_port, hold_after))
        return relays[-1]
    try:
        yield start
    finally:
        for r in relays:
            r.close()


READER_QUERY = """SELECT ?triples ?codings WHERE {
  { SELECT (COUNT(*) AS ?triples) WHERE { ?s ?p ?o } }
  { SELECT (COUNT(*) AS ?codings) WHERE { ?c a <https://w3id.org/licn/ontology#Coding> } }
}"""


def expected_view(dist: Path) -> tuple[int, int]:
    """What READER_QUERY answers over the union default graph of one complete build, computed
    locally with pyoxigraph."""
    import pyoxigraph as ox
    store = ox.Store()
    store.load(path=dist / "licn.nq", format=ox.RdfFormat.N_QUADS)
    row = next(iter(store.query(READER_QUERY, use_default_graph_as_union=True)))
    return int(row["triples"].value), int(row["codings"].value)


def reader_view(server_url: str) -> tuple[int, int]:
    """What a reader of the store sees now, in one query (so from one snapshot)."""
    r = httpx.post(server_url + "/query", data={"query": READER_QUERY},
                   headers={"Accept": "application/sparql-results+json"}, timeout=30)
    r.raise_for_status()
    row = r.json()["results"]["bindings"][0]
    return int(row["triples"]["value"]), int(row["codings"]["value"])


class Reader(threading.Thread):
    """Loops READER_QUERY against the server until stopped (at most `seconds`), recording what it saw."""

    def __init__(self, server_url: str, seconds: float = 180):
        super().__init__(daemon=True)
        self.server_url, self.deadline = server_url, time.monotonic() + seconds
        self.stop = threading.Event()
        self.seen: list[tuple[int, int]] = []
        self.errors: list[str] = []

    def run(self):
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            try:
                self.seen.append(reader_view(self.server_url))
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                self.errors.append(repr(exc))
                time.sleep(0.05)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.join(timeout=60)


def normalised(result, unordered=()) -> tuple:
    """Rows in a fixed order; GROUP_CONCAT lists (the query's unordered columns) as sorted items."""
    lists = {result.columns.index(c) for c in unordered if c in result.columns}

    def cell(i, v):
        if i in lists and isinstance(v, str):
            return tuple(sorted(re.split(r", | \| ", v)))
        return round(v, 9) if isinstance(v, float) else v
    return tuple(result.columns), sorted((tuple(cell(i, v) for i, v in enumerate(row)) for row in result.rows), key=repr)


# --- URLs --------------------------------------------------------------------------------------

def test_urls_follow_oxigraphs_layout():
    for endpoint in ("http://127.0.0.1:7878", "http://127.0.0.1:7878/", "http://127.0.0.1:7878/query"):
        urls = derive_urls(endpoint)
        assert (urls.graph_store, urls.update, urls.query) == (
            "http://127.0.0.1:7878/store", "http://127.0.0.1:7878/update", "http://127.0.0.1:7878/query")


def test_urls_for_other_stores_take_the_endpoint_as_query_url():
    urls = derive_urls("http://localhost:8890/sparql", "http://localhost:8890/sparql-graph-crud-auth",
                       "http://localhost:8890/sparql-auth")
    assert urls.query == "http://localhost:8890/sparql"
    urls = derive_urls("http://localhost:3030/licn/query", "http://localhost:3030/licn/data")
    assert (urls.graph_store, urls.update, urls.query) == (
        "http://localhost:3030/licn/data", "http://localhost:3030/licn/update", "http://localhost:3030/licn/query")


def test_printed_urls_never_hold_credentials():
    assert safe_url("http://user:secret@127.0.0.1:7878/store?graph=a@b") == "http://127.0.0.1:7878/store?graph=a@b"
    with pytest.raises(PushError, match="LICN_USER and LICN_PASSWORD") as error:
        derive_urls("http://user:secret@127.0.0.1:7878")
    assert "secret" not in str(error.value)


def test_every_layer_is_pushed_even_when_empty(dist):
    graphs = read_graphs(dist / "licn.nq")
    assert len(graphs) == 10 and all(g.startswith(LAYER) for g in graphs)
    assert sum(len(t) for t in graphs.values()) == len((dist / "licn.nq").read_text(encoding="utf-8").splitlines())


# --- pushing to a real server ------------------------------------------------------------------

def test_push_then_remote_queries_match_local(dist, oxigraph):
    server = oxigraph()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "licn.cli", "push", "--endpoint", server.url, "--dist", str(dist)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    expected = local_counts(dist)
    assert server.graph_counts() == expected
    for graph, n in expected.items():  # the printed table
        assert any(line.split()[:3] == [graph, str(n), str(n)] for line in done.stdout.splitlines()), done.stdout
    size = len(replacement(read_graphs(dist / "licn.nq")).encode("utf-8"))
    print(f"push of {sum(expected.values())} triples in {len(expected)} graphs (one update request of "
          f"{size / 1e6:.2f} MB): {seconds:.2f} s")

    for name, query in load_catalogue().items():
        assert (normalised(run(name, endpoint=server.url + "/query"), query.unordered)
                == normalised(run(name, dist=dist), query.unordered)), name
    for path in sorted((ROOT / "queries" / "checks").glob("*-violation.rq")):
        assert run_text(path.read_text(encoding="utf-8"), endpoint=server.url + "/query").rows == [], path.name

    remote = subprocess.run([sys.executable, "-m", "licn.cli", "query", "table1-matrix", "--format", "csv",
                             "--endpoint", server.url + "/query"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    local = subprocess.run([sys.executable, "-m", "licn.cli", "query", "table1-matrix", "--format", "csv",
                            "--dist", str(dist)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert remote.returncode == 0 and local.returncode == 0, remote.stderr + local.stderr
    assert remote.stdout == local.stdout and remote.stdout.count("\n") > 1


def test_pushing_twice_leaves_no_duplicates(dist, oxigraph, capfd):
    server = oxigraph()
    for _ in range(2):
        rc, out, err = push_cli(capfd, server.url, dist)
        assert rc == 0, err
    assert server.graph_counts() == local_counts(dist)  # no staging graph, nothing twice
    total = server.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0][0]
    assert total == sum(local_counts(dist).values())


def test_a_changed_build_replaces_the_old_triples(dist, oxigraph, tmp_path, capfd):
    server = oxigraph()
    old = changed_dist(dist, tmp_path / "old")
    assert push_cli(capfd, server.url, old)[0] == 0
    assert server.ask(f"GRAPH <{LAYER}review> {{ <https://w3id.org/licn/id/test/old> ?p ?o }}")
    rc, out, err = push_cli(capfd, server.url + "/query", dist)
    assert rc == 0, err
    assert not server.ask("<https://w3id.org/licn/id/test/old> ?p ?o")
    assert server.graph_counts() == local_counts(dist)


def test_a_layer_emptied_locally_is_emptied_in_the_store(dist, oxigraph, tmp_path, capfd):
    server = oxigraph()
    assert push_cli(capfd, server.url, dist)[0] == 0
    folder = tmp_path / "no-agenda"
    folder.mkdir()
    lines = (dist / "licn.nq").read_text(encoding="utf-8").splitlines()
    (folder / "licn.nq").write_text("\n".join(l for l in lines if not l.endswith(f"<{LAYER}agenda> .")) + "\n", encoding="utf-8")
    rc, out, err = push_cli(capfd, server.url, folder)
    assert rc == 0, err
    assert f"{LAYER}agenda" not in server.graph_counts()
    assert server.graph_counts() == local_counts(folder)


# --- failures ------------------------------------------------------------------------------------

def test_push_to_a_closed_port_fails_cleanly(dist, capfd):
    port = free_port()
    rc, out, err = push_cli(capfd, f"http://127.0.0.1:{port}", dist)
    assert rc == 1
    assert f"replacing 10 graphs" in err and f"http://127.0.0.1:{port}/update" in err and "Connection refused" in err
    assert "after 3 attempts" in err and "the store keeps its previous graphs" in err
    assert "Traceback" not in out + err


def test_missing_build_is_a_usage_error(tmp_path, capfd):
    rc, out, err = push_cli(capfd, "http://127.0.0.1:9", tmp_path)
    assert rc == 2 and "licn build" in err


def test_credentials_are_never_printed(dist, oxigraph, proxy):
    server = oxigraph()
    secret = "pa55-Wörd-never-shown"
    env = {**os.environ, "LICN_USER": "licn-user", "LICN_PASSWORD": secret}
    denied = proxy(server.url, lambda n, method, path: 401)
    for endpoint, rc in ((server.url, 0), (f"http://127.0.0.1:{free_port()}", 1), (denied.url, 1),
                         (f"http://licn-user:{secret}@127.0.0.1:{server.port}", 1)):
        done = subprocess.run([sys.executable, "-m", "licn.cli", "push", "--endpoint", endpoint, "--dist", str(dist)],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
        assert done.returncode == rc, done.stderr
        assert secret not in done.stdout + done.stderr, endpoint
        assert "Traceback" not in done.stderr
        if endpoint == denied.url:
            assert "HTTP 401" in done.stderr and "check LICN_USER and LICN_PASSWORD" in done.stderr
        if "@" in endpoint:
            assert "not in the URL" in done.stderr


def test_transient_failures_are_retried(dist, oxigraph, proxy, capfd):
    server = oxigraph()
    failures = {("POST", "/update", 1): 503, ("POST", "/update", 2): "reset",  # the update: the 3rd try goes through
                ("POST", "/query", 1): 504}  # the count query
    seen = {}

    def plan(n, method, path):
        key = (method, path.split("?")[0])
        seen[key] = seen.get(key, 0) + 1
        return failures.get(key + (seen[key],))
    flaky = proxy(server.url, plan)
    rc, out, err = push_cli(capfd, flaky.url, dist)
    assert rc == 0, err
    assert seen == {("POST", "/update"): 3, ("POST", "/query"): 2}
    assert server.graph_counts() == local_counts(dist)


def test_a_refused_update_keeps_the_previous_graphs(dist, oxigraph, proxy, tmp_path, capfd):
    server = oxigraph()
    old = changed_dist(dist, tmp_path / "old")
    assert push_cli(capfd, server.url, old)[0] == 0
    before = server.graph_counts()
    rc, out, err = push_cli(capfd, proxy(server.url, lambda n, method, path: 500 if path == "/update" else None).url, dist)
    assert rc == 1
    assert "replacing 10 graphs" in err and "/update failed: " in err and "HTTP 500" in err and "proxy says 500" in err
    assert "the store keeps its previous graphs" in err and "The store now holds:" in err and "Traceback" not in err
    assert server.graph_counts() == before
    assert server.ask("<https://w3id.org/licn/id/test/old> ?p ?o")


def test_staging_graphs_of_an_older_push_are_removed(dist, oxigraph, tmp_path, capfd):
    """Pushes before this design uploaded into staging graphs, which the union default graph shows;
    one killed midway left them behind, and readers counted their triples twice."""
    server = oxigraph()
    old = changed_dist(dist, tmp_path / "old")
    assert push_cli(capfd, server.url, old)[0] == 0
    graphs = read_graphs(old / "licn.nq")
    import pyoxigraph as ox
    for graph in (f"{LAYER}codings", f"{LAYER}studies"):
        r = httpx.put(server.url + "/store", params={"graph": staging_iri(graph)}, timeout=30,
                      content=ox.serialize(graphs[graph], format=ox.RdfFormat.N_TRIPLES),
                      headers={"Content-Type": "application/n-triples"})
        assert r.is_success, r.text
    assert reader_view(server.url)[1] == 2 * expected_view(old)[1]  # the doubled codings of the issue

    rc, out, err = push_cli(capfd, server.url, dist)
    assert rc == 0, err
    assert "staging" not in out
    assert not any(g.startswith(STAGING) for g in server.graph_counts())
    assert server.graph_counts() == local_counts(dist)
    assert reader_view(server.url) == expected_view(dist)


# --- readers during pushes -------------------------------------------------------------------------

@pytest.mark.slow
def test_readers_see_only_complete_builds_during_pushes(dist, oxigraph, tmp_path, capfd):
    server = oxigraph()
    other = changed_dist(dist, tmp_path / "other")
    complete = {expected_view(other): "other", expected_view(dist): "dist"}
    assert len(complete) == 2
    assert push_cli(capfd, server.url, dist)[0] == 0
    assert reader_view(server.url) == expected_view(dist)
    seconds = []
    with Reader(server.url) as reader:
        for i in range(10):
            started = time.perf_counter()
            rc, out, err = push_cli(capfd, server.url, (other, dist)[i % 2])
            seconds.append(time.perf_counter() - started)
            assert rc == 0, err
            time.sleep(0.05)  # let the reader see this build before the next push
    assert not reader.errors, reader.errors[:3]
    wrong = sorted({v for v in reader.seen if v not in complete})
    assert not wrong, f"{len(wrong)} views of no complete build (triples, codings), e.g. {wrong[:5]}; complete: {complete}"
    assert len(reader.seen) >= 50 and {complete[v] for v in reader.seen} == {"other", "dist"}
    switches = sum(a != b for a, b in zip(reader.seen, reader.seen[1:]))
    assert switches >= 5, switches  # the reader did watch the builds change
    assert reader_view(server.url) == expected_view(dist) and server.graph_counts() == local_counts(dist)
    print(f"{len(reader.seen)} reads during 10 pushes, {switches} switches seen; push: {min(seconds):.2f}-{max(seconds):.2f} s")


# --- a push that dies midway -----------------------------------------------------------------------

def test_a_push_killed_midway_leaves_the_previous_graphs(dist, oxigraph, relay, tmp_path):
    server = oxigraph()
    old = changed_dist(dist, tmp_path / "old")
    command = [sys.executable, "-m", "licn.cli", "push", "--dist"]
    done = subprocess.run(command + [str(old), "--endpoint", server.url], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    before, seen_before = server.graph_counts(), expected_view(old)

    size = len(replacement(read_graphs(dist / "licn.nq")).encode("utf-8"))
    cut = relay(server.port, hold_after=size // 2)
    with Reader(server.url) as reader:
        process = subprocess.Popen(command + [str(dist), "--endpoint", cut.url], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert cut.held.wait(timeout=60), "the update request never reached the relay"
            assert process.poll() is None
            assert reader_view(server.url) == seen_before  # half an update request: nothing of it shows
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.communicate(timeout=30)
        time.sleep(0.5)  # the relay closes the truncated request; the server drops it
    assert process.returncode == -signal.SIGKILL
    assert reader.seen and set(reader.seen) == {seen_before} and not reader.errors
    assert server.graph_counts() == before and reader_view(server.url) == seen_before
    assert server.ask("<https://w3id.org/licn/id/test/old> ?p ?o")

    done = subprocess.run(command + [str(dist), "--endpoint", server.url], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert server.graph_counts() == local_counts(dist) and reader_view(server.url) == expected_view(dist)


def test_a_server_stopped_mid_push_leaves_the_previous_graphs(dist, oxigraph, relay, tmp_path, capfd):
    location = tmp_path / "store"
    server = oxigraph(location)
    old = changed_dist(dist, tmp_path / "old")
    assert push_cli(capfd, server.url, old)[0] == 0
    before = server.graph_counts()

    size = len(replacement(read_graphs(dist / "licn.nq")).encode("utf-8"))
    cut = relay(server.port, hold_after=size // 2)
    process = subprocess.Popen([sys.executable, "-m", "licn.cli", "push", "--endpoint", cut.url, "--dist", str(dist)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert cut.held.wait(timeout=60), "the update request never reached the relay"
        server.stop()  # with half of the update request received
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 1, err
    assert f"replacing 10 graphs" in err and f"{cut.url}/update failed (after 3 attempts)" in err
    assert "the store keeps its previous graphs" in err and "could not be checked" in err and "Traceback" not in err

    restarted = oxigraph(location)
    assert restarted.graph_counts() == before
    assert reader_view(restarted.url) == expected_view(old)
    assert restarted.ask("<https://w3id.org/licn/id/test/old> ?p ?o")

    rc, out, err = push_cli(capfd, restarted.url, dist)
    assert rc == 0, err
    assert restarted.graph_counts() == local_counts(dist) and reader_view(restarted.url) == expected_view(dist)
