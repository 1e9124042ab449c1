"""The quick SHACL check against pyshacl on damaged copies of the real graph.

licn.validate answers "conforms" from its own quick check and leaves everything else to pyshacl.
That is only right if the quick check never passes a graph pyshacl rejects. This takes the real
union graph, damages it at random (drops a value, adds a second value, swaps an object for another
term, changes a literal's datatype or language, types a node as a shaped class) and asks both.

    python -m bench.soundness [CASES] [SEED]
"""
from __future__ import annotations

import logging
import random
import sys
import time

from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from licn.catalogue import catalogue_triples
from licn.dataset import BuiltGraph, load_layers, ontology_triples
from licn.validate import compile_shapes, quick_conforms, shapes_graph


def _literal_variants(o: Literal) -> list:
    text = str(o)
    return [Literal(text), Literal(text, lang="en"), Literal(text, lang="de"), Literal(text, datatype=XSD.integer),
            Literal(text, datatype=XSD.gYear), Literal("abc", datatype=XSD.integer), Literal("-3", datatype=XSD.integer),
            Literal("0", datatype=XSD.integer), Literal(text, datatype=XSD.string), Literal(text, lang="EN-gb"),
            Literal("true", datatype=XSD.boolean), Literal("2020", datatype=XSD.date), Literal(" " + text),
            Literal("10.1234/x y"), Literal("http://www.wikidata.org/entity/Q1")]


def mutate(g: Graph, rng: random.Random, predicates: list, classes: list, triples: list) -> Graph:
    h = Graph()
    for t in triples:
        h.add(t)
    for _ in range(rng.randint(1, 3)):
        p = rng.choice(predicates)
        pairs = list(h.subject_objects(p))
        if not pairs:
            continue
        s, o = rng.choice(pairs)
        kind = rng.randrange(6)
        if kind == 0:
            h.remove((s, p, o))
        elif kind == 1:
            _, o2 = rng.choice(pairs)
            h.add((s, p, o2 if o2 != o else Literal("extra")))
        elif kind == 2 and isinstance(o, Literal):
            h.remove((s, p, o))
            h.add((s, p, rng.choice(_literal_variants(o))))
        elif kind == 3:
            h.remove((s, p, o))
            other = rng.choice(triples)
            h.add((s, p, rng.choice([other[0], other[2], URIRef("urn:x:nothing"), Literal("x")])))
        elif kind == 4:
            node = rng.choice(triples)[rng.choice((0, 2))]
            if not isinstance(node, Literal):
                h.add((node, RDF.type, rng.choice(classes)))
        else:
            for t in list(h.triples((s, None, None))):
                if rng.random() < 0.3:
                    h.remove(t)
    return h


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    cases = int(args[0]) if args else 100
    seed = int(args[1]) if len(args) > 1 else 1
    rng = random.Random(seed)
    logging.disable(logging.WARNING)  # rdflib logs every ill-typed literal the damage makes
    layers = load_layers()
    layers["ontology"] = ontology_triples()
    layers["catalogue"] = catalogue_triples()
    union = BuiltGraph(layers).union_graph()
    shapes = shapes_graph()
    compiled = compile_shapes(shapes)
    predicates = sorted({p["path"] for s in compiled for p in s["properties"] + [m for alt in s["or"] for m in alt]})
    classes = sorted({c for s in compiled for c in s["targets"]})
    triples = sorted(union)
    agree = cautious = unsound = 0
    t0 = time.perf_counter()
    for i in range(cases):
        g = mutate(union, rng, predicates, classes, triples)
        quick = quick_conforms(g, shapes)
        full = shacl_validate(g, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=False)[0]
        if quick == full:
            agree += 1
        elif not quick:
            cautious += 1  # left to pyshacl, which finds it conforms: right answer, slower
        else:
            unsound += 1
            print(f"case {i}: the quick check passes a graph pyshacl rejects", file=sys.stderr)
    print(f"{cases} damaged graphs: {agree} same verdict, {cautious} left to pyshacl although they conform, "
          f"{unsound} passed wrongly; {time.perf_counter() - t0:.0f} s")
    return 1 if unsound else 0


if __name__ == "__main__":
    sys.exit(main())
