"""What the benchmark runs in a fresh process, one measurement per process, answering in JSON on
the last line of stdout. The parent measures wall time and peak memory (os.wait4) from outside.

    python -m bench.child build DATA_DIR OUT_DIR
    python -m bench.child queries DIST_DIR ENGINE REPEATS TIMEOUT_S
"""
from __future__ import annotations

import json
import resource
import signal
import statistics
import sys
import time

T0 = time.perf_counter()


def _timed(phases: dict, name: str, func):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - t
    return wrapper


def build(data_dir: str, out_dir: str) -> dict:
    from pathlib import Path

    import licn.build as b
    imported = time.perf_counter() - T0
    steps: dict[str, float] = {}
    # Finer steps than BuildResult.phases: each function build() calls, timed where it is looked up.
    for name in ("load_layers", "ontology_triples", "catalogue_triples", "make_dataset", "union_graph",
                 "validate_graph", "run_checks", "write_dumps", "void_graph", "write_extras"):
        if hasattr(b, name):
            setattr(b, name, _timed(steps, name, getattr(b, name)))
    t = time.perf_counter()
    result = b.build(Path(out_dir), Path(data_dir))
    total = time.perf_counter() - t
    return {"import_s": imported, "build_s": total, "phases": dict(result.phases), "steps": steps,
            "triples": result.triples, "studies": result.studies, "codings": result.codings,
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


class _Timeout(BaseException):
    """Not an Exception, so that no `except Exception` on the way can swallow it."""


def _alarm(signum, frame):
    raise _Timeout()


def queries(dist: str, engine: str, repeats: int, timeout_s: float) -> dict:
    """Every stored query with its default parameters: the time to load the store, then the
    median, min and max of `repeats` runs per query (a query over the time limit is cut off)."""
    from pathlib import Path

    from licn import catalogue
    imported = time.perf_counter() - T0
    queries_ = catalogue.load_catalogue()
    dist_path = Path(dist)
    t = time.perf_counter()
    if engine == "oxigraph":
        store = catalogue.oxigraph_store(dist_path)
        rows = len(store)
    else:
        path = dist_path / "licn.nq"
        ds = catalogue._rdflib_dataset(str(path), path.stat().st_mtime)
        rows = len(ds)
    load_s = time.perf_counter() - t
    signal.signal(signal.SIGALRM, _alarm)
    out = {}
    for name in queries_:
        times, n_rows, error = [], None, None
        for _ in range(repeats):
            signal.setitimer(signal.ITIMER_REAL, timeout_s)
            t = time.perf_counter()
            try:
                result = catalogue.run(name, engine=engine, dist=dist_path, catalogue=queries_)
                times.append(time.perf_counter() - t)
                n_rows = len(result.rows)
            except _Timeout:
                error = f"over {timeout_s:g} s"
                break
            except Exception as exc:  # a query an engine refuses is reported, not fatal
                error = f"{type(exc).__name__}: {exc}"[:200]
                break
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        out[name] = {"median": statistics.median(times) if times else None, "min": min(times) if times else None,
                     "max": max(times) if times else None, "runs": len(times), "rows": n_rows, "error": error}
    return {"engine": engine, "import_s": imported, "load_s": load_s, "store_size": rows, "queries": out,
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def main(argv: list[str]) -> int:
    if argv[:1] == ["build"] and len(argv) == 3:
        result = build(argv[1], argv[2])
    elif argv[:1] == ["queries"] and len(argv) == 5:
        result = queries(argv[1], argv[2], int(argv[3]), float(argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
