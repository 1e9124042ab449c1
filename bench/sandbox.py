"""The sandbox's targets, measured side by side on the real data (`make bench-sandbox`, writes
bench/SANDBOX.md): a light lookup's latency while 100 heavy queries and 20 clients of fake lookups
are sent, on `licn serve` and on `oxigraph serve-read-only --timeout-s 10`; and the memory of the
server process through 3,000 distinct 1 MB queries."""
from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path

from .run import machine
from .serve import HOST, RESULTS_JSON, Server, free_port, run_latency_bench, _url, POINT
from .run import ROOT, WORK
from .targets import versions

QUERIES = 3000
QUERY_BYTES = 1_000_000


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) * 1024


def memory_through_large_queries(dist: Path, count: int = QUERIES) -> dict:
    """The server process's resident memory before, during (the most seen) and after `count`
    distinct POSTed queries of about 1 MB each."""
    port = free_port()
    server = Server("licn serve", [str(Path(sys.executable).parent / "licn"), "serve", "--dist", str(dist),
                                   "--host", HOST, "--port", str(port)], port, {"point": (_url(port, "/sparql", POINT), RESULTS_JSON)})
    server.start(300)
    try:
        padding = "#" + "x" * (QUERY_BYTES - 100) + "\n"
        before = _rss(server.proc.pid)
        most, statuses, started = before, {}, time.perf_counter()
        for n in range(count):
            body = f"{padding}ASK {{ ?s ?p {n} }}".encode()
            request = urllib.request.Request(f"http://{HOST}:{port}/sparql", data=body, headers={
                "Content-Type": "application/sparql-query", "Accept": RESULTS_JSON})
            with urllib.request.urlopen(request, timeout=60) as response:
                statuses[response.status] = statuses.get(response.status, 0) + 1
            if n % 50 == 0:
                most = max(most, _rss(server.proc.pid))
        after = _rss(server.proc.pid)
        return {"queries": count, "query_bytes": QUERY_BYTES, "statuses": statuses, "seconds": time.perf_counter() - started,
                "rss_before_mb": before / 2**20, "rss_most_mb": max(most, after) / 2**20, "rss_after_mb": after / 2**20}
    finally:
        server.stop()


def markdown(r: dict) -> str:
    m = r["machine"]
    lines = ["# The query sandbox, measured", "",
             f"Run {r['started']} on {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, Linux {m['kernel']} "
             f"(commit {m['commit']}); the machine is shared and noisy. Versions: "
             + ", ".join(f"{k} {v}" for k, v in r["versions"].items()) + ".", "",
             "## A light lookup while 100 heavy queries and 20 clients of fake lookups are sent", "",
             "The light lookup is the point query, sent 200 times in a row from 127.0.0.1; the heavy queries "
             "(a three-way cross join) are sent at once from 127.0.0.2; each fake-lookup client (127.0.1.N) "
             "sends a cross product of one study's statements in disguise, one after another.", "",
             "| server | light answered | p50 | p99 | max | heavy | fake lookups |", "|---|---|---:|---:|---:|---|---|"]
    for e in r["latency"].values():
        if "error" in e:
            lines.append(f"| {e['server']} | error: {e['error'][:200]} | | | | | |")
            continue
        lines.append(f"| {e['server']} | {e['light_statuses']} of {e['light_sent']} | {e['p50_ms']:.0f} ms | "
                     f"{e['p99_ms']:.0f} ms | {e['max_ms']:.0f} ms | {e['heavy_statuses']} | {e['fake_lookup_statuses']} |")
    m = r["memory"]
    lines += ["", "## The server process's memory through distinct large queries", "",
              f"{m['queries']:,} distinct POSTed queries of {m['query_bytes']:,} bytes (answers {m['statuses']}), "
              f"{m['seconds']:.0f} s: resident memory {m['rss_before_mb']:.0f} MB before, at most "
              f"{m['rss_most_mb']:.0f} MB, {m['rss_after_mb']:.0f} MB after.", ""]
    return "\n".join(lines)


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    dist = ROOT / "dist"
    results = {"machine": machine(), "versions": versions(), "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print("a light lookup under heavy queries and fake lookups: licn serve, oxigraph serve-read-only", flush=True)
    results["latency"] = run_latency_bench(dist, WORK)
    print(f"the server's memory through {QUERIES:,} distinct 1 MB queries", flush=True)
    results["memory"] = memory_through_large_queries(dist)
    (WORK / "sandbox.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    (ROOT / "bench" / "SANDBOX.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
