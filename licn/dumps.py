"""Deterministic serialisations of the dataset and its VoID/DCAT description."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, XSD

from loaders.vocab import BASE, DCAT, GRAPH, ID, PREFIXES, VOID, review_iri


LICENCE = URIRef("https://creativecommons.org/licenses/by/4.0/")
DATASET = ID["dataset/licn-kg"]
DUMPS = {
    "licn.ttl": "text/turtle",
    "licn.nt": "application/n-triples",
    "licn.nq": "application/n-quads",
    "licn.trig": "application/trig",
    "licn.jsonld": "application/ld+json",
}


def sorted_lines(text: str) -> str:
    lines = sorted({line for line in text.splitlines() if line.strip()})
    return "\n".join(lines) + "\n"


def write_dumps(ds: Dataset, union: Graph, out: Path) -> None:
    """Write every dump into out/."""
    (out / "licn.nt").write_text(sorted_lines(union.serialize(format="nt")), encoding="utf-8")
    (out / "licn.nq").write_text(sorted_lines(ds.serialize(format="nquads")), encoding="utf-8")
    (out / "licn.ttl").write_text(union.serialize(format="turtle"), encoding="utf-8")
    (out / "licn.trig").write_text(trig(ds), encoding="utf-8")
    (out / "licn.jsonld").write_text(jsonld(union), encoding="utf-8")


def trig(ds: Dataset) -> str:
    """TriG with the named graphs in sorted order, each body as rdflib writes its Turtle."""
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


def _normalise(value):
    """JSON-LD with every array in a fixed order (the graph has no ordered lists)."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_normalise(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return value


def jsonld(union: Graph) -> str:
    context = {prefix: str(ns) for prefix, ns in sorted(PREFIXES.items())}
    data = json.loads(union.serialize(format="json-ld", context=context))
    return json.dumps(_normalise(data), sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def void_graph(ds: Dataset, union: Graph, out: Path) -> Graph:
    """VoID + DCAT: counts per graph and class, distributions, licence."""
    g = Graph()
    for prefix in ("void", "dcat", "dcterms", "foaf", "rdfs", "xsd"):
        g.bind(prefix, PREFIXES[prefix])
    d = DATASET
    entities = {s for s in union.subjects() if isinstance(s, URIRef) and str(s).startswith(str(ID))}
    g += [(d, RDF.type, VOID.Dataset), (d, RDF.type, DCAT.Dataset),
          (d, DCTERMS.title, Literal("LICN-KG: leadership in integrated care networks", lang="en")),
          (d, DCTERMS.description, Literal("A knowledge graph of the literature review by Mitterlechner (2020, International Journal of Integrated Care 20(3):6): its reference list, the 73 reviewed studies, their codings by level of analysis and kind of leadership mechanism, the figures the review reports, research avenues and tensions; every fact with its source.", lang="en")),
          (d, DCTERMS.license, LICENCE), (d, DCTERMS.source, review_iri()),
          (d, DCTERMS.source, URIRef("https://doi.org/10.5334/ijic.5420")),
          (d, FOAF.homepage, URIRef(BASE)), (d, VOID.uriSpace, Literal(str(ID))),
          (d, VOID.sparqlEndpoint, URIRef(BASE + "sparql")),
          (d, VOID.triples, Literal(len(union))), (d, VOID.entities, Literal(len(entities))),
          (d, VOID.distinctSubjects, Literal(len(set(union.subjects())))),
          (d, VOID.properties, Literal(len(set(union.predicates())))),
          (d, VOID.classes, Literal(len(set(union.objects(None, RDF.type)))))]
    for vocabulary in ("licn", "skos", "prov", "fabio", "biro", "cito", "bibo", "dcterms"):
        g.add((d, VOID.vocabulary, URIRef(str(PREFIXES[vocabulary]))))
    for cls in sorted(set(union.objects(None, RDF.type))):
        part = ID[f"dataset/licn-kg/class/{hashlib.sha1(str(cls).encode()).hexdigest()[:12]}"]
        g += [(d, VOID.classPartition, part), (part, VOID["class"], cls),
              (part, VOID.entities, Literal(len(set(union.subjects(RDF.type, cls)))))]
    for named in sorted(ds.graphs(), key=lambda c: str(c.identifier)):
        if not str(named.identifier).startswith(str(GRAPH)):
            continue
        layer = ID[f"dataset/licn-kg/graph/{str(named.identifier)[len(str(GRAPH)):]}"]
        g += [(d, VOID.subset, layer), (layer, RDF.type, VOID.Dataset), (layer, RDFS.label, Literal(str(named.identifier)[len(str(GRAPH)):])),
              (layer, DCTERMS.identifier, named.identifier), (layer, VOID.triples, Literal(len(named)))]
    for name, media in sorted(DUMPS.items()):
        dist = ID[f"dataset/licn-kg/dump/{name}"]
        g += [(d, DCAT.distribution, dist), (d, VOID.dataDump, URIRef(BASE + "dumps/" + name)),
              (dist, RDF.type, DCAT.Distribution), (dist, DCAT.downloadURL, URIRef(BASE + "dumps/" + name)),
              (dist, DCAT.mediaType, Literal(media)), (dist, DCTERMS.license, LICENCE),
              (dist, DCAT.byteSize, Literal((out / name).stat().st_size, datatype=XSD.decimal))]
    return g
