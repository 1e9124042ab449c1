"""A streamed core build: what `licn build` could do at 10^5 studies by writing each layer and freeing it.

This is a measured next step, not the build. It runs the same loaders, the same quick SHACL check
(licn.validate.quick_conforms, over plain dictionaries), writes the same sorted N-Quads and
N-Triples (each layer formatted, sorted, written and freed on its own, then the layers merged),
loads the N-Quads into pyoxigraph and runs the violation checks there. Turtle, TriG, JSON-LD,
VoID, figures and the site are not written. The N-Quads and N-Triples it writes are
byte-identical to the build's (the benchmark compares them where both exist).

    python -m bench.stream DATA_DIR OUT_DIR
"""
from __future__ import annotations

import gc
import heapq
import json
import resource
import sys
import time
from pathlib import Path

from rdflib import Literal
from rdflib.namespace import RDF, RDFS

from licn import paths
from licn.catalogue import catalogue_triples, parse_query_file, run_oxigraph
from licn.dataset import load_layers, ontology_triples
from licn.dumps import _N3, _quoteLiteral
from licn.validate import compile_shapes, quick_conforms, shapes_graph
from loaders.vocab import graph_iri

class _Pairs:
    """Just enough of a graph for licn.validate's quick check: subject_objects(p)."""

    def __init__(self, by_predicate: dict):
        self.by_predicate = by_predicate

    def subject_objects(self, p):
        return iter(self.by_predicate.get(p, ()))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stream_build(data_dir: Path, out: Path) -> dict:
    import pyoxigraph as ox
    out.mkdir(parents=True, exist_ok=True)
    steps, memory = {}, {}
    gc.disable()  # millions of small objects stay alive to the end; collections would only walk them
    t0 = t = time.perf_counter()

    def step(name: str):
        nonlocal t
        now = time.perf_counter()
        steps[name] = now - t
        memory[name] = _rss_mb()
        t = now

    layers = load_layers(data_dir)
    layers["ontology"] = ontology_triples()
    layers["catalogue"] = catalogue_triples()
    step("load_layers")

    shapes = shapes_graph()
    compiled = compile_shapes(shapes)
    wanted = {RDF.type, RDFS.subClassOf} | {p["path"] for s in compiled
                                          for p in s["properties"] + [m for alt in s["or"] for m in alt]}
    by_predicate: dict = {p: [] for p in wanted}
    for triples in layers.values():
        for s, p, o in triples:
            pairs = by_predicate.get(p)
            if pairs is not None:
                pairs.append((s, o))  # repeats across layers are harmless: the check counts distinct values
    conforms = quick_conforms(_Pairs(by_predicate), shapes)
    del by_predicate
    step("validate (quick check)")

    n3 = _N3()
    parts = []
    total = 0
    for layer in sorted(layers):
        triples = set(layers.pop(layer))
        g = graph_iri(layer).n3()
        rows = sorted(f"{n3[s]} {n3[p]} {_quoteLiteral(o) if isinstance(o, Literal) else n3[o]}" for s, p, o in triples)
        del triples
        total += len(rows)
        nt_part, nq_part = out / f".{layer}.nt", out / f".{layer}.nq"
        nt_part.write_text("".join(r + " .\n" for r in rows), encoding="utf-8")
        nq_part.write_text("".join(f"{r} {g} .\n" for r in rows), encoding="utf-8")
        parts.append((nt_part, nq_part))
        del rows
    del layers, n3
    step("format and sort each layer")

    def merged(files, unique: bool):
        handles = [open(f, encoding="utf-8") for f in files]
        try:
            last = None
            for line in heapq.merge(*handles):
                if not unique or line != last:
                    yield line
                last = line
        finally:
            for h in handles:
                h.close()

    with open(out / "licn.nq", "w", encoding="utf-8") as f:
        f.writelines(merged([nq for _, nq in parts], unique=False))
    with open(out / "licn.nt", "w", encoding="utf-8") as f:
        f.writelines(merged([nt for nt, _ in parts], unique=True))
    for nt, nq in parts:
        nt.unlink()
        nq.unlink()
    step("merge into licn.nq and licn.nt")

    store = ox.Store()
    store.bulk_load(path=str(out / "licn.nq"), format=ox.RdfFormat.N_QUADS)
    step("pyoxigraph bulk load")

    failures, per_check = [], {}
    for query in [parse_query_file(path) for path in sorted(paths.CHECKS.glob("*-violation.rq"))]:
        tq = time.perf_counter()
        result = run_oxigraph(store, query.text)
        per_check[query.name] = time.perf_counter() - tq
        failures += result.rows
    step("checks")
    gc.enable()
    return {"steps": steps, "rss_mb_after": memory, "total_s": time.perf_counter() - t0, "quads": total,
            "conforms": conforms, "check_rows": len(failures), "checks": per_check,
            "maxrss_mb": _rss_mb()}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    result = stream_build(Path(args[0]), Path(args[1]))
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0 if result["conforms"] and not result["check_rows"] else 1


if __name__ == "__main__":
    sys.exit(main())
