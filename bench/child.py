"""What the benchmark runs in a fresh process, one measurement per process, answering in JSON on
the last line of stdout. The parent measures wall time and peak memory (os.wait4) from outside.

    python -m bench.child build DATA_DIR OUT_DIR
    python -m bench.child queries DIST_DIR ENGINE REPEATS TIMEOUT_S [SKIP,NAMES]
    python -m bench.child load NQ_FILE [--disk]
    python -m bench.child dumps NQ_FILE
"""
from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

T0 = time.perf_counter()
LONG_QUERY_S = 5.0


def _timed(phases: dict, name: str, func):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - t
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            sys.stderr.write(f"STEP {name} {phases[name]:.3f} s, at {time.perf_counter() - T0:.1f} s, peak {rss:.0f} MB\n")
            sys.stderr.flush()
    return wrapper


def build(data_dir: str, out_dir: str, site: bool = True) -> dict:
    from pathlib import Path

    import licn.build as b
    imported = time.perf_counter() - T0
    steps: dict[str, float] = {}
    # Finer steps than BuildResult.phases: each function build() calls, timed where it is looked up.
    for name in ("collect_layers", "ontology_triples", "catalogue_triples", "build_store", "shared_triples",
                 "validate_store", "run_checks", "write_dumps", "void_graph", "write_exports"):
        if hasattr(b, name):
            setattr(b, name, _timed(steps, name, getattr(b, name)))
    t = time.perf_counter()
    result = b.build(Path(out_dir), Path(data_dir), site=site)
    total = time.perf_counter() - t
    return {"import_s": imported, "build_s": total, "phases": dict(result.phases), "steps": steps,
            "triples": result.triples, "studies": result.studies, "codings": result.codings,
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def queries(dist: str, engine: str, repeats: int, timeout_s: float, skip: set[str]) -> dict:
    """Every stored query with its default parameters: the time to load the store, then the
    median, min and max of `repeats` runs per query. Each query runs in a thread; one that is
    still running after timeout_s ends this process (neither engine can be interrupted), after its
    line is printed, and the parent starts a new process for the queries left. One JSON line per
    query ("Q ..."), one for the store ("L ...")."""
    import os
    import threading
    from pathlib import Path

    from licn.query import catalogue, engines
    imported = time.perf_counter() - T0
    queries_ = catalogue.load_catalogue()
    dist_path = Path(dist)
    t = time.perf_counter()
    if engine == "oxigraph":
        size = len(engines.oxigraph_store(dist_path))
    else:
        path = dist_path / "licn.nq"
        size = len(engines.rdflib_dataset(path))
    load_s = time.perf_counter() - t
    _line("L", {"engine": engine, "import_s": imported, "load_s": load_s, "store_size": size})
    for name in queries_:
        if name in skip:
            continue
        times, box = [], {}
        for _ in range(repeats):
            def work():
                try:
                    box["rows"] = len(engines.run(name, engine=engine, dist=dist_path, catalogue=queries_).rows)
                except Exception as exc:  # a query an engine refuses is reported, not fatal
                    box["error"] = f"{type(exc).__name__}: {exc}"[:200]
            t = time.perf_counter()
            worker = threading.Thread(target=work, daemon=True)
            worker.start()
            worker.join(timeout_s)
            if worker.is_alive():
                _line("Q", {"name": name, "times": times, "rows": None, "error": f"over {timeout_s:g} s"})
                sys.stdout.flush()
                os._exit(3)
            if "error" in box:
                break
            times.append(time.perf_counter() - t)
            if times[-1] > LONG_QUERY_S:  # one run of a query this slow is enough
                break
        _line("Q", {"name": name, "times": times, "rows": box.get("rows"), "error": box.get("error")})
    _line("M", {"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})
    return {}


def load(nq: str, disk: bool = False) -> dict:
    """The engine alone, as a yardstick for the build's stages: pyoxigraph's own loader filling a store
    (in memory, or on RocksDB with disk) from N-Quads, one SPARQL count over it, and its N-Quads writer."""
    import os
    import tempfile

    import pyoxigraph as ox
    with tempfile.TemporaryDirectory(dir=os.path.dirname(nq)) as tmp:
        t = time.perf_counter()
        store = ox.Store(os.path.join(tmp, "db") if disk else None)
        store.bulk_load(path=nq, format=ox.RdfFormat.N_QUADS)
        store.flush()
        loaded = time.perf_counter()
        next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")))
        counted = time.perf_counter()
        store.dump(os.path.join(tmp, "dump.nq"), format=ox.RdfFormat.N_QUADS)
        return {"load_s": loaded - t, "count_s": counted - loaded, "dump_s": time.perf_counter() - counted}


def dumps(nq: str) -> dict:
    """The build's write_dumps alone, in a process of its own: the store is filled from N-Quads first
    (not timed), then every dump is written into a temporary folder, with nothing running beside it."""
    import os
    import tempfile

    import pyoxigraph as ox

    from licn.dumps import write_dumps
    store = ox.Store()
    store.bulk_load(path=nq, format=ox.RdfFormat.N_QUADS)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(nq)) as tmp:
        t = time.perf_counter()
        write_dumps(store, Path(tmp))
        return {"write_dumps_s": time.perf_counter() - t}


def _line(kind: str, data: dict) -> None:
    sys.stdout.write(f"{kind} {json.dumps(data)}\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    if argv[:1] == ["build"] and len(argv) in (3, 4) and argv[3:] in ([], ["--no-site"]):
        result = build(argv[1], argv[2], site=argv[3:] != ["--no-site"])
    elif argv[:1] == ["queries"] and len(argv) in (5, 6):
        queries(argv[1], argv[2], int(argv[3]), float(argv[4]), set(argv[5].split(",")) if len(argv) == 6 else set())
        return 0
    elif argv[:1] == ["dumps"] and len(argv) == 2:
        result = dumps(argv[1])
    elif argv[:1] == ["load"] and len(argv) in (2, 3) and argv[2:] in ([], ["--disk"]):
        result = load(argv[1], disk=argv[2:] == ["--disk"])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
