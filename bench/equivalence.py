"""Byte-for-byte check of the dumps against rdflib's own serialisers.

licn/dumps.py writes N-Triples, N-Quads, Turtle, TriG and JSON-LD with its own writers; this module
holds the plain rdflib way of writing them (as the dumps were first written) and compares the
two on a data folder. The benchmark runs it on the real data and a synthetic corpus.

    python -m bench.equivalence [DATA_DIR ...]
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from rdflib import Dataset, Graph

from licn import dumps
from licn.catalogue import catalogue_triples
from licn.dataset import BuiltGraph, load_layers, ontology_triples
from loaders.vocab import PREFIXES


def reference_trig(ds: Dataset) -> str:
    head, bodies = set(), []
    for named in sorted(ds.graphs(), key=lambda c: str(c.identifier)):
        if len(named) == 0:
            continue
        g = Graph()
        for prefix, ns in PREFIXES.items():
            g.bind(prefix, ns, override=True, replace=True)
        for triple in sorted(named):
            g.add(triple)
        lines = g.serialize(format="turtle").splitlines()
        head.update(line for line in lines if line.startswith("@prefix"))
        body = [("    " + line) if line else "" for line in lines if not line.startswith("@prefix")]
        bodies.append(f"<{named.identifier}> {{\n" + "\n".join(body).strip("\n") + "\n}\n")
    return "\n".join(sorted(head)) + "\n\n" + "\n".join(bodies)


def reference_jsonld(union: Graph) -> str:
    context = {prefix: str(ns) for prefix, ns in sorted(PREFIXES.items())}
    data = json.loads(union.serialize(format="json-ld", context=context))
    return json.dumps(dumps._normalise(data), sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def sorted_lines(text: str) -> str:
    lines = sorted({line for line in text.splitlines() if line.strip()})
    return "\n".join(lines) + "\n"


def reference_dataset(data: BuiltGraph) -> Dataset:
    """The built graph as an rdflib Dataset (a named graph per layer), for rdflib's own writers."""
    ds = Dataset()
    for prefix, ns in PREFIXES.items():
        ds.bind(prefix, ns, override=True, replace=True)
    for name, triples in data.graphs.items():
        g = ds.graph(name)
        for triple in sorted(triples):
            g.add(triple)
    return ds


def reference_dumps(ds: Dataset, union: Graph) -> dict[str, str]:
    return {
        "licn.nt": sorted_lines(union.serialize(format="nt")),
        "licn.nq": sorted_lines(ds.serialize(format="nquads")),
        "licn.ttl": union.serialize(format="turtle"),
        "licn.trig": reference_trig(ds),
        "licn.jsonld": reference_jsonld(union),
    }


def fast_dumps(data: BuiltGraph) -> dict[str, str]:
    """What licn.dumps.write_dumps writes (as the build calls it)."""
    with tempfile.TemporaryDirectory() as folder:
        dumps.write_dumps(data, Path(folder))
        return {name: (Path(folder) / name).read_text(encoding="utf-8")
                for name in ("licn.nt", "licn.nq", "licn.ttl", "licn.trig", "licn.jsonld")}


def compare(data_dir: Path) -> dict:
    """Both ways of writing the dumps of one data folder: which files differ, and the times."""
    layers = load_layers(data_dir)
    layers["ontology"] = ontology_triples()
    layers["catalogue"] = catalogue_triples()
    data = BuiltGraph(layers)
    ds = reference_dataset(data)
    union = data.union_graph()
    t = time.perf_counter()
    ref = reference_dumps(ds, union)
    t_ref = time.perf_counter() - t
    t = time.perf_counter()
    fast = fast_dumps(data)
    t_fast = time.perf_counter() - t
    differ = [name for name in ref if ref[name] != fast[name]]
    return {"data": str(data_dir), "triples": len(union), "identical": not differ, "differ": differ,
            "rdflib_s": t_ref, "fast_s": t_fast, "bytes": sum(len(v.encode()) for v in fast.values())}


def main(argv: list[str] | None = None) -> int:
    folders = [Path(a) for a in (sys.argv[1:] if argv is None else argv)] or [Path("data")]
    ok = True
    for folder in folders:
        r = compare(folder)
        ok &= r["identical"]
        print(f"{folder}: {r['triples']} triples, {'identical' if r['identical'] else 'DIFFERENT: ' + ', '.join(r['differ'])}; "
              f"rdflib {r['rdflib_s']:.2f} s, licn.dumps {r['fast_s']:.2f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
