"""licn push and remote queries against a real `oxigraph serve` process on 127.0.0.1.

Every server runs on a free loopback port with a temporary store and is terminated at the end.
Failures are made real: a closed port, a loopback HTTP proxy that answers 5xx or resets the
connection, and a server stopped in the middle of a push."""
from __future__ import annotations

import os
import shutil
import socket
import struct
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
from licn.push import STAGING, PushError, derive_urls, read_graphs, safe_url, staging_iri

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


def normalised(result) -> tuple:
    def cell(v):
        return round(v, 9) if isinstance(v, float) else v
    return tuple(result.columns), sorted((tuple(cell(v) for v in row) for row in result.rows), key=repr)


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
    print(f"push of {sum(expected.values())} triples in {len(expected)} graphs: {seconds:.2f} s")

    for name, query in load_catalogue().items():
        assert normalised(run(name, endpoint=server.url + "/query")) == normalised(run(name, dist=dist)), name
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
    assert f"http://127.0.0.1:{port}/store" in err and "Connection refused" in err
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
    failures = {("PUT", 1): 503, ("PUT", 2): "reset", ("PUT", 6): 502,  # uploads (the 6th is a retry)
                ("POST", "/update", 1): 503, ("POST", "/query", 1): 504}  # the switch and the count query
    seen = {}

    def plan(n, method, path):
        key = (method,) if method == "PUT" else (method, path.split("?")[0])
        seen[key] = seen.get(key, 0) + 1
        return failures.get(key + (seen[key],))
    flaky = proxy(server.url, plan)
    rc, out, err = push_cli(capfd, flaky.url, dist)
    assert rc == 0, err
    assert server.graph_counts() == local_counts(dist)


def test_a_failed_switch_keeps_the_previous_graphs(dist, oxigraph, proxy, tmp_path, capfd):
    server = oxigraph()
    old = changed_dist(dist, tmp_path / "old")
    assert push_cli(capfd, server.url, old)[0] == 0
    before = server.graph_counts()
    switches = []

    def plan(n, method, path):
        if method == "POST" and path == "/update":
            switches.append(n)
            return 500 if len(switches) == 1 else None  # the switch fails, the clean-up goes through
    rc, out, err = push_cli(capfd, proxy(server.url, plan).url, dist)
    assert rc == 1
    assert "switching 10 graphs into place" in err and "HTTP 500" in err and "Traceback" not in err
    assert server.graph_counts() == before  # nothing switched, the staging graphs removed
    assert server.ask("<https://w3id.org/licn/id/test/old> ?p ?o")


def test_a_server_stopped_mid_push_leaves_the_previous_graphs(dist, oxigraph, proxy, tmp_path, capfd):
    location = tmp_path / "store"
    server = oxigraph(location)
    old = changed_dist(dist, tmp_path / "old")
    assert push_cli(capfd, server.url, old)[0] == 0
    before = server.graph_counts()

    def plan(n, method, path):
        if n == 4:  # three staging graphs are uploaded; the server goes away
            server.stop()
    rc, out, err = push_cli(capfd, proxy(server.url, plan).url, dist)
    assert rc == 1
    assert "uploading https://w3id.org/licn/graph/" in err and "HTTP 502" in err
    assert "Nothing was switched: the store keeps its previous graphs." in err
    assert "could not be removed" in err and "Traceback" not in err

    restarted = oxigraph(location)
    counts = restarted.graph_counts()
    assert {g: n for g, n in counts.items() if not g.startswith(STAGING)} == before
    assert restarted.ask("<https://w3id.org/licn/id/test/old> ?p ?o")
    assert sorted(g for g in counts if g.startswith(STAGING)) == sorted(staging_iri(g) for g in sorted(before)[:3])

    rc, out, err = push_cli(capfd, restarted.url, dist)  # the next push replaces and removes them
    assert rc == 0, err
    assert restarted.graph_counts() == local_counts(dist)
