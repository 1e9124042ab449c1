"""The targets of the fast-loops work, measured side by side in one run and written to bench/RESULTS.md:
the real data's whole build (clean, and incremental after one study is added) beside `oxigraph convert`
of the same quads; whole builds with the site of 1,000 and 10,000 synthetic studies; the data build of
10^5 studies with its dumps beside the engines writing the same formats from the same quads; `licn
serve` beside `oxigraph serve-read-only` and rdflib-endpoint, every query sandboxed; and the wall time
of `make test`.

    python -m bench.targets                 about 30 minutes on 2 cores
    python -m bench.targets --large         the 10^5 data build too (about 10 minutes and 10 GB more)
    python -m bench.targets --sizes 1000    only the synthetic builds of these sizes
    python -m bench.targets --no-tests      without `make test`

Every server started here is stopped before the run ends, also when it is interrupted."""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from licn.progress import Stages

from . import synth
from .report import serve_ratios
from .run import BIN, ROOT, WORK, machine, run_child
from .serve import run_latency_bench, run_serve_bench

sys.path.insert(0, str(ROOT / "tests"))
from test_add_a_study import BIBTEX, CODINGS, code_twice  # the README's example study

PACKAGES = ("pyoxigraph", "oxigraph", "rdflib", "pyshacl-turbo", "jinja2", "uvicorn", "starlette", "httptools",
            "rdflib-endpoint", "pytest", "pytest-xdist")
# The dumps the build writes, and how the engines alone write the same format from the same quads.
DUMP_FORMATS = (("licn.nq", "licn.nq"), ("licn.trig", "licn.nq"), ("licn.nt", "licn.nt"), ("licn.ttl", "licn.nt"),
                ("licn.jsonld", "licn.nt"))


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


def _clear(out: Path) -> None:
    """An output and its versions gone: the next build of it is a clean one."""
    for path in (out, out.with_name(f".{out.name}.versions"), out.with_name(f".{out.name}.lock")):
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)


def _copy_project(home: Path) -> None:
    if home.exists():
        shutil.rmtree(home)
    for folder in ("data", "ontology", "queries"):
        shutil.copytree(ROOT / folder, home / folder)


def real_builds(runs: int) -> dict:
    """On a copy of the real data, each a new process: `licn build` with no previous build; the
    incremental build after the README's example study is added, and after it is removed again;
    `licn build --no-site`; and `oxigraph convert` of the same N-Quads as the yardstick."""
    home, out = WORK / "real-home", WORK / "real" / "dist"
    env = dict(os.environ, LICN_HOME=str(home))
    licn = [str(BIN / "licn"), "build", "--out", str(out)]
    found: dict = {"clean_s": [], "added_s": [], "removed_s": [], "no_site_s": [], "convert_s": []}

    def timed(key: str, argv: list[str]) -> None:
        r = run_child(argv, 900, env=env)
        found[key].append(r["wall_s"] if r["rc"] == 0 else None)
        if r["rc"]:
            found.setdefault("errors", []).append(r["stderr"][-500:])
    for _ in range(runs):
        _copy_project(home)
        _clear(out)
        timed("clean_s", licn)
        timed("no_site_s", [*licn, "--no-site"])
        timed("convert_s", [str(BIN / "oxigraph"), "convert", "--from-file", str(out / "licn.nq"),
                            "--to-file", str(WORK / "yardstick.nq")])
        (home / "data" / "new-studies.bib").write_text(BIBTEX, encoding="utf-8")
        with open(home / "data" / "curator-codings.csv", "a", encoding="utf-8") as sheet:
            sheet.write("\n".join(CODINGS) + "\n")
        code_twice(home, CODINGS)
        timed("added_s", licn)
        _copy_project(home)
        timed("removed_s", licn)
    (WORK / "yardstick.nq").unlink(missing_ok=True)
    return found


def synthetic_build(n: int, site: bool, timeout_s: float) -> dict:
    """A clean build of n synthetic studies: with site, the whole build; without, the data only."""
    data_dir = WORK / f"synth-{n}"
    if not (data_dir / "sources.csv").exists():
        synth.generate(n, data_dir)
    out = WORK / f"dist-{n}"
    _clear(out)
    r = run_child([sys.executable, "-m", "bench.child", "build", str(data_dir), str(out),
                   *([] if site else ["--no-site"])], timeout_s)
    entry = {"wall_s": r["wall_s"], "peak_group_mb": r["peak_group_mb"], "largest_process_mb": r["maxrss_mb"],
             "rc": r["rc"], "site": site}
    if r["data"] is None:
        entry["error"] = r["stderr"][-1500:]
        return entry
    entry.update(steps=r["data"]["steps"], phases=r["data"]["phases"], triples=r["data"]["triples"])
    if site:
        entry["site_files"] = sum(1 for p in (out / "site").rglob("*") if p.is_file())
    return entry


def engines_on_dumps(dist: Path) -> dict:
    """The engines alone writing the build's dump formats from the same quads: `oxigraph convert` of
    licn.nq or licn.nt into each format, and coreutils `sort` for the two dumps kept sorted."""
    found = {}
    for target, source in DUMP_FORMATS:
        written = WORK / f"yardstick-{target}"
        r = run_child([str(BIN / "oxigraph"), "convert", "--from-file", str(dist / source),
                       "--to-file", str(written)], 1800)
        found[f"oxigraph convert {source} -> {target}"] = r["wall_s"] if r["rc"] == 0 else None
        written.unlink(missing_ok=True)
    for name in ("licn.nq", "licn.nt"):
        r = run_child(["env", "LC_ALL=C", "sort", "--unique", "--buffer-size=128M", f"--temporary-directory={WORK}",
                       f"--output={WORK / 'yardstick.sorted'}", str(dist / name)], 1800)
        found[f"sort -u {name} (coreutils)"] = r["wall_s"] if r["rc"] == 0 else None
    (WORK / "yardstick.sorted").unlink(missing_ok=True)
    return found


def dumps_alone(dist: Path) -> float | None:
    """The build's write_dumps in a process of its own, nothing beside it, from the same quads (in the
    build, SHACL's two processes run beside it on this machine's two cores)."""
    r = run_child([sys.executable, "-m", "bench.child", "dumps", str(dist / "licn.nq")], 1800)
    return r["data"]["write_dumps_s"] if r["data"] else None


def make_test() -> dict:
    """`make test` in this checkout (its set-up already done), as a contributor runs it."""
    r = run_child(["make", "test"], 7200)
    summary = [line for line in r["stdout"].splitlines() if " passed" in line or " failed" in line]
    return {"wall_s": r["wall_s"], "rc": r["rc"], "summary": summary[-1] if summary else r["stdout"][-300:]}


def _s(v) -> str:
    return "-" if v is None else (f"{v:.2f} s" if v < 100 else f"{v:.0f} s")


def _mb(v) -> str:
    return "-" if v is None else f"{v:,.0f} MB"


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "**missed**")


def _at_most(v, limit) -> str:
    return _verdict(None if v is None else v <= limit)


def dumps_ratio(built: dict) -> float | None:
    engines = built.get("engines", {})
    dumps = built.get("steps", {}).get("write_dumps")
    if not dumps or not engines or None in engines.values():
        return None
    return dumps / sum(engines.values())


def target_rows(r: dict) -> list[tuple[str, str, str]]:
    real = r.get("real", {})
    clean, added = median(real.get("clean_s", [])), median(real.get("added_s", []))
    rows = [("real data: whole build with no previous build <= 3 s (median)", _s(clean), _at_most(clean, 3)),
            ("real data: incremental build after adding one study <= 1.5 s (median)", _s(added), _at_most(added, 1.5))]
    synthetic = r.get("synthetic", {})
    for n, seconds, mb in (("1000", 8, None), ("10000", 60, 2048)):
        b = synthetic.get(n)
        ok = b is not None and "error" not in b
        rows.append((f"{int(n):,} synthetic studies: whole build with the site <= {seconds} s",
                     _s(b["wall_s"]) if ok else "not run" if b is None else "failed", _at_most(b["wall_s"] if ok else None, seconds)))
        if mb:
            rows.append((f"... with <= {mb // 1024} GB peak (PSS of every process of the build)",
                         _mb(b["peak_group_mb"]) if ok else "-", _at_most(b["peak_group_mb"] if ok else None, mb)))
    b = synthetic.get("100000")
    ok = b is not None and "error" not in b
    rows.append(("10^5 synthetic studies, `--no-site`: <= 200 s", _s(b["wall_s"]) if ok else "not run" if b is None else "failed",
                 _at_most(b["wall_s"] if ok else None, 200)))
    rows.append(("... with <= 5 GB peak", _mb(b["peak_group_mb"]) if ok else "-", _at_most(b["peak_group_mb"] if ok else None, 5120)))
    ratio = dumps_ratio(b) if ok else None
    rows.append(("... dumps within 1.5x of the engines alone writing the same formats",
                 "-" if ratio is None else f"{ratio:.2f}x", _at_most(ratio, 1.5)))
    tests = r.get("tests")
    rows.append(("`make test` <= 5 minutes", _s(tests["wall_s"]) if tests else "not run",
                 _verdict(None if not tests else tests["wall_s"] <= 300 and tests["rc"] == 0)))
    return rows


def markdown(r: dict) -> str:
    m, v = r["machine"], r["versions"]
    out = ["# LICN-KG benchmark results", "",
           f"`python -m bench.targets` ({'with' if '100000' in r.get('synthetic', {}) else 'without'} `--large`), "
           f"started {r['started']} on {m.get('cores')} cores ({m.get('cpu', '')}), {m.get('memory_gb')} GB. "
           "The machine is shared and noisy (about +-20 % between runs, more while other work runs); every figure "
           "below comes from this one run. Nothing is cached between the runs of a row except where the row says "
           "so: an incremental build reuses the previous build's documents by design, and its row is apart from "
           "the clean builds'. `bench/notes.md` says what the numbers mean.", "",
           "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()), "",
           "## Targets", "", "| target | measured | verdict |", "|---|---:|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in target_rows(r)]
    real = r.get("real", {})
    out += ["", "## Real data", "", "Each run a new process on a copy of the data. *clean*: no previous build of "
            "the output; *added*: the README's example study added, incremental over the clean build; *removed*: "
            "the study removed again, incremental over that; `oxigraph convert` turns the build's `licn.nq` into "
            "N-Quads again (reading and writing the same quads in Rust, no validation).", "",
            "| build | runs (s) | median |", "|---|---|---:|"]
    for label, key in (("`licn build`, clean", "clean_s"), ("`licn build`, one study added", "added_s"),
                       ("`licn build`, that study removed", "removed_s"), ("`licn build --no-site`", "no_site_s"),
                       ("`oxigraph convert licn.nq -> .nq`", "convert_s")):
        runs = real.get(key, [])
        out.append(f"| {label} | {', '.join('-' if x is None else f'{x:.2f}' for x in runs)} | {_s(median(runs))} |")
    synthetic = r.get("synthetic", {})
    if synthetic:
        out += ["", "## Synthetic data, clean builds", "",
                "With the site for 1,000 and 10,000 studies, the data only (`--no-site`) for 10^5. SHACL runs in a "
                "forked process beside the checks and the dumps; the figures beside the site's documents. Peak memory "
                "is the sum of the proportional set sizes of every process of the build, sampled every 0.2 s (the "
                "largest single process in brackets).", ""]
        names = sorted({k for b in synthetic.values() for k in (*b.get("steps", {}), *b.get("phases", {}))})
        out += ["| step | " + " | ".join(f"{int(n):,}" for n in synthetic) + " |", "|---|" + "---:|" * len(synthetic)]
        for name in names:
            out.append(f"| {name} | " + " | ".join(_s(b.get("steps", {}).get(name, b.get("phases", {}).get(name)))
                                                   for b in synthetic.values()) + " |")
        out.append("| **wall** | " + " | ".join(_s(b.get("wall_s")) for b in synthetic.values()) + " |")
        out.append("| **peak memory** | " + " | ".join(f"{_mb(b.get('peak_group_mb'))} ({_mb(b.get('largest_process_mb'))})"
                                                      for b in synthetic.values()) + " |")
        out.append("| triples | " + " | ".join(f"{b.get('triples', 0):,}" for b in synthetic.values()) + " |")
        out.append("| site files | " + " | ".join(f"{b['site_files']:,}" if b.get("site_files") else "-"
                                                 for b in synthetic.values()) + " |")
        errors = [f"{int(n):,}: {b['error'][-300:]}" for n, b in synthetic.items() if "error" in b]
        out += [""] + [f"Failed: {e}" for e in errors]
    for n, b in synthetic.items():
        if b.get("engines"):
            out += ["", f"The engines alone writing the dump formats from the dumps of {int(n):,} studies (each a new "
                    "process, right after the build), beside the build's `write_dumps` step "
                    f"({_s(b.get('steps', {}).get('write_dumps'))}):", "", "| engine alone | time |", "|---|---:|"]
            out += [f"| {name} | {_s(t)} |" for name, t in b["engines"].items()]
            out.append(f"| **sum** | {_s(sum(t for t in b['engines'].values() if t))} |")
            if b.get("dumps_alone_s"):
                out += ["", f"The build's `write_dumps` alone on the same quads, in a process of its own with nothing "
                        f"beside it (the store filled first, not timed): {_s(b['dumps_alone_s'])}, "
                        f"{b['dumps_alone_s'] / sum(t for t in b['engines'].values() if t):.2f}x the engines. In the "
                        "build, SHACL's two processes share the two cores with it; the target is judged on the "
                        "build's own step."]
    serve = r.get("serve", {})
    if serve:
        out += ["", "## Serving under wrk (16 connections, 2 threads, 5 s, median of 3)", "",
                "licn: `licn serve --processes 2`, every query in a sandboxed worker process; Oxigraph: "
                "`oxigraph serve-read-only --union-default-graph`; rdflib-endpoint: `rdflib-endpoint serve licn.nq`. "
                "*dereference* is a study's 303 and its Turtle document for licn, the equivalent CONSTRUCT for the "
                "others; *point* is `SELECT ?p ?o WHERE { <study> ?p ?o }`; *aggregate* counts codings and entries "
                "per level with GROUP BY. No server caches answers.", "",
                "| request | licn | Oxigraph | rdflib-endpoint | licn / Oxigraph | licn / rdflib-endpoint |",
                "|---|---:|---:|---:|---:|---:|"]
        for kind, k in serve.get("ratios", {}).items():
            rps = k["rps"]
            cell = ["-" if rps.get(s) is None else f"{rps[s]:,.0f}/s" for s in ("licn", "oxigraph", "rdflib-endpoint")]
            a, b = k.get("vs_oxigraph"), k.get("vs_rdflib_endpoint")
            out.append(f"| {kind} | {' | '.join(cell)} | {'-' if a is None else f'{a:.0%}'} | "
                       f"{'-' if b is None else f'{b:.1f}x'} |")
    latency = r.get("latency", {})
    if latency:
        out += ["", "## A light request while 100 heavy queries are sent", "",
                "| server | light p50 | light p99 | light max | light answers | heavy answers |",
                "|---|---:|---:|---:|---|---|"]
        for name, e in latency.items():
            if "error" in e:
                out.append(f"| {name} | failed: {e['error'][:200]} | | | | |")
            else:
                out.append(f"| {name} | {e['p50_ms']:.0f} ms | {e['p99_ms']:.0f} ms | {e['max_ms']:.0f} ms | "
                           f"{e['light_statuses']} | {e['heavy_statuses']} |")
    tests = r.get("tests")
    if tests:
        out += ["", "## `make test`", "", f"{_s(tests['wall_s'])} wall, exit code {tests['rc']}: {tests['summary']}"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.targets")
    parser.add_argument("--large", action="store_true", help="also the data build of 10^5 synthetic studies")
    parser.add_argument("--sizes", help="comma-separated synthetic sizes built with the site (default 1000,10000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each real-data build")
    parser.add_argument("--no-tests", action="store_true", help="leave out `make test`")
    parser.add_argument("--out", default=str(WORK / "targets.json"))
    parser.add_argument("--report-only", action="store_true", help="write bench/RESULTS.md again from --out")
    args = parser.parse_args(argv)
    if args.report_only:
        (ROOT / "bench" / "RESULTS.md").write_text(markdown(json.loads(Path(args.out).read_text())), encoding="utf-8")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    sizes = [int(n) for n in (args.sizes or "1000,10000").split(",")]
    results: dict = {"machine": machine(), "versions": versions(),
                     "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "synthetic": {}}

    def save():
        Path(args.out).write_text(json.dumps(results, indent=1), encoding="utf-8")

    with Stages("make bench") as stages:
        stages.next(f"real data: {args.runs} clean, incremental and data-only builds")
        results["real"] = real_builds(args.runs)
        save()
        for n in sizes:
            stages.next(f"{n:,} synthetic studies: a clean build with the site")
            results["synthetic"][str(n)] = synthetic_build(n, True, 3600)
            save()
        if args.large:
            stages.next("10^5 synthetic studies: a clean data build, then the engines alone on its dumps")
            results["synthetic"]["100000"] = built = synthetic_build(100_000, False, 3600)
            if "error" not in built:
                built["engines"] = engines_on_dumps(WORK / "dist-100000")
                built["dumps_alone_s"] = dumps_alone(WORK / "dist-100000")
            save()
        stages.next("serving under wrk: licn serve, oxigraph serve-read-only, rdflib-endpoint")
        _clear(WORK / "real" / "dist")
        dist = WORK / "real" / "dist"
        run_child([str(BIN / "licn"), "build", "--out", str(dist)], 900)
        serve = run_serve_bench(dist.resolve(), WORK, seconds=5, repeats=3, peers=True)
        results["serve"] = {"raw": serve, "ratios": serve_ratios(serve)}
        stages.next("a light request while 100 heavy queries are sent")
        results["latency"] = run_latency_bench(dist.resolve(), WORK)
        save()
        if not args.no_tests:
            stages.next("make test")
            results["tests"] = make_test()
            save()
    (ROOT / "bench" / "RESULTS.md").write_text(markdown(results), encoding="utf-8")
    print("\n".join(f"{a}: {b} ({c})" for a, b, c in target_rows(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
