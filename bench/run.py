"""The benchmark: every stage at real size and at synthetic sizes, the query suite on both engines,
and the server beside its peers. Results go to a JSON file and a Markdown report.

    python -m bench            every stage at every size, writes bench/work/RESULTS-full.md
    python -m bench --quick    under a minute, writes bench/work/RESULTS-quick.md
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import report, synth
from .serve import run_serve_bench

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work"
BIN = Path(sys.executable).parent


@dataclass
class Plan:
    name: str
    cold_runs: int                 # `licn build` on the real data, cold process
    phase_runs: int                # build in a child with its steps timed, real data
    sizes: dict[int, int]          # synthetic N -> build repetitions
    query_repeats: dict[str, int]  # engine -> repetitions of each query
    query_timeout_s: float         # per query and run
    rdflib_max_triples: int        # no rdflib query suite above this size (its load alone takes minutes)
    serve_seconds: float
    serve_repeats: int
    serve_sizes: list = field(default_factory=list)  # synthetic N served as well as the real data
    build_timeout_s: float = 1800.0
    equivalence: list = field(default_factory=list)   # data folders whose dumps are compared with rdflib's
    rdflib_sizes: list | None = None                  # sizes with an rdflib query suite (None: all)
    rdflib_timeouts: dict = field(default_factory=dict)  # size label -> per-query time limit for rdflib
    serve_warmup: bool = True
    serve_repeats_large: int | None = None            # wrk runs per cell at the synthetic sizes
    query_timeouts: dict = field(default_factory=dict)  # size label -> per-query time limit (both engines)
    attempts: dict = field(default_factory=dict)      # N -> (timeout s, memory cap MB): data-only build tried once
    stream_sizes: list = field(default_factory=list)  # N with the streamed core build (bench/stream.py)


QUICK = Plan("quick", cold_runs=1, phase_runs=0, sizes={100: 1, 500: 1},
             query_repeats={"oxigraph": 3, "rdflib": 1}, query_timeout_s=10, rdflib_max_triples=200_000,
             serve_seconds=1, serve_repeats=1, rdflib_sizes=["real"], serve_warmup=False)
FULL = Plan("full", cold_runs=7, phase_runs=3, sizes={100: 5, 1000: 3, 10_000: 1},
            query_repeats={"oxigraph": 5, "rdflib": 3}, query_timeout_s=60, rdflib_max_triples=100_000,
            serve_seconds=5, serve_repeats=3, serve_sizes=[10_000],
            attempts={100_000: (900, 10_000)},
            rdflib_timeouts={"1000": 10}, query_timeouts={"100000": 30}, serve_repeats_large=2)


def stats(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def _limit_memory(mb: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (mb * 1024 * 1024, mb * 1024 * 1024))
    return apply


def group_pss_mb(group: int) -> float:
    """The proportional set size of every process in a process group, summed (shared pages counted
    once over the processes that share them): the memory a forked build really holds."""
    total_kb = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                if int(stat.read().rsplit(")", 1)[1].split()[2]) != group:
                    continue
            with open(f"/proc/{entry}/smaps_rollup") as rollup:
                total_kb += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError, IndexError):
            continue
    return total_kb / 1024


def run_child(argv: list[str], timeout_s: float, memory_limit_mb: int | None = None, env: dict | None = None) -> dict:
    """Run a command; its wall time, peak memory (os.wait4's, the largest single process, and the
    peak of the whole process group's PSS sampled every 0.2 s), exit code, output.
    With memory_limit_mb the child's address space is capped, so that it fails with a MemoryError
    rather than pressing the whole machine."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT, start_new_session=True, env=env,
                                preexec_fn=_limit_memory(memory_limit_mb) if memory_limit_mb else None)
        killed = []
        timer = threading.Timer(timeout_s, lambda: (killed.append(True), proc.kill()))
        timer.start()
        peak, done = [0.0], threading.Event()

        def sample():
            while not done.wait(0.2):
                peak[0] = max(peak[0], group_pss_mb(proc.pid))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            done.set()
            sampler.join()
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    data = None
    lines = [line for line in stdout.splitlines() if line.strip()]
    if lines and lines[-1].startswith("{"):
        try:
            data = json.loads(lines[-1])
        except json.JSONDecodeError:
            data = None
    return {"wall_s": wall, "maxrss_mb": usage.ru_maxrss / 1024, "peak_group_mb": peak[0], "cpu_s": usage.ru_utime + usage.ru_stime,
            "rc": proc.returncode, "data": data, "timed_out": bool(killed), "stdout": stdout, "stderr": stderr[-3000:]}


_CLOCK = {"t": time.perf_counter(), "section": None, "times": {}}


_SETTLE = {"on": True}


def settle(seconds: float = 3.0) -> None:
    """Let the disk catch up (the large corpora write gigabytes) before the next measurement."""
    os.sync()
    if _SETTLE["on"]:
        time.sleep(seconds)


def say(text: str) -> None:
    """Print a progress line; a line starting with '- ' opens a section whose time is recorded."""
    if text.startswith("- "):
        now = time.perf_counter()
        if _CLOCK["section"]:
            _CLOCK["times"][_CLOCK["section"]] = now - _CLOCK["t"]
        _CLOCK["t"], _CLOCK["section"] = now, text[2:]
    print(text, flush=True)


def machine() -> dict:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib import metadata
    versions = {}
    for dist in ("rdflib", "pyshacl", "pyoxigraph", "oxigraph", "owlrl", "starlette", "uvicorn", "rdflib-endpoint",
                 "fastapi", "matplotlib", "PyYAML"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    try:
        versions["wrk"] = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0].split(" [")[0]
    except OSError:
        versions["wrk"] = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "licn", "loaders", "data", "ontology", "queries"],
                                    capture_output=True, text=True, cwd=ROOT).stdout.strip())
    except OSError:
        commit, dirty = "", False
    return {"cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1), "cpu": cpu,
            "kernel": platform.release(), "python": platform.python_version(), "versions": versions,
            "commit": commit + ("+changes" if dirty else ""), "date": time.strftime("%Y-%m-%d %H:%M %Z")}


CLI_LINE = re.compile(r"built .*?: (\d+) triples, (\d+) studies \(\d+ reviewed\), (\d+) codings;.*?; ([\d.]+) s \((.*)\)")


def parse_cli(stdout: str) -> dict | None:
    """The numbers `licn build` prints: triples, studies, codings, seconds and its phases."""
    m = CLI_LINE.search(stdout)
    if not m:
        return None
    phases = {}
    for part in m.group(5).split(", "):
        name, _, value = part.rpartition(" ")[0].rpartition(" ")
        try:
            phases[name] = float(value)
        except ValueError:
            pass
    return {"triples": int(m.group(1)), "studies": int(m.group(2)), "codings": int(m.group(3)),
            "build_s": float(m.group(4)), "phases": phases}


def bench_cold_build(plan: Plan) -> dict:
    """`licn build` on the real data, each run a new process; the wall time includes imports."""
    out = WORK / "dist-real"
    runs = []
    for _ in range(plan.cold_runs):
        r = run_child([str(BIN / "licn"), "build", "--out", str(out)], 600)
        if r["rc"] != 0:
            return {"error": r["stderr"][-2000:]}
        r["parsed"] = parse_cli(r["stdout"])
        runs.append(r)
    import_runs = [run_child([sys.executable, "-c", "import licn.build"], 120)["wall_s"] for _ in range(plan.cold_runs)]
    start = run_child([sys.executable, "-c", "pass"], 60)["wall_s"]
    result = {"wall": stats([r["wall_s"] for r in runs]), "maxrss_mb": stats([r["maxrss_mb"] for r in runs]),
              "import": stats(import_runs), "interpreter_s": start, "output": runs[-1]["stdout"].strip(),
              "file_create_us": file_create_us(WORK)}
    # The same build with its output in memory (tmpfs), where the disk is not part of the time, and
    # the data-only build (`--no-site`): no figures, no static site.
    variants = {"tmpfs": (["--out", "/dev/shm/licn-bench-dist"], Path("/dev/shm").is_dir()),
                "no_site": (["--no-site", "--out", str(WORK / "dist-real-data-only")], True)}
    for name, (argv, possible) in variants.items():
        if possible:
            found = [run_child([str(BIN / "licn"), "build", *argv], 600) for _ in range(plan.cold_runs)]
            if all(r["rc"] == 0 for r in found):
                result[name] = {"wall": stats([r["wall_s"] for r in found]), "output": found[-1]["stdout"].strip()}
    shutil.rmtree("/dev/shm/licn-bench-dist", ignore_errors=True)
    if "tmpfs" in result:
        result["tmpfs"]["file_create_us"] = file_create_us(Path("/dev/shm"))
    parsed = [r["parsed"] for r in runs if r["parsed"]]
    if parsed:
        result["as_build"] = {
            "wall": result["wall"], "maxrss_mb": result["maxrss_mb"], "build": stats([p["build_s"] for p in parsed]),
            "import": result["import"], "steps": {},
            "phases": {k: stats([p["phases"].get(k) for p in parsed]) for k in parsed[0]["phases"]},
            "triples": parsed[0]["triples"], "studies": parsed[0]["studies"], "codings": parsed[0]["codings"]}
    return result


def file_create_us(folder: Path, count: int = 2000) -> float:
    """Microseconds to create and write one small file in folder (what the site does ~3,700 times)."""
    target = Path(tempfile.mkdtemp(dir=folder))
    try:
        start = time.perf_counter()
        for i in range(count):
            (target / f"{i}.html").write_bytes(b"x" * 3000)
        return (time.perf_counter() - start) / count * 1e6
    finally:
        shutil.rmtree(target, ignore_errors=True)


def bench_build(data_dir: Path, out: Path, runs: int, timeout_s: float, memory_limit_mb: int | None = None,
                site: bool = True) -> dict:
    """build(out, data_dir) in a child process per run: wall, peak memory, phases and steps."""
    results = []
    for _ in range(runs):
        argv = [sys.executable, "-m", "bench.child", "build", str(data_dir), str(out)] + ([] if site else ["--no-site"])
        r = run_child(argv, timeout_s, memory_limit_mb)
        if r["rc"] != 0 or r["data"] is None:
            steps = [line[5:] for line in r["stderr"].splitlines() if line.startswith("STEP ")]
            last = [line for line in r["stderr"].strip().splitlines() if not line.startswith("STEP ")][-1:]
            return {"error": (r["stderr"] or r["stdout"])[-2500:], "rc": r["rc"], "wall_s": r["wall_s"],
                    "maxrss_mb": r["maxrss_mb"], "timed_out": r["timed_out"], "memory_limit_mb": memory_limit_mb,
                    "timeout_s": timeout_s, "steps_done": steps, "last_line": last[0] if last else ""}
        results.append(r)
    first = results[0]["data"]
    phase_names = list(first["phases"])
    step_names = list(first["steps"])
    return {
        "wall": stats([r["wall_s"] for r in results]),
        "build": stats([r["data"]["build_s"] for r in results]),
        "import": stats([r["data"]["import_s"] for r in results]),
        "maxrss_mb": stats([r["maxrss_mb"] for r in results]),
        "peak_group_mb": stats([r["peak_group_mb"] for r in results]),
        "phases": {k: stats([r["data"]["phases"].get(k) for r in results]) for k in phase_names},
        "steps": {k: stats([r["data"]["steps"].get(k) for r in results]) for k in step_names},
        "triples": first["triples"], "studies": first["studies"], "codings": first["codings"],
        "nq_bytes": (out / "licn.nq").stat().st_size if (out / "licn.nq").exists() else None,
    }


def bench_queries(dist: Path, plan: Plan, triples: int, label: str) -> dict:
    out = {}
    for engine, repeats in plan.query_repeats.items():
        if engine == "rdflib" and plan.rdflib_sizes is not None and label not in plan.rdflib_sizes:
            out[engine] = {"skipped": "not run in the quick plan"}
            continue
        if engine == "rdflib" and triples > plan.rdflib_max_triples:
            out[engine] = {"skipped": f"not run above {plan.rdflib_max_triples:,} triples: rdflib's parse of the "
                                      f"N-Quads alone would take minutes and several GB"}
            continue
        data, done, restarts = None, {}, 0
        while True:
            skip = ",".join(done)
            timeout = plan.query_timeout_s * (len(list((ROOT / "queries").glob("*.rq"))) * repeats + 4) + 600
            limit = plan.query_timeouts.get(label, plan.query_timeout_s)
            if engine == "rdflib":
                limit = plan.rdflib_timeouts.get(label, limit)
            argv = [sys.executable, "-m", "bench.child", "queries", str(dist), engine, str(repeats), str(limit)]
            r = run_child(argv + ([skip] if skip else []), timeout)
            for line in r["stdout"].splitlines():
                kind, _, payload = line.partition(" ")
                if kind == "L" and data is None:
                    data = json.loads(payload)
                elif kind == "Q":
                    q = json.loads(payload)
                    done[q.pop("name")] = q
                elif kind == "M":
                    data["maxrss_mb"] = json.loads(payload)["maxrss_kb"] / 1024
            if r["rc"] == 3 and restarts < 10:  # a query ran over its time: go on with the others
                restarts += 1
                continue
            break
        if data is None or r["rc"] not in (0, 3):
            out[engine] = {"error": (r["stderr"] or r["stdout"])[-2000:]}
            continue
        data["queries"] = {}
        for name, q in done.items():
            st = stats(q["times"])
            data["queries"][name] = {**st, "runs": len(q["times"]), "rows": q["rows"], "error": q["error"]}
        medians = [q["median"] for q in data["queries"].values()]
        data["suite_s"] = sum(m for m in medians if m is not None)
        data["complete"] = all(m is not None for m in medians) and len(medians) == len(list((ROOT / "queries").glob("*.rq")))
        data["failed"] = {name: q["error"] for name, q in data["queries"].items() if q["error"]}
        data["restarts"] = restarts
        data["timeout_s"] = limit
        out[engine] = data
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="the short run (under a minute)")
    parser.add_argument("--sizes", help="comma-separated synthetic sizes instead of the plan's")
    parser.add_argument("--no-serve", action="store_true")
    parser.add_argument("--out", help="where the Markdown report goes")
    parser.add_argument("--report-only", action="store_true",
                        help="write the report again from the last run's bench/work/results-PLAN.json")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    _SETTLE["on"] = plan.name != "quick"
    if args.report_only:
        results = json.loads((WORK / f"results-{plan.name}.json").read_text(encoding="utf-8"))
        out = Path(args.out) if args.out else (WORK / f"RESULTS-{plan.name}.md")
        out.write_text(report.markdown(results), encoding="utf-8")
        say(report.key_lines(results))
        return 0
    if args.sizes:
        plan.sizes = {int(n): plan.sizes.get(int(n), 1) for n in args.sizes.split(",")}
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict = {"plan": plan.name, "machine": machine()}
    say(f"bench ({plan.name}): {results['machine']['cores']} cores, {results['machine']['memory_gb']} GB, "
        f"Python {results['machine']['python']}")

    say("- licn build on the real data, cold process")
    results["cold"] = bench_cold_build(plan)
    if plan.phase_runs:
        say("- build phases on the real data")
        real = results["real"] = bench_build(ROOT / "data", WORK / "dist-real", plan.phase_runs, plan.build_timeout_s)
    else:
        real = results["real"] = results["cold"].get("as_build") or {"error": results["cold"].get("error", "no output")}
    if "error" in real:
        say(f"  the real build failed: {real['error']}")
        return 1

    dists = {"real": (WORK / "dist-real", real["triples"])}
    # The real-size measurements first, before the large corpora fill memory and the disk cache.
    results["queries"] = {}
    say("- stored-query suite at real")
    results["queries"]["real"] = bench_queries(dists["real"][0], plan, real["triples"], "real")
    results["serve"] = {}
    if not args.no_serve:
        say("- licn serve, oxigraph serve, rdflib-endpoint at real")
        results["serve"]["real"] = run_serve_bench(dists["real"][0], WORK, plan.serve_seconds, plan.serve_repeats,
                                                   peers=True, warmup=plan.serve_warmup)
    results["synthetic"] = {}
    for n, runs in sorted(plan.sizes.items()):
        settle(1)
        say(f"- synthetic corpus of {n:,} studies")
        data_dir = WORK / f"synth-{n}"
        t = time.perf_counter()
        counts = synth.generate(n, data_dir)
        gen_s = time.perf_counter() - t
        r = bench_build(data_dir, WORK / f"dist-{n}", runs, plan.build_timeout_s)
        r["generate_s"], r["corpus"] = gen_s, counts
        results["synthetic"][str(n)] = r
        if "error" not in r:
            dists[str(n)] = (WORK / f"dist-{n}", r["triples"])
            say(f"  {r['triples']:,} triples, build {r['wall']['median']:.2f} s wall, peak {r['maxrss_mb']['max']:.0f} MB")
        else:
            say(f"  failed: {r['error'][-300:]}")

    results["attempts"] = {}
    for n, (timeout_s, memory_mb) in sorted(plan.attempts.items()):
        say(f"- data-only build (--no-site) of {n:,} studies, once, capped at {timeout_s} s and {memory_mb:,} MB")
        data_dir = WORK / f"synth-{n}"
        counts = synth.generate(n, data_dir)
        r = bench_build(data_dir, WORK / f"dist-{n}", 1, timeout_s, memory_mb, site=False)
        r["corpus"] = counts
        r["data_only"] = True
        results["attempts"][str(n)] = r
        if "error" not in r:
            results["synthetic"][str(n)] = r
            dists[str(n)] = (WORK / f"dist-{n}", r["triples"])
        else:
            say(f"  stopped after {r['wall_s']:.0f} s ({'time' if r['timed_out'] else 'exit ' + str(r['rc'])}), "
                f"peak {r['maxrss_mb']:.0f} MB; last step done: {(r['steps_done'] or ['none'])[-1]}")

    results["stream"] = {}
    for n in plan.stream_sizes:
        settle()
        say(f"- streamed core build (bench/stream.py) of {n:,} studies")
        data_dir = WORK / f"synth-{n}"
        if not data_dir.exists():
            synth.generate(n, data_dir)
        out = WORK / f"stream-{n}"
        r = run_child([sys.executable, "-m", "bench.stream", str(data_dir), str(out)], 3600)
        entry = {"wall_s": r["wall_s"], "maxrss_mb": r["maxrss_mb"], "rc": r["rc"], "data": r["data"]}
        if r["data"] is None:
            entry["error"] = r["stderr"][-2000:]
        built = WORK / f"dist-{n}"
        if str(n) in dists and (built / "licn.nq").exists():
            entry["same_as_build"] = all(
                subprocess.run(["cmp", "-s", str(out / name), str(built / name)]).returncode == 0
                for name in ("licn.nq", "licn.nt"))
        results["stream"][str(n)] = entry
        if r["data"] is not None:
            say(f"  {entry['wall_s']:.1f} s, peak {entry['maxrss_mb']:.0f} MB")
            if str(n) not in dists:
                dists[str(n)] = (out, r["data"]["quads"])


    results["equivalence"] = []
    if plan.equivalence:
        say("- dumps against rdflib's serialisers")
    for item in plan.equivalence:
        folder = ROOT / "data" if item == "data" else WORK / f"synth-{item}"
        if folder.exists():
            r = run_child([sys.executable, "-m", "bench.equivalence", str(folder)], 1200)
            results["equivalence"].append({"data": str(item), "rc": r["rc"], "output": r["stdout"].strip()[-500:]})

    for label, (dist, triples) in dists.items():
        if label == "real":
            continue
        settle()
        say(f"- stored-query suite at {label}")
        results["queries"][label] = bench_queries(dist, plan, triples, label)

    if not args.no_serve:
        for label in [str(n) for n in plan.serve_sizes if str(n) in dists]:
            settle()
            say(f"- licn serve, oxigraph serve, rdflib-endpoint at {label}")
            results["serve"][label] = run_serve_bench(dists[label][0], WORK, plan.serve_seconds,
                                                      plan.serve_repeats_large or plan.serve_repeats,
                                                      peers=True, warmup=plan.serve_warmup)

    say("- report")
    results["sections_s"] = dict(_CLOCK["times"])
    results["elapsed_s"] = time.perf_counter() - started
    (WORK / f"results-{plan.name}.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    text = report.markdown(results)
    out = Path(args.out) if args.out else (WORK / f"RESULTS-{plan.name}.md")
    out.write_text(text, encoding="utf-8")
    say("")
    say(report.key_lines(results))
    say(f"\nreport: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}; {results['elapsed_s']:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
