"""HTTP throughput and latency of `licn serve` beside Oxigraph server and rdflib-endpoint.

Every server runs on 127.0.0.1 on the same built N-Quads, one at a time; wrk (concurrency 16,
two threads, a fixed duration) sends one kind of request at a time: a dereference of a study IRI,
a point SPARQL query and an aggregate SPARQL query. The peers have no linked-data dereferencing,
so there the dereference is the CONSTRUCT query that gives the same description. Every server
started here is stopped before the function returns.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
STUDY = "https://w3id.org/licn/id/study/ref-88"
POINT = f"SELECT ?p ?o WHERE {{ <{STUDY}> ?p ?o }}"
DESCRIBE = f"CONSTRUCT {{ <{STUDY}> ?p ?o }} WHERE {{ <{STUDY}> ?p ?o }}"
AGGREGATE = ("PREFIX licn: <https://w3id.org/licn/ontology#> "
             "SELECT ?level (COUNT(?c) AS ?codings) (COUNT(DISTINCT ?e) AS ?entries) "
             "WHERE { ?c a licn:Coding ; licn:level ?level ; licn:citesEntry ?e } GROUP BY ?level ORDER BY ?level")
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
# Legal but heavy: a three-way cross join that no server finishes inside its time limit.
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
RESULTS_JSON = "application/sparql-results+json"
TURTLE = "text/turtle"
KINDS = ("dereference", "point", "aggregate")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _get(url: str, accept: str, timeout: float = 30.0, source: str | None = None) -> tuple[int, bytes]:
    """A GET on loopback; from the loopback address source if given (a client of its own to the server)."""
    assert url.startswith(f"http://{HOST}:"), url  # loopback only
    if source is not None:
        import http.client
        parts = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout, source_address=(source, 0))
        try:
            connection.request("GET", parts.path + "?" + parts.query, headers={"Accept": accept})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _get_retry(url: str, accept: str, tries: int = 3) -> tuple[int, bytes]:
    """One request, tried again after a connection error (a server may still be draining the
    connections wrk just dropped)."""
    for attempt in range(tries):
        try:
            return _get(url, accept, timeout=120)
        except (OSError, urllib.error.URLError):
            if attempt == tries - 1:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


class Server:
    """One server process on 127.0.0.1: how to start it and the URL of each kind of request."""

    def __init__(self, name: str, argv: list[str], port: int, urls: dict[str, tuple[str, str]],
                 env: dict | None = None, cwd: str | None = None, follow: tuple = ()):
        self.name, self.argv, self.port, self.urls, self.env, self.cwd = name, argv, port, urls, env, cwd
        self.follow = set(follow)  # kinds whose answer is a 303 to follow
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.TemporaryFile()
        self.start_s = None

    def start(self, ready_timeout: float) -> None:
        t = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT, env=self.env,
                                     cwd=self.cwd, start_new_session=True)
        url, accept = self.urls["point"]
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.output()[-2000:]}")
            try:
                status, body = _get(url, accept, timeout=5)
                if status == 200:
                    self.start_s = time.perf_counter() - t
                    return
                if 400 <= status < 500:
                    raise RuntimeError(f"{self.name} answers {status} to {url}: {body[:300]!r}")
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer within {ready_timeout:g} s: {self.output()[-2000:]}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the server's own process group only
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def _url(port: int, path: str, query: str | None = None) -> str:
    base = f"http://{HOST}:{port}{path}"
    return base + ("?" + urllib.parse.urlencode({"query": query}) if query else "")


def licn_server(bin_dir: Path, dist: Path) -> Server:
    port = free_port()
    # one server process per core, as Oxigraph uses every core; each runs its queries in its own sandbox
    return Server("licn serve", [str(bin_dir / "licn"), "serve", "--dist", str(dist), "--host", HOST, "--port", str(port),
                                 "--processes", str(os.cpu_count() or 1)],
                  port, {"dereference": (_url(port, "/id/study/ref-88"), TURTLE),
                         "point": (_url(port, "/sparql", POINT), RESULTS_JSON),
                         "aggregate": (_url(port, "/sparql", AGGREGATE), RESULTS_JSON),
                         "count": (_url(port, "/sparql", COUNT), RESULTS_JSON)},
                  follow=("dereference",))


def oxigraph_server(bin_dir: Path, dist: Path, location: Path) -> Server:
    if location.exists():
        shutil.rmtree(location)
    subprocess.run([str(bin_dir / "oxigraph"), "load", "--location", str(location), "--file", str(dist / "licn.nq")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
    # as its loader advises before a read-heavy workload
    subprocess.run([str(bin_dir / "oxigraph"), "optimize", "--location", str(location)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
    port = free_port()
    return Server("oxigraph serve-read-only", [str(bin_dir / "oxigraph"), "serve-read-only", "--location", str(location),
                                     "--bind", f"{HOST}:{port}", "--union-default-graph"],
                  port, {"dereference": (_url(port, "/query", DESCRIBE), TURTLE),
                         "point": (_url(port, "/query", POINT), RESULTS_JSON),
                         "aggregate": (_url(port, "/query", AGGREGATE), RESULTS_JSON),
                         "count": (_url(port, "/query", COUNT), RESULTS_JSON)})


def rdflib_endpoint_server(bin_dir: Path, dist: Path) -> Server:
    port = free_port()
    return Server("rdflib-endpoint", [str(bin_dir / "rdflib-endpoint"), "serve", str(dist / "licn.nq"),
                                      "--host", HOST, "--port", str(port)],
                  port, {"dereference": (_url(port, "/", DESCRIBE), TURTLE),
                         "point": (_url(port, "/", POINT), RESULTS_JSON),
                         "aggregate": (_url(port, "/", AGGREGATE), RESULTS_JSON),
                         "count": (_url(port, "/", COUNT), RESULTS_JSON)})


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def parse_wrk(text: str) -> dict:
    out = {"rps": None, "p50_ms": None, "p90_ms": None, "p99_ms": None, "requests": None, "errors": 0, "non_2xx": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        out["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_ms"), ("90", "p90_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        if m:
            out[key] = _ms(m.group(1))
    m = re.search(r"(\d+) requests in", text)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["errors"] = sum(int(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["non_2xx"] = int(m.group(1))
    return out


# A dereference is a 303 See Other and then the document it points to: this wrk script follows
# each 303 with a request for its Location and counts the documents served.
FOLLOW_303 = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) docs = 0; redirects = 0; other = 0; pending = {} end
function request()
  local path = table.remove(pending, 1)
  if path then return wrk.format("GET", path) end
  return wrk.format("GET", nil)
end
function response(status, headers, body)
  if status == 303 then
    redirects = redirects + 1
    table.insert(pending, headers["Location"] or headers["location"])
  elseif status == 200 then docs = docs + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local d, r, o = 0, 0, 0
  for _, t in ipairs(threads) do d = d + t:get("docs"); r = r + t:get("redirects"); o = o + t:get("other") end
  io.write(string.format("FOLLOWED docs=%d redirects=%d other=%d seconds=%.6f\\n", d, r, o, summary.duration / 1e6))
end
"""


def wrk(url: str, accept: str, seconds: float, connections: int = 16, threads: int = 2, follow: bool = False) -> dict:
    assert url.startswith(f"http://{HOST}:"), url  # loopback only
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "--latency",
            "-H", f"Accept: {accept}", url]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if follow:
            script.write(FOLLOW_303)
            script.flush()
            argv[1:1] = ["-s", script.name]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    result = parse_wrk(done.stdout)
    result["ok"] = (done.returncode == 0 and bool(result["rps"]) and bool(result["requests"])
                    and result["non_2xx"] == 0 and result["errors"] == 0)
    m = re.search(r"FOLLOWED docs=(\d+) redirects=(\d+) other=(\d+) seconds=([\d.]+)", done.stdout)
    if follow:
        if not m or int(m.group(3)) or not int(m.group(1)):
            result["ok"] = False
        else:
            # one dereference = the 303 and the document: count documents, not HTTP requests
            result["requests_per_s"] = result["rps"]
            result["rps"] = int(m.group(1)) / float(m.group(4))
            result["redirects"] = int(m.group(2))
    if not result["ok"]:
        result["output"] = (done.stdout + done.stderr)[-600:]
    return result


def bench_server(server: Server, seconds: float, repeats: int, ready_timeout: float, warmup: bool = True) -> dict:
    """Start, check every request once, run wrk `repeats` times per kind, stop (always)."""
    out = {"server": server.name, "kinds": {}}
    try:
        server.start(ready_timeout)
        out["start_s"] = server.start_s
        status, body = _get(*server.urls["count"])
        out["count_check"] = {"status": status, "body": body[:300].decode("utf-8", "replace")}
        def alive(before: str) -> None:
            """A server that died in the last run is noted and started again."""
            if server.proc.poll() is not None:
                out.setdefault("deaths", []).append({"before": before, "returncode": server.proc.returncode,
                                                     "output": server.output()[-1500:]})
                server.start(ready_timeout)

        for kind in KINDS:
            alive(kind)
            url, accept = server.urls[kind]
            status, body = _get_retry(url, accept)
            entry = {"status": status, "bytes": len(body), "runs": []}
            if status == 200 and body:
                follow = kind in server.follow
                if warmup:
                    wrk(url, accept, 1, connections=4, follow=follow)
                for _ in range(repeats):
                    time.sleep(0.2)
                    alive(kind)
                    run = wrk(url, accept, seconds, follow=follow)
                    time.sleep(0.2)
                    if not run["ok"] and server.proc.poll() is not None:  # died under the load: once more
                        alive(kind)
                        run = wrk(url, accept, seconds, follow=follow)
                    entry["runs"].append(run)
            else:
                entry["error"] = body[:300].decode("utf-8", "replace")
            out["kinds"][kind] = entry
        time.sleep(0.5)
        if server.proc.poll() is not None:
            out.setdefault("deaths", []).append({"before": "end", "returncode": server.proc.returncode,
                                                 "output": server.output()[-1500:]})
    except Exception as exc:  # a server that does not start is reported, the others still run
        out["error"] = f"{type(exc).__name__}: {exc}"[:1500]
    finally:
        server.stop()
    return out


# A lookup in form that is a cross product of one resource's statements: heavy in disguise.
FAKE_LOOKUP = ("SELECT * WHERE { " + " . ".join(f"<{STUDY}> ?p{n} ?o{n}" for n in range(6))
               + " FILTER(STRLEN(CONCAT(" + ", ".join(f"STR(?o{n})" for n in range(6)) + ")) < 0) }")


def light_under_heavy(server: Server, ready_timeout: float, heavy: int = 100, fake_clients: int = 20,
                      light: int = 200) -> dict:
    """p50/p99 of a light request (the point query, from 127.0.0.1) while `heavy` heavy queries are
    sent at once from one client (127.0.0.2), each on its own connection, and `fake_clients` clients
    (127.0.1.N) send fake lookups one after another; and what became of the heavy ones."""
    import concurrent.futures
    import threading

    out: dict = {"server": server.name, "heavy_sent": heavy, "fake_lookup_clients": fake_clients}
    try:
        server.start(ready_timeout)
        heavy_url, accept = server.urls["heavy"]
        fake_url = heavy_url.split("?")[0] + "?" + urllib.parse.urlencode({"query": FAKE_LOOKUP})
        statuses: list = []
        fakes: list = []
        stop = threading.Event()

        def send(url: str, source: str, into: list):
            try:
                into.append(_get(url, accept, timeout=60, source=source)[0])
            except (OSError, urllib.error.URLError) as exc:
                into.append(type(exc).__name__)

        def fake_client(source: str):
            while not stop.is_set():
                send(fake_url, source, fakes)
        pool = concurrent.futures.ThreadPoolExecutor(heavy + fake_clients)
        started = [pool.submit(send, heavy_url, "127.0.0.2", statuses) for _ in range(heavy)]
        for n in range(fake_clients):
            pool.submit(fake_client, f"127.0.1.{n + 1}")
        time.sleep(1.0)  # every heavy query has arrived
        url, accept = server.urls["point"]
        latencies, codes = [], []
        deadline = time.monotonic() + 60
        for _ in range(light):
            if time.monotonic() > deadline:
                break
            t = time.perf_counter()
            try:
                codes.append(_get(url, accept, timeout=30, source="127.0.0.1")[0])
            except (OSError, urllib.error.URLError) as exc:
                codes.append(type(exc).__name__)
            latencies.append((time.perf_counter() - t) * 1e3)
        heavy_pending = sum(not f.done() for f in started)
        stop.set()
        pool.shutdown(wait=True, cancel_futures=False)
        latencies.sort()
        out.update({
            "light_sent": len(latencies), "light_statuses": {str(c): codes.count(c) for c in set(codes)},
            "p50_ms": latencies[len(latencies) // 2] if latencies else None,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None,
            "max_ms": latencies[-1] if latencies else None,
            "heavy_still_waiting_after_light": heavy_pending,
            "heavy_statuses": {str(c): statuses.count(c) for c in set(statuses)},
            "fake_lookup_statuses": {str(c): fakes.count(c) for c in set(fakes)}})
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"[:1500]
    finally:
        server.stop()
    return out


def run_latency_bench(dist: Path, work: Path, ready_timeout: float = 300.0) -> dict:
    """light_under_heavy on `licn serve` (default workers) and on `oxigraph serve` with the same 10 s limit."""
    bin_dir = Path(sys.executable).parent
    port = free_port()
    licn = Server("licn serve", [str(bin_dir / "licn"), "serve", "--dist", str(dist), "--host", HOST, "--port", str(port)],
                  port, {"point": (_url(port, "/sparql", POINT), RESULTS_JSON),
                         "heavy": (_url(port, "/sparql", HEAVY), RESULTS_JSON)})
    result = {"licn": light_under_heavy(licn, ready_timeout)}
    ox_server = oxigraph_server(bin_dir, dist, work / "oxigraph-db")
    ox_server.argv += ["--timeout-s", "10"]
    ox_server.urls["heavy"] = (_url(ox_server.port, "/query", HEAVY), RESULTS_JSON)
    result["oxigraph"] = light_under_heavy(ox_server, ready_timeout)
    return result


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run_serve_bench(dist: Path, work: Path, seconds: float, repeats: int, peers: bool = True,
                    ready_timeout: float = 300.0, warmup: bool = True) -> dict:
    bin_dir = Path(sys.executable).parent
    result: dict = {"dist": str(dist), "seconds": seconds, "repeats": repeats, "concurrency": 16, "warmup": warmup,
                    "servers": {}}
    if not have_wrk():
        result["skipped"] = "wrk is not installed (apt-get install wrk)"
        return result
    root = Path(__file__).resolve().parents[1]
    if not (root / "licn" / "serve" / "app.py").exists():
        result["skipped_licn"] = "licn/serve/app.py does not exist: `licn serve` could not be measured"
    else:
        result["servers"]["licn"] = bench_server(licn_server(bin_dir, dist), seconds, repeats, ready_timeout, warmup)
    if peers:
        result["servers"]["oxigraph"] = bench_server(oxigraph_server(bin_dir, dist, work / "oxigraph-db"), seconds,
                                                     repeats, ready_timeout, warmup)
        if (bin_dir / "rdflib-endpoint").exists():
            result["servers"]["rdflib-endpoint"] = bench_server(rdflib_endpoint_server(bin_dir, dist), seconds,
                                                                repeats, ready_timeout, warmup)
        else:
            result["skipped_rdflib_endpoint"] = "rdflib-endpoint is not installed (pip install -e '.[bench]')"
    return result
