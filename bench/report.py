"""The Markdown report of a benchmark run, and the few lines `make bench-quick` prints."""
from __future__ import annotations

import math
from pathlib import Path

NOTES = Path(__file__).with_name("notes.md")
PHASE_ORDER = ("load", "validate", "serialise", "checks", "figures", "site")
KINDS = ("dereference", "point", "aggregate")
SERVERS = ("licn", "oxigraph", "rdflib-endpoint")


def _s(x, digits: int = 2) -> str:
    if x is None:
        return "-"
    if x < 0.01:
        return f"{x * 1000:.2f} ms"
    if x < 1:
        return f"{x * 1000:.0f} ms"
    return f"{x:.{digits}f} s"


def _stat(st: dict | None, fmt=_s) -> str:
    if not st or st.get("median") is None:
        return "-"
    if st.get("n", 1) <= 1 or st["min"] == st["max"]:
        return fmt(st["median"])
    return f"{fmt(st['median'])} ({fmt(st['min'])}–{fmt(st['max'])})"


def _mb(x) -> str:
    return "-" if x is None else f"{x:,.0f} MB"


def _ratio(a, b) -> float | None:
    if a is None or b in (None, 0):
        return None
    return a / b


def _x(r) -> str:
    return "-" if r is None else f"{r:.2f}x"


def sizes(results: dict) -> list[tuple[str, dict]]:
    out = [("real", results["real"])]
    out += [(n, r) for n, r in sorted(results.get("synthetic", {}).items(), key=lambda kv: int(kv[0]))]
    return out


def _label(n: str) -> str:
    return "real data" if n == "real" else f"N = {int(n):,}"


def _per_10x(ratio, n: int, m: int):
    """A ratio between sizes n and m expressed per 10x of data: ratio ** (1 / log10(m / n))."""
    if ratio is None or ratio <= 0:
        return None
    return ratio ** (1 / math.log10(m / n))


def growth(results: dict) -> list[dict]:
    """t(10N) / t(N) for every stage, between consecutive synthetic sizes (normalised to a factor
    per 10x of studies where the sizes are not exactly ten times apart)."""
    synth = {int(n): r for n, r in results.get("synthetic", {}).items() if "error" not in r}
    queries = results.get("queries", {})
    rows = []
    sizes_ = sorted(synth)
    for n, m in zip(sizes_, sizes_[1:]):
        a, b = synth[n], synth[m]

        def r(x, y):
            return _per_10x(_ratio(y, x), n, m)
        row = {"from": n, "to": m, "triples": r(a["triples"], b["triples"]), "stages": {}}
        for phase in list(dict.fromkeys(list(PHASE_ORDER) + list(a["phases"]))):
            if phase in a["phases"] and phase in b["phases"]:
                row["stages"][phase] = r(a["phases"][phase]["median"], b["phases"][phase]["median"])
        row["stages"]["build (wall)"] = r(a["wall"]["median"], b["wall"]["median"])
        row["stages"]["peak memory"] = r(a["maxrss_mb"]["max"], b["maxrss_mb"]["max"])
        for engine in ("oxigraph", "rdflib"):
            qa, qb = queries.get(str(n), {}).get(engine, {}), queries.get(str(m), {}).get(engine, {})
            if qa.get("complete") and qb.get("complete"):
                row["stages"][f"query suite ({engine})"] = r(qa["suite_s"], qb["suite_s"])
                row["stages"][f"store load ({engine})"] = r(qa["load_s"], qb["load_s"])
        rows.append(row)
    return rows


def stream_growth(results: dict) -> list[dict]:
    """t(10N) / t(N) per step of the streamed core build."""
    stream = {int(n): e["data"] for n, e in results.get("stream", {}).items() if e.get("data")}
    rows = []
    for n in sorted(stream):
        if n * 10 in stream:
            a, b = stream[n], stream[n * 10]
            row = {"from": n, "to": n * 10, "triples": _ratio(b["quads"], a["quads"]),
                   "stages": {k: _ratio(b["steps"][k], a["steps"].get(k)) for k in b["steps"]}}
            row["stages"]["total"] = _ratio(b["total_s"], a["total_s"])
            rows.append(row)
    return rows


def serve_ratios(serve: dict) -> dict:
    out = {}
    servers = serve.get("servers", {})
    for kind in KINDS:
        rps = {}
        for name in SERVERS:
            runs = servers.get(name, {}).get("kinds", {}).get(kind, {}).get("runs", [])
            values = [r["rps"] for r in runs if r.get("ok")]
            rps[name] = sorted(values)[len(values) // 2] if values else None
        out[kind] = {"rps": rps, "vs_oxigraph": _ratio(rps["licn"], rps["oxigraph"]),
                     "vs_rdflib_endpoint": _ratio(rps["licn"], rps["rdflib-endpoint"])}
    return out


def targets(results: dict) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for every target of the issue."""
    rows = []
    cold = results.get("cold", {}).get("wall", {}).get("median")
    rows.append(("real-data `licn build` <= 1.0 s wall, cold", _s(cold), _verdict(cold is not None and cold <= 1.0, cold)))
    q = results.get("queries", {}).get("real", {}).get("oxigraph", {})
    suite = q.get("suite_s") if q.get("complete") else None
    rows.append(("stored-query suite on real data <= 50 ms on pyoxigraph", _s(suite),
                 _verdict(suite is not None and suite <= 0.05, suite)))
    big = results.get("synthetic", {}).get("100000")
    attempt = results.get("attempts", {}).get("100000")
    stream = results.get("stream", {}).get("100000", {}).get("data")
    also = ""
    if stream:
        also = (f"; the streamed core build (bench/stream.py): {_s(stream['total_s'])}, "
                f"peak {_mb(results['stream']['100000']['maxrss_mb'])}")
    if big is None and attempt is None:
        rows.append(("10^5 studies built and validated <= 90 s", "not run in this plan" + also, "not measured"))
        rows.append(("10^5 studies: peak memory <= 4 GB", "not run in this plan" + also, "not measured"))
    elif big is None:
        why = "time limit" if attempt.get("timed_out") else f"exit {attempt.get('rc')}"
        done = (attempt.get("steps_done") or ["nothing"])[-1]
        rows.append(("10^5 studies built and validated <= 90 s",
                     f"data only (`--no-site`): stopped after {_s(attempt.get('wall_s'))} ({why}; cap "
                     f"{attempt.get('memory_limit_mb'):,} MB; last step done: {done})" + also, "**missed**"))
        rows.append(("10^5 studies: peak memory <= 4 GB", f"data only: {_mb(attempt.get('maxrss_mb'))} when stopped" + also,
                     "**missed**"))
    else:
        label = "data only (`--no-site`): " if big.get("data_only") else ""
        wall = big["wall"]["median"]
        rows.append(("10^5 studies built and validated <= 90 s", label + _s(wall) + also, _verdict(wall <= 90, wall)))
        peak = big["maxrss_mb"]["max"]
        rows.append(("10^5 studies: peak memory <= 4 GB", label + _mb(peak) + also, _verdict(peak <= 4096, peak)))
    g = growth(results)
    if g:
        worst = max(((v, f"{row['from']:,}->{row['to']:,} {stage}") for row in g for stage, v in row["stages"].items()
                     if v is not None and stage != "peak memory"), default=(None, ""))
        over = [f"{stage} {row['from']:,}->{row['to']:,}: {v:.1f}x" for row in g for stage, v in row["stages"].items()
                if v is not None and v > 12 and stage != "peak memory"]
        rows.append(("10x data costs <= 12x time at every stage", f"worst {worst[0]:.1f}x ({worst[1]})" if worst[0] else "-",
                     "met" if not over else "**missed**: " + "; ".join(over)))
    serve = results.get("serve", {}).get("real")
    if serve:
        if "licn" not in serve.get("servers", {}):
            rows.append(("`licn serve` against Oxigraph and rdflib-endpoint", serve.get("skipped_licn", "not run"), "not measured"))
        else:
            r = serve_ratios(serve)
            for kind, floor in (("point", 0.25), ("dereference", 0.25), ("aggregate", 0.80)):
                v = r[kind]["vs_oxigraph"]
                rows.append((f"`licn serve` >= {floor:.0%} of Oxigraph's throughput ({kind})", _x(v) if v is None else f"{v:.0%}",
                             _verdict(v is not None and v >= floor, v)))
            for kind in KINDS:
                v = r[kind]["vs_rdflib_endpoint"]
                rows.append((f"`licn serve` >= 6x rdflib-endpoint ({kind})", _x(v), _verdict(v is not None and v >= 6, v)))
    return rows


def _verdict(ok: bool, value) -> str:
    if value is None:
        return "not measured"
    return "met" if ok else "**missed**"


def markdown(results: dict) -> str:
    m = results["machine"]
    out = ["# LICN-KG benchmark results", ""]
    out.append(f"Plan: **{results['plan']}** (`make bench`; `make bench-quick` is the short run). Date: {m['date']}; "
               f"commit {m['commit']}; the whole run took {results.get('elapsed_s', 0) / 60:.1f} min.")
    out.append("")
    out.append("Times are the median of several runs with (min–max); each build runs in a fresh process, "
               "and peak memory is that process's maximum resident set size (`os.wait4`).")
    out.append("")
    out += ["## Machine", "", "| | |", "|---|---|",
            f"| CPU | {m['cpu']} |", f"| cores | {m['cores']} |", f"| memory | {m['memory_gb']} GB |",
            f"| kernel | {m['kernel']} |", f"| Python | {m['python']} |"]
    for name, version in m["versions"].items():
        out.append(f"| {name} | {version or 'not installed'} |")
    out.append("")

    out += ["## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    out += [f"| {t} | {v} | {verdict} |" for t, v, verdict in targets(results)]
    out.append("")

    cold = results.get("cold", {})
    out += ["## `licn build` on the real data, cold process", ""]
    if "error" in cold:
        out += ["The build failed:", "", "```", cold["error"], "```", ""]
    else:
        out += ["| measurement | time |", "|---|---|",
                f"| `licn build --out DIR`, whole process ({cold['wall']['n']} runs) | {_stat(cold['wall'])} |",
                f"| of which starting Python | {_s(cold.get('interpreter_s'))} |",
                f"| `import licn.build` (Python start included) | {_stat(cold['import'])} |",
                f"| peak memory | {_mb(cold['maxrss_mb']['max'])} |"]
        if "tmpfs" in cold:
            out.append(f"| the same with `--out` on tmpfs (`/dev/shm`, no disk) | {_stat(cold['tmpfs']['wall'])} |")
        if "no_site" in cold:
            out.append(f"| `licn build --no-site` (data only: no figures, no static site) | {_stat(cold['no_site']['wall'])} |")
        out += ["", f"Last run's own report: `{cold.get('output', '')}`", ""]
        if "tmpfs" in cold:
            out += [f"With the output on tmpfs: `{cold['tmpfs']['output']}`", ""]
        if "no_site" in cold:
            out += [f"Data only: `{cold['no_site']['output']}`", ""]
        if cold.get("file_create_us") is not None:
            tmpfs = cold.get("tmpfs", {}).get("file_create_us")
            out += [f"Creating and writing one small file took {cold['file_create_us']:.0f} µs on the disk where the "
                    "benchmark writes" + (f" and {tmpfs:.0f} µs on tmpfs" if tmpfs is not None else "")
                    + " (measured with 2,000 files right after the builds); the static site writes about 3,700.", ""]

    out += ["## Build phases at each size", "",
            "`build(out, data_dir)` in a fresh process per run. The phases are the ones `licn build` reports "
            "(load: loaders and the sets of triples per layer; validate: SHACL; serialise: the dumps and VoID; "
            "checks: the violation queries on the written N-Quads; figures: drawn in a second process while the "
            "site's documents are written, so figures and site overlap; site: until the site is complete).", ""]
    all_sizes = sizes(results)
    phase_names = []
    for _, r in all_sizes:
        for k in r.get("phases", {}):
            if k not in phase_names:
                phase_names.append(k)
    out.append("| size | studies | triples | " + " | ".join(phase_names) + " | build (in process) | wall (process) | peak memory |")
    out.append("|---|---:|---:|" + "---:|" * (len(phase_names) + 3))
    for n, r in all_sizes:
        if "error" in r:
            out.append(f"| {_label(n)} | | | failed after {_s(r.get('wall_s'))}, peak {_mb(r.get('maxrss_mb'))} |")
            continue
        cells = [_stat(r["phases"].get(k)) for k in phase_names]
        out.append(f"| {_label(n)} | {r['studies']:,} | {r['triples']:,} | " + " | ".join(cells)
                   + f" | {_stat(r['build'])} | {_stat(r['wall'])} | {_mb(r['maxrss_mb']['max'])} |")
    out.append("")
    step_names = []
    for _, r in all_sizes:
        for k in r.get("steps", {}):
            if k not in step_names:
                step_names.append(k)
    if step_names:
        out += ["Finer steps (medians; each function `build()` calls, timed where `licn.build` looks it up):", ""]
        out.append("| size | " + " | ".join(f"`{k}`" for k in step_names) + " |")
        out.append("|---|" + "---:|" * len(step_names))
        for n, r in all_sizes:
            if "error" not in r:
                out.append(f"| {_label(n)} | " + " | ".join(_s(r["steps"].get(k, {}).get("median")) for k in step_names) + " |")
        out.append("")
    corpus = [(n, r["corpus"]) for n, r in all_sizes if n != "real" and "corpus" in r]
    if corpus:
        keys = list(corpus[0][1])
        out += ["Synthetic corpora (`python -m bench.synth N DIR`; same files, columns and loaders as `data/`):", "",
                "| size | " + " | ".join(k.replace("_", " ") for k in keys) + " | generated in |",
                "|---|" + "---:|" * (len(keys) + 1)]
        for n, c in corpus:
            r = results["synthetic"][n]
            out.append(f"| {_label(n)} | " + " | ".join(f"{c[k]:,}" for k in keys) + f" | {_s(r.get('generate_s'))} |")
        out.append("")

    g = growth(results)
    if g:
        stages = list(dict.fromkeys(s for row in g for s in row["stages"]))
        out += ["## Growth per 10x of data", "",
                "t(10N) / t(N) per stage (target: at most 12x); between sizes that are not ten times apart, the "
                "ratio r is given per 10x as r^(1/log10(M/N)).", "",
                "| from -> to | triples | " + " | ".join(stages) + " |", "|---|---:|" + "---:|" * len(stages)]
        for row in g:
            out.append(f"| {row['from']:,} -> {row['to']:,} | {_x(row['triples'])} | "
                       + " | ".join(_x(row["stages"].get(s)) for s in stages) + " |")
        out.append("")
    sg = stream_growth(results)
    if sg:
        stages = list(dict.fromkeys(s for row in sg for s in row["stages"]))
        out += ["The streamed core build (below), for comparison:", "",
                "| from -> to | triples | " + " | ".join(stages) + " |", "|---|---:|" + "---:|" * len(stages)]
        for row in sg:
            out.append(f"| {row['from']:,} -> {row['to']:,} | {_x(row['triples'])} | "
                       + " | ".join(_x(row["stages"].get(s)) for s in stages) + " |")
        out.append("")

    attempts = results.get("attempts", {})
    for n, a in attempts.items():
        out += [f"## The data-only build at {_label(n)}", "",
                "`build(out, data_dir, site=False)`, as `licn build --no-site`: load, validate, dumps, VoID, checks; "
                "no figures and no static site (which would write about six files per study).", ""]
        if "error" not in a:
            out += [f"Built in {_stat(a['wall'])}, peak {_mb(a['maxrss_mb']['max'])}; its phases are in the tables above.", ""]
            continue
        why = (f"the time limit of {a.get('timeout_s'):g} s" if a.get("timed_out")
               else f"exit code {a.get('rc')}: `{a.get('last_line', '')[:300]}`")
        out += [f"One run, capped at {a.get('timeout_s'):g} s and {a.get('memory_limit_mb'):,} MB of address space "
                f"(so that it fails by itself instead of pressing the machine). It stopped after {_s(a.get('wall_s'))} "
                f"on {why}, at a peak of {_mb(a.get('maxrss_mb'))}.", "", "Steps finished before it stopped:", ""]
        out += [f"- `{line}`" for line in a.get("steps_done", [])] or ["- none"]
        out.append("")

    stream = results.get("stream", {})
    if stream:
        out += ["## Streamed core build (bench/stream.py, the next step at scale)", "",
                "The same loaders and the same quick SHACL check, then each layer formatted, sorted and written on its "
                "own and freed (the build keeps every layer's set and their union until the dumps are written), the "
                "layers merged into `licn.nq` and `licn.nt`, those loaded into pyoxigraph and the violation checks run "
                "there. No Turtle, TriG, JSON-LD, VoID, figures or site.", ""]
        names = []
        for e in stream.values():
            for k in (e.get("data") or {}).get("steps", {}):
                if k not in names:
                    names.append(k)
        out.append("| size | quads | " + " | ".join(names) + " | total | peak memory | N-Quads and N-Triples as the build's |")
        out.append("|---|---:|" + "---:|" * (len(names) + 2) + "---|")
        for n, e in stream.items():
            d = e.get("data")
            if not d:
                out.append(f"| {_label(n)} | failed: `{e.get('error', '')[-200:]}` |")
                continue
            same = {True: "identical", False: "**different**"}.get(e.get("same_as_build"), "no build to compare")
            out.append(f"| {_label(n)} | {d['quads']:,} | " + " | ".join(_s(d["steps"].get(k)) for k in names)
                       + f" | {_s(d['total_s'])} | {_mb(e['maxrss_mb'])} | {same} |")
        out.append("")
        mem = [(n, e["data"]["rss_mb_after"]) for n, e in stream.items() if e.get("data")]
        if mem:
            out += ["Peak memory after each step: " + "; ".join(
                f"{_label(n)}: " + ", ".join(f"{k} {_mb(v)}" for k, v in m.items()) for n, m in mem) + ".", ""]

    q = results.get("queries", {})
    if q:
        out += ["## Stored-query suite", "",
                "Every query of `licn queries` with its default parameters through `licn.query.engines.run`, the store "
                "loaded once first (load time apart). Suite = sum of the per-query medians.", "",
                "| size | triples | pyoxigraph load | pyoxigraph suite | rdflib load | rdflib suite | rdflib / pyoxigraph |",
                "|---|---:|---:|---:|---:|---:|---:|"]
        triples_of = {n: r.get("triples") for n, r in all_sizes}
        for n in sorted(q, key=lambda k: -1 if k == "real" else int(k)):
            e = q[n]
            ox, rd = e.get("oxigraph", {}), e.get("rdflib", {})
            r = {"triples": triples_of.get(n) or ox.get("store_size") or 0}
            ratio = _x(_ratio(rd.get("suite_s"), ox.get("suite_s"))) if rd.get("complete") and ox.get("complete") else "-"
            if ox.get("complete") and rd.get("queries") and not rd.get("complete"):
                # queries cut off count at their time limit: a lower bound
                bound = sum(d["median"] if d["median"] is not None else rd.get("timeout_s", 0)
                            for d in rd["queries"].values())
                ratio = f"at least {_x(_ratio(bound, ox.get('suite_s')))}"

            def cell(d, key):
                if "skipped" in d:
                    return "skipped"
                if "error" in d:
                    return "error"
                value = _s(d.get(key))
                return value if key != "suite_s" or d.get("complete") else value + f" ({len(d.get('failed', {}))} cut off)"
            note = "" if n in triples_of else " (N-Quads of the streamed build)"
            out.append(f"| {_label(n)}{note} | {r.get('triples', 0):,} | {cell(ox, 'load_s')} | {cell(ox, 'suite_s')} | "
                       f"{cell(rd, 'load_s')} | {cell(rd, 'suite_s')} | {ratio} |")
        out.append("")
        skipped = {n: e["rdflib"]["skipped"] for n, e in q.items() if "skipped" in e.get("rdflib", {})}
        for n, why in skipped.items():
            out.append(f"- rdflib at {_label(n)}: {why}.")
        failed = [(n, eng, name, err) for n, e in q.items() for eng, d in e.items() for name, err in d.get("failed", {}).items()]
        for n, eng, name, err in failed:
            out.append(f"- {_label(n)}, {eng}, `{name}`: {err}")
        if skipped or failed:
            out.append("")
        real = q.get("real", {})
        if real.get("oxigraph", {}).get("queries"):
            out += ["Per query on the real data:", "", "| query | rows | pyoxigraph | rdflib | ratio |", "|---|---:|---:|---:|---:|"]
            rq = real.get("rdflib", {}).get("queries", {})
            for name, d in real["oxigraph"]["queries"].items():
                r2 = rq.get(name, {})
                out.append(f"| `{name}` | {d['rows'] if d['rows'] is not None else '-'} | {_stat(d)} | {_stat(r2) if r2 else '-'} | "
                           f"{_x(_ratio(r2.get('median'), d.get('median')))} |")
            out.append("")

    serve = results.get("serve", {})
    if serve:
        out += ["## `licn serve` beside Oxigraph server and rdflib-endpoint", ""]
        first = next(iter(serve.values()))
        runs = (f"{first.get('repeats')} runs per cell at the real size, "
                f"{max(d.get('repeats', 0) for d in serve.values())} at the others" if len(serve) > 1
                else f"{first.get('repeats')} run(s) per cell")
        runs = runs if len({d.get("repeats") for d in serve.values()}) > 1 else f"{first.get('repeats')} run(s) per cell"
        out.append(f"wrk on 127.0.0.1, 16 connections, 2 threads, {first.get('seconds')} s per run, {runs}"
                   + (" after a 1 s warm-up" if first.get("warmup", True) else "")
                   + f"; the load generator shares the {m['cores']} cores with the server. Requests: *dereference* = "
                   "`GET /id/study/ref-88` with `Accept: text/turtle`, the 303 See Other and then the document it "
                   "points to, counted as one (on the peers, which do not dereference, the CONSTRUCT query that gives "
                   "the same triples); *point* = `SELECT ?p ?o WHERE { <study/ref-88> ?p ?o }`; *aggregate* = codings "
                   f"and distinct cited entries per level (`GROUP BY`, every coding). licn: `licn serve --processes "
                   f"{m['cores']} --query-workers 1` (one server process per core, as Oxigraph uses every core). "
                   "Oxigraph: `oxigraph load`, "
                   "`oxigraph optimize`, then `oxigraph serve-read-only --union-default-graph` (an on-disk RocksDB store, "
                   "as the server keeps it); rdflib-endpoint: `rdflib-endpoint serve licn.nq`.")
        out.append("")
        for label, s in serve.items():
            out.append(f"### {_label(label)}")
            out.append("")
            for key in ("skipped", "skipped_licn", "skipped_rdflib_endpoint"):
                if key in s:
                    out += [f"Not measured: {s[key]}.", ""]
            servers = s.get("servers", {})
            for name in SERVERS:
                if name in servers and "error" in servers[name]:
                    out += [f"{name} failed: `{servers[name]['error'][:500]}`", ""]
            out += ["| request | server | requests/s | p50 latency | p99 latency | response bytes |", "|---|---|---:|---:|---:|---:|"]
            for kind in KINDS:
                for name in SERVERS:
                    e = servers.get(name, {}).get("kinds", {}).get(kind)
                    if not e:
                        continue
                    runs = [r for r in e["runs"] if r.get("ok")]
                    if not runs:
                        why = (f"no answer within wrk's 10 s timeout" if e.get("runs") and all(
                            not r.get("requests") or not r.get("rps") for r in e["runs"]) else f"failed (status {e.get('status')})")
                        out.append(f"| {kind} | {name} | {why} | | | {e.get('bytes')} |")
                        continue
                    rps = {"median": sorted(r["rps"] for r in runs)[len(runs) // 2], "min": min(r["rps"] for r in runs),
                           "max": max(r["rps"] for r in runs), "n": len(runs)}
                    p50 = sorted(r["p50_ms"] for r in runs)[len(runs) // 2]
                    p99 = sorted(r["p99_ms"] for r in runs)[len(runs) // 2]
                    out.append(f"| {kind} | {name} | {_stat(rps, lambda v: f'{v:,.0f}')} | {p50:.2f} ms | {p99:.2f} ms | {e['bytes']:,} |")
            out.append("")
            if "licn" in servers:
                r = serve_ratios(s)
                out += ["| request | licn / Oxigraph | licn / rdflib-endpoint |", "|---|---:|---:|"]
                for kind in KINDS:
                    out.append(f"| {kind} | {_x(r[kind]['vs_oxigraph'])} | {_x(r[kind]['vs_rdflib_endpoint'])} |")
                out.append("")
            for name, d in servers.items():
                for death in d.get("deaths", []):
                    rc = death["returncode"]
                    how = f"signal {-rc}" + (" (SIGPIPE)" if rc == -13 else "") if rc < 0 else f"exit code {rc}"
                    when = "at the end" if death["before"] == "end" else f"before the *{death['before']}* runs"
                    out += [f"**{name} died** during the wrk run that came {when}: {how}; the benchmark started it "
                            "again for the next runs.", ""]
            starts = ", ".join(f"{n} {_s(d.get('start_s'))}" for n, d in servers.items() if d.get("start_s"))
            if starts:
                out += [f"Time from start to the first answer: {starts}.", ""]

    eq = results.get("equivalence", [])
    if eq:
        out += ["## Dumps: byte-for-byte against rdflib's serialisers", "",
                "`python -m bench.equivalence DIR` writes every dump both ways (rdflib's `serialize` as the "
                "dumps were first written, and `licn.dumps`) and compares the text:", ""]
        out += [f"- `{e['output']}`" if e["output"] else f"- {e['data']}: exit {e['rc']}" for e in eq]
        out.append("")

    if NOTES.exists():
        out += [NOTES.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(out)


def key_lines(results: dict) -> str:
    lines = ["key numbers:"]
    for target, measured, verdict in targets(results):
        lines.append(f"  {target}: {measured} [{verdict.replace('**', '')}]")
    for row in growth(results):
        worst = max(((v, s) for s, v in row["stages"].items() if v is not None and s != "peak memory"), default=(None, ""))
        if worst[0] is not None:
            lines.append(f"  growth {row['from']:,} -> {row['to']:,}: triples {_x(row['triples'])}, "
                         f"worst stage {worst[1]} {worst[0]:.1f}x, build {_x(row['stages'].get('build (wall)'))}")
    for label, e in results.get("queries", {}).items():
        ox, rd = e.get("oxigraph", {}), e.get("rdflib", {})
        if ox.get("complete") and rd.get("complete"):
            lines.append(f"  query suite at {_label(label)}: pyoxigraph {_s(ox['suite_s'])}, rdflib {_s(rd['suite_s'])}, "
                         f"ratio {_x(_ratio(rd['suite_s'], ox['suite_s']))}")
    for label, s in results.get("serve", {}).items():
        if "licn" in s.get("servers", {}):
            r = serve_ratios(s)
            lines.append(f"  serve at {_label(label)}: " + "; ".join(
                f"{k} licn/oxigraph {_x(r[k]['vs_oxigraph'])}, licn/rdflib-endpoint {_x(r[k]['vs_rdflib_endpoint'])}"
                for k in KINDS))
    for e in results.get("equivalence", []):
        lines.append(f"  dumps vs rdflib: {e['output'] or e['rc']}")
    return "\n".join(lines)
