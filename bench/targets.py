"""The targets of the engine rework, measured side by side in one run and written to bench/RESULTS.md:
real-data builds beside `oxigraph convert` of the same quads, synthetic builds with validation and
their growth per 10x, `licn serve` beside `oxigraph serve` and rdflib-endpoint under wrk, a light
request while 100 heavy queries are sent, and a poller reading dist/licn.nq through 100 rebuilds.

    python -m bench.targets                 about 30 minutes on 2 cores
    python -m bench.targets --large         the 10^5 build too (about 20 minutes and 20 GB more)
    python -m bench.targets --sizes 1000    only the synthetic builds of these sizes

Every server started here is stopped before the run ends, also when it is interrupted."""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

from . import synth
from .report import serve_ratios
from .run import BIN, ROOT, WORK, machine, run_child
from .serve import run_latency_bench, run_serve_bench

PACKAGES = ("pyoxigraph", "oxigraph", "rdflib", "pyshacl-turbo", "pyshacl", "uvicorn", "starlette", "httptools",
            "rdflib-endpoint")


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    wrk = shutil.which("wrk")
    found["wrk"] = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split("\n")[0] if wrk else "-"
    return found


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def real_builds(runs: int) -> dict:
    """`licn build --no-site` and `licn build` on the real data, each a new process, with
    `oxigraph convert` of the same N-Quads (to N-Quads) as the yardstick, interleaved."""
    out = WORK / "targets-real"
    data_only, whole, convert = [], [], []
    for _ in range(runs):
        r = run_child([str(BIN / "licn"), "build", "--no-site", "--out", str(out)], 600)
        data_only.append(r["wall_s"] if r["rc"] == 0 else None)
        r = run_child([str(BIN / "oxigraph"), "convert", "--from-file", str(out / "licn.nq"),
                       "--to-file", str(WORK / "targets-convert.nq")], 600)
        convert.append(r["wall_s"] if r["rc"] == 0 else None)
    for _ in range(max(1, runs // 2)):
        r = run_child([str(BIN / "licn"), "build", "--out", str(out)], 900)
        whole.append(r["wall_s"] if r["rc"] == 0 else None)
    return {"no_site_s": data_only, "build_s": whole, "convert_s": convert,
            "ratio": (median(data_only) / median(convert)) if median(data_only) and median(convert) else None}


def synthetic_build(n: int, timeout_s: float) -> dict:
    """The data build (loaders, store, SHACL, checks, dumps, VoID, exports) of n synthetic studies."""
    data_dir = WORK / f"synth-{n}"
    if not (data_dir / "sources.csv").exists():
        synth.generate(n, data_dir)
    r = run_child([sys.executable, "-m", "bench.child", "build", str(data_dir), str(WORK / f"dist-{n}"), "--no-site"],
                  timeout_s)
    entry = {"wall_s": r["wall_s"], "peak_group_mb": r["peak_group_mb"], "largest_process_mb": r["maxrss_mb"],
             "rc": r["rc"]}
    if r["data"] is None:
        entry["error"] = r["stderr"][-1500:]
        return entry
    entry.update(steps=r["data"]["steps"], phases=r["data"]["phases"], triples=r["data"]["triples"])
    # the SHACL step runs in a forked process: its time comes from the STEP line it writes
    for line in r["stderr"].splitlines():
        if line.startswith("STEP validate_store "):
            entry["steps"]["validate_store (beside)"] = float(line.split()[2])
    return entry


def engine_yardsticks(dist: Path) -> dict:
    """The engines alone on a synthetic build's dumps, the yardstick for how its stages grow: Oxigraph
    streaming N-Quads to N-Quads and N-Triples to Turtle, coreutils sorting the N-Quads, pyoxigraph
    loading them into a store (in memory, as the build does, and on RocksDB), counting them in SPARQL
    and writing them out."""
    found = {}
    for label, argv in (
            ("oxigraph convert licn.nq -> N-Quads", [str(BIN / "oxigraph"), "convert", "--from-file",
                                                     str(dist / "licn.nq"), "--to-file", str(WORK / "yardstick.nq")]),
            ("oxigraph convert licn.nt -> Turtle", [str(BIN / "oxigraph"), "convert", "--from-file",
                                                    str(dist / "licn.nt"), "--to-file", str(WORK / "yardstick.ttl")]),
            ("sort -u licn.nq (coreutils)", ["env", "LC_ALL=C", "sort", "--unique", "--buffer-size=512M",
                                             f"--temporary-directory={WORK}", f"--output={WORK / 'yardstick.nq'}",
                                             str(dist / "licn.nq")])):
        r = run_child(argv, 1800)
        found[label] = r["wall_s"] if r["rc"] == 0 else None
    for where, flags in (("in memory", []), ("on RocksDB", ["--disk"])):
        r = run_child([sys.executable, "-m", "bench.child", "load", str(dist / "licn.nq"), *flags], 1800)
        if r["data"]:
            found[f"pyoxigraph bulk_load of licn.nq ({where})"] = r["data"]["load_s"]
            found[f"pyoxigraph COUNT(*) over it ({where})"] = r["data"]["count_s"]
            found[f"pyoxigraph dump to N-Quads ({where})"] = r["data"]["dump_s"]
    for leftover in ("yardstick.nq", "yardstick.ttl"):
        (WORK / leftover).unlink(missing_ok=True)
    return found


def poll_rebuilds(rebuilds: int) -> dict:
    """A reader opening dist/licn.nq as fast as it can while `licn build --no-site` runs again and again."""
    out = WORK / "targets-poll" / "dist"
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BIN / "licn"), "build", "--no-site", "--out", str(out)], check=True, capture_output=True)
    stop, polls, misses = threading.Event(), [0], []

    def reader():
        while not stop.is_set():
            try:
                with open(out / "licn.nq", "rb") as f:
                    if not f.read(64):
                        misses.append("empty")
            except OSError as exc:
                misses.append(type(exc).__name__)
            polls[0] += 1
    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    failed = 0
    try:
        for _ in range(rebuilds):
            failed += subprocess.run([str(BIN / "licn"), "build", "--no-site", "--out", str(out)],
                                     capture_output=True).returncode != 0
    finally:
        stop.set()
        thread.join(5)
    return {"rebuilds": rebuilds, "failed_builds": failed, "polls": polls[0], "misses": len(misses),
            "miss_kinds": sorted(set(misses))}


def growth(small: dict, large: dict) -> dict:
    engines = {k: large["engines"][k] / small["engines"][k] for k in large.get("engines", {})
               if small.get("engines", {}).get(k) and small["engines"][k] > 0.05 and large["engines"][k]}
    steps = {f"engine alone: {k}": v for k, v in engines.items()}
    steps.update({k: large["steps"][k] / small["steps"][k] for k in large.get("steps", {})
                  if small.get("steps", {}).get(k) and small["steps"][k] > 0.05})
    steps["whole build (wall)"] = large["wall_s"] / small["wall_s"]
    return steps


def _s(v) -> str:
    return "-" if v is None else (f"{v:.2f} s" if v < 100 else f"{v:.0f} s")


def _mb(v) -> str:
    return "-" if v is None else f"{v:,.0f} MB"


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "**missed**")


def target_rows(r: dict) -> list[tuple[str, str, str]]:
    rows = []
    real = r.get("real", {})
    no_site = median(real.get("no_site_s", []))
    rows.append(("real-data `licn build --no-site` <= 1.0 s (cold process, median)", _s(no_site),
                 _verdict(None if no_site is None else no_site <= 1.0)))
    ratio = real.get("ratio")
    rows.append(("... and <= 25x `oxigraph convert` of the same quads", "-" if ratio is None else f"{ratio:.1f}x",
                 _verdict(None if ratio is None else ratio <= 25)))
    for n, seconds, mb in (("10000", 60, 2048), ("100000", 600, 8192)):
        b = r.get("synthetic", {}).get(n)
        if b and "error" not in b:
            rows.append((f"{int(n):,} studies built and validated in <= {seconds} s", _s(b["wall_s"]),
                         _verdict(b["wall_s"] <= seconds)))
            rows.append((f"... with <= {mb // 1024} GB peak (PSS of every process of the build)",
                         _mb(b["peak_group_mb"]), _verdict(b["peak_group_mb"] <= mb)))
        else:
            rows.append((f"{int(n):,} studies built and validated", "not run" if not b else "failed", _verdict(None)))
    for step, grew in sorted((f"{span}: {k}", v) for span, g in r.get("growth", {}).items() for k, v in g.items()
                             if not k.startswith("engine alone: ")):
        rows.append((f"stage growth per 10x <= 12x ({step})", f"{grew:.1f}x", _verdict(grew <= 12)))
    ratios = r.get("serve", {}).get("ratios", {})
    for kind, floor in (("point", 0.25), ("aggregate", 0.80), ("dereference", None)):
        k = ratios.get(kind, {})
        if floor is not None:
            v = k.get("vs_oxigraph")
            rows.append((f"uncached serving >= {floor:.0%} of Oxigraph's requests/s ({kind})",
                         "-" if v is None else f"{v:.0%}", _verdict(None if v is None else v >= floor)))
        v = k.get("vs_rdflib_endpoint")
        rows.append((f"uncached serving >= 6x rdflib-endpoint ({kind})", "-" if v is None else f"{v:.1f}x",
                     _verdict(None if v is None else v >= 6)))
    light = r.get("latency", {}).get("licn", {})
    p99 = light.get("p99_ms")
    rows.append(("light request p99 <= 200 ms with 100 heavy queries sent", "-" if p99 is None else f"{p99:.0f} ms",
                 _verdict(None if p99 is None else p99 <= 200 and set(light.get("light_statuses", {})) == {"200"})))
    poll = r.get("poll", {})
    rows.append(("a poller sees dist/licn.nq in every poll through 100 rebuilds",
                 f"{poll.get('misses', '-')} misses in {poll.get('polls', '-'):,} polls" if poll else "-",
                 _verdict(None if not poll else poll["misses"] == 0 and poll["failed_builds"] == 0)))
    return rows


def markdown(r: dict) -> str:
    m, v = r["machine"], r["versions"]
    out = ["# LICN-KG benchmark results", "",
           f"`python -m bench.targets` ({'with' if '100000' in r.get('synthetic', {}) else 'without'} `--large`), "
           f"started {r['started']} on {m.get('cores')} cores ({m.get('cpu', '')}), {m.get('memory_gb')} GB. "
           "The machine is shared and noisy (about +-20 % between runs); every figure below comes from this one run "
           "unless a row says otherwise. Answers are not cached anywhere: every serving figure is uncached. "
           "`bench/notes.md` says what the numbers mean and why the missed ones are missed.", "",
           "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()), "",
           "## Targets", "", "| target | measured | verdict |", "|---|---:|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in target_rows(r)]
    real = r.get("real", {})
    out += ["", "## Real data", "", "Each run a new process; `oxigraph convert` turns the build's `licn.nq` into "
            "N-Quads again (the yardstick: reading and writing the same quads in Rust, no validation).", "",
            "| command | runs (s) | median |", "|---|---|---:|"]
    for label, key in (("`licn build --no-site`", "no_site_s"), ("`oxigraph convert licn.nq -> .nt`", "convert_s"),
                       ("`licn build` (with figures and site)", "build_s")):
        runs = real.get(key, [])
        out.append(f"| {label} | {', '.join('-' if x is None else f'{x:.2f}' for x in runs)} | {_s(median(runs))} |")
    out += ["", "## Synthetic data builds (`--no-site`: loaders, store, SHACL, checks, dumps, VoID, exports)", "",
            "SHACL (pyshacl-turbo) runs in a forked process beside the checks and the dumps; its time is its own "
            "step, the wall time is the build's. Peak memory is the sum of the proportional set sizes of every "
            "process of the build, sampled every 0.2 s (the largest single process in brackets).", ""]
    synth_rows = r.get("synthetic", {})
    names = sorted({k for b in synth_rows.values() for k in b.get("steps", {})})
    out += ["| step | " + " | ".join(f"{int(n):,}" for n in synth_rows) + " |", "|---|" + "---:|" * len(synth_rows)]
    for name in names:
        out.append(f"| {name} | " + " | ".join(_s(b.get("steps", {}).get(name)) for b in synth_rows.values()) + " |")
    out.append("| **wall** | " + " | ".join(_s(b.get("wall_s")) for b in synth_rows.values()) + " |")
    out.append("| **peak memory** | " + " | ".join(f"{_mb(b.get('peak_group_mb'))} ({_mb(b.get('largest_process_mb'))})"
                                                  for b in synth_rows.values()) + " |")
    out.append("| triples | " + " | ".join(f"{b.get('triples', 0):,}" for b in synth_rows.values()) + " |")
    engines = sorted({k for b in synth_rows.values() for k in b.get("engines", {})})
    if engines:
        spans = list(r.get("growth", {}))
        out += ["", "The engines alone on the same dumps, the yardstick for the stages' growth (each a new process, "
                "right after the build of that size), with their growth per 10x:", "",
                "| engine alone | " + " | ".join(f"{int(n):,}" for n in synth_rows) + " | "
                + " | ".join(f"growth {s}" for s in spans) + " |",
                "|---|" + "---:|" * (len(synth_rows) + len(spans))]
        for name in engines:
            grew = [r["growth"][s].get(f"engine alone: {name}") for s in spans]
            out.append(f"| {name} | " + " | ".join(_s(b.get("engines", {}).get(name)) for b in synth_rows.values())
                       + " | " + " | ".join("-" if g is None else f"{g:.1f}x" for g in grew) + " |")
    notes = [f"{int(n):,}: {b['note']}" for n, b in synth_rows.items() if b.get("note")]
    out += [""] + [f"Note: {n}" for n in notes] + ([""] if notes else [])
    serve = r.get("serve", {})
    if serve:
        out += ["## Serving under wrk (16 connections, 2 threads, 5 s, median of 3)", "",
                "licn: `licn serve --processes 2` (one server process per core, each running every query in a "
                "process of its own, forked from its sandbox); Oxigraph: `oxigraph serve-read-only "
                "--union-default-graph` on an optimised RocksDB store; rdflib-endpoint: `rdflib-endpoint serve "
                "licn.nq`. *dereference* is a study's 303 and its Turtle document for licn, the equivalent "
                "CONSTRUCT for the others; *point* is `SELECT ?p ?o WHERE { <study> ?p ?o }`; *aggregate* counts "
                "codings and entries per level with GROUP BY.", "",
                "| request | licn | Oxigraph | rdflib-endpoint | licn / Oxigraph | licn / rdflib-endpoint |",
                "|---|---:|---:|---:|---:|---:|"]
        for kind, k in serve.get("ratios", {}).items():
            rps = k["rps"]
            cell = ["-" if rps.get(s) is None else f"{rps[s]:,.0f}/s" for s in ("licn", "oxigraph", "rdflib-endpoint")]
            a, b = k.get("vs_oxigraph"), k.get("vs_rdflib_endpoint")
            out.append(f"| {kind} | {' | '.join(cell)} | {'-' if a is None else f'{a:.0%}'} | "
                       f"{'-' if b is None else f'{b:.1f}x'} |")
        out.append("")
    latency = r.get("latency", {})
    if latency:
        out += ["## A light request while 100 heavy queries are sent", "",
                "100 three-way cross joins (no server finishes one inside 10 s) are sent at once, each on its own "
                "connection; a second later 200 point queries are sent one after another. licn runs with its "
                "defaults (2 general workers, a bounded queue, a 10 s deadline counting the wait, and the lookup "
                "worker); Oxigraph with `--timeout-s 10`.", "",
                "| server | light p50 | light p99 | light max | light answers | heavy answers |", "|---|---:|---:|---:|---|---|"]
        for name, e in latency.items():
            if "error" in e:
                out.append(f"| {name} | failed: {e['error'][:200]} | | | | |")
                continue
            out.append(f"| {name} | {e['p50_ms']:.0f} ms | {e['p99_ms']:.0f} ms | {e['max_ms']:.0f} ms | "
                       f"{e['light_statuses']} | {e['heavy_statuses']} |")
        out.append("")
    poll = r.get("poll")
    if poll:
        out += ["## Atomic publication", "", f"{poll['rebuilds']} rebuilds of `licn build --no-site` in a row "
                f"({poll['failed_builds']} failed) while a thread opened and read `dist/licn.nq` {poll['polls']:,} times: "
                f"{poll['misses']} misses.", ""]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.targets")
    parser.add_argument("--large", action="store_true", help="also build 10^5 synthetic studies")
    parser.add_argument("--sizes", help="comma-separated synthetic sizes (default 1000,10000)")
    parser.add_argument("--runs", type=int, default=5, help="cold real-data builds")
    parser.add_argument("--out", default=str(WORK / "targets.json"))
    parser.add_argument("--report-only", action="store_true", help="write bench/RESULTS.md again from --out")
    args = parser.parse_args(argv)
    if args.report_only:
        (ROOT / "bench" / "RESULTS.md").write_text(markdown(json.loads(Path(args.out).read_text())), encoding="utf-8")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    sizes = [int(n) for n in (args.sizes or "1000,10000").split(",")] + ([100_000] if args.large else [])
    results: dict = {"machine": machine(), "versions": versions(), "started": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                                         time.gmtime())}

    def save():
        Path(args.out).write_text(json.dumps(results, indent=1), encoding="utf-8")

    print("real-data builds beside oxigraph convert", flush=True)
    results["real"] = real_builds(args.runs)
    save()
    results["synthetic"] = {}
    for n in sizes:
        print(f"data build of {n:,} synthetic studies", flush=True)
        results["synthetic"][str(n)] = built = synthetic_build(n, 3600)
        if "error" not in built:
            print(f"the engines alone on the dumps of {n:,} studies", flush=True)
            built["engines"] = engine_yardsticks(WORK / f"dist-{n}")
        save()
    dist = (WORK / "targets-real").resolve()
    print("serving under wrk: licn serve, oxigraph serve, rdflib-endpoint", flush=True)
    serve = run_serve_bench(dist, WORK, seconds=5, repeats=3, peers=True)
    results["serve"] = {"raw": serve, "ratios": serve_ratios(serve)}
    save()
    print("a light request while 100 heavy queries are sent", flush=True)
    results["latency"] = run_latency_bench(dist, WORK)
    save()
    print("a poller through 100 rebuilds", flush=True)
    results["poll"] = poll_rebuilds(100)
    save()
    earlier = WORK / "targets-100000-earlier.json"
    if "100000" not in results["synthetic"] and earlier.exists():
        results["synthetic"]["100000"] = json.loads(earlier.read_text(encoding="utf-8"))
    built = sorted(int(n) for n, b in results["synthetic"].items() if "error" not in b)
    results["growth"] = {f"{a}->{b}": growth(results["synthetic"][str(a)], results["synthetic"][str(b)])
                         for a, b in zip(built, built[1:]) if b == a * 10}
    save()
    (ROOT / "bench" / "RESULTS.md").write_text(markdown(results), encoding="utf-8")
    print("\n".join(f"{a}: {b} ({c})" for a, b, c in target_rows(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
