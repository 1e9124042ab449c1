"""The dumps of the built graph, each written by a maintained serialiser, and its VoID/DCAT description.

N-Triples and N-Quads come from pyoxigraph with their lines sorted, so that the same data gives the
same bytes; Turtle and TriG are pyoxigraph's writers fed in that sorted order, with the project's
prefixes; JSON-LD is pyoxigraph's writer too, in expanded form (rdflib's compaction costs ~80 s at 10^4
studies, pyld's more); the per-resource documents of the site are compacted with the project's context
by rdflib (`jsonld`)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, XSD

from loaders.vocab import BASE, DCAT, GRAPH, ID, LICENCE, PREFIXES, VCARD, VOID, review_iri

from .graph import to_rdflib


class Dump(NamedTuple):
    name: str
    media: str
    label: str


DUMPS = (
    Dump("licn.nq", "application/n-quads", "N-Quads, sorted, one named graph per layer"),
    Dump("licn.trig", "application/trig", "TriG, one named graph per layer"),
    Dump("licn.nt", "application/n-triples", "N-Triples, sorted, all layers together"),
    Dump("licn.ttl", "text/turtle", "Turtle, all layers together"),
    Dump("licn.jsonld", "application/ld+json", "JSON-LD, expanded, all layers together"),
)
PREFIX_IRIS = {prefix: str(ns) for prefix, ns in sorted(PREFIXES.items())}


def sorted_lines(text: bytes) -> list[bytes]:
    """The lines of an N-Triples or N-Quads document, sorted, each once."""
    return sorted(set(text.splitlines(keepends=True)))


def layer_names(store: ox.Store) -> list[ox.NamedNode]:
    return sorted((g for g in store.named_graphs() if isinstance(g, ox.NamedNode)), key=lambda g: g.value)


def write_dumps(store: ox.Store, out: Path) -> None:
    """Every dump of the store into out/. The sorted lines go straight to the files, and Turtle and
    JSON-LD are read back from licn.nt, so that no second copy of a whole dump is held in memory."""
    with open(out / "licn.nq", "wb") as f:
        f.writelines(sorted_lines(store.dump(format=ox.RdfFormat.N_QUADS)))
    layers = {g: b"".join(sorted_lines(store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g)))
              for g in layer_names(store)}
    with open(out / "licn.nt", "wb") as f:
        f.writelines(sorted(set().union(*(lines.splitlines(keepends=True) for lines in layers.values()))))
    quads = (ox.Quad(t.subject, t.predicate, t.object, g)
             for g, lines in layers.items() for t in ox.parse(lines, format=ox.RdfFormat.N_TRIPLES))
    ox.serialize(quads, str(out / "licn.trig"), format=ox.RdfFormat.TRIG, prefixes=PREFIX_IRIS)
    del layers
    nt = str(out / "licn.nt")
    ox.serialize(ox.parse(path=nt, format=ox.RdfFormat.N_TRIPLES), str(out / "licn.ttl"),
                 format=ox.RdfFormat.TURTLE, prefixes=PREFIX_IRIS)
    ox.serialize(ox.parse(path=nt, format=ox.RdfFormat.N_TRIPLES), str(out / "licn.jsonld"),
                 format=ox.RdfFormat.JSON_LD)


def _in_order(value):
    """A JSON-LD value with its arrays in a fixed order: the graph has no ordered lists, so an
    array's order carries no meaning, and rdflib's depends on the process's hash seed."""
    if isinstance(value, dict):
        return {k: _in_order(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_in_order(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return value


def jsonld(triples, context: dict | None = None) -> str:
    """pyoxigraph triples as JSON-LD compacted with a context (the project's prefixes by default)."""
    g = Graph()
    for t in triples:
        g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    document = json.loads(g.serialize(format="json-ld", context=context or PREFIX_IRIS))
    return json.dumps(_in_order(document), sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _count(store: ox.Store, variables: str, pattern: str = "?s ?p ?o") -> int:
    """How many distinct bindings of the variables the pattern has, in all graphs together."""
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT {variables} WHERE {{ {pattern} }} }}"
    return int(next(iter(store.query(query, use_default_graph_as_union=True)))["n"].value)


def void_graph(store: ox.Store, out: Path, about: dict) -> Graph:
    """VoID + DCAT: counts per graph and class, distributions, licence, who made it and when."""
    g = Graph()
    for prefix in ("void", "dcat", "dcterms", "foaf", "rdfs", "xsd", "vcard"):
        g.bind(prefix, PREFIXES[prefix])
    d = ID["dataset/licn-kg"]
    g += [(d, RDF.type, VOID.Dataset), (d, RDF.type, DCAT.Dataset),
          (d, DCTERMS.title, Literal(about["title"], lang="en")),
          (d, DCTERMS.description, Literal(about["description"], lang="en")),
          (d, DCTERMS.license, LICENCE), (d, DCTERMS.source, review_iri()),
          (d, DCTERMS.source, URIRef("https://doi.org/10.5334/ijic.5420")),
          (d, DCTERMS.issued, Literal(str(about["issued"]), datatype=XSD.date)),
          (d, DCTERMS.modified, Literal(str(about["modified"]), datatype=XSD.date)),
          (d, FOAF.homepage, URIRef(BASE)), (d, VOID.uriSpace, Literal(str(ID))),
          (d, VOID.sparqlEndpoint, URIRef(BASE + "sparql")),
          (d, VOID.triples, Literal(_count(store, "?s ?p ?o"))),
          (d, VOID.entities, Literal(_count(store, "?s", f'?s ?p ?o FILTER(STRSTARTS(STR(?s), "{ID}"))'))),
          (d, VOID.distinctSubjects, Literal(_count(store, "?s"))),
          (d, VOID.properties, Literal(_count(store, "?p"))),
          (d, VOID.classes, Literal(_count(store, "?c", "?s a ?c")))]
    for role, prop in (("creator", DCTERMS.creator), ("publisher", DCTERMS.publisher)):
        agent = ID[f"agent/{about[role]['key']}"]
        g += [(d, prop, agent), (agent, RDF.type, FOAF.Agent), (agent, FOAF.name, Literal(about[role]["name"]))]
        if about[role].get("homepage"):
            g.add((agent, FOAF.homepage, URIRef(about[role]["homepage"])))
    contact = ID["agent/contact"]
    g += [(d, DCAT.contactPoint, contact), (contact, RDF.type, VCARD.Kind),
          (contact, VCARD.fn, Literal(about["contact"]["name"])),
          (contact, VCARD.hasURL, URIRef(about["contact"]["url"]))]
    for vocabulary in ("licn", "skos", "prov", "fabio", "biro", "cito", "bibo", "dcterms"):
        g.add((d, VOID.vocabulary, URIRef(str(PREFIXES[vocabulary]))))
    classes = store.query("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c",
                          use_default_graph_as_union=True)
    for row in sorted(classes, key=lambda r: r["c"].value):
        cls = URIRef(row["c"].value)
        part = ID[f"dataset/licn-kg/class/{hashlib.sha1(str(cls).encode()).hexdigest()[:12]}"]
        g += [(d, VOID.classPartition, part), (part, VOID["class"], cls),
              (part, VOID.entities, Literal(int(row["n"].value)))]
    for name in layer_names(store):
        if not name.value.startswith(str(GRAPH)):
            continue
        key = name.value[len(str(GRAPH)):]
        layer = ID[f"dataset/licn-kg/graph/{key}"]
        size = _count(store, "?s ?p ?o", f"GRAPH <{name.value}> {{ ?s ?p ?o }}")
        g += [(d, VOID.subset, layer), (layer, RDF.type, VOID.Dataset), (layer, RDFS.label, Literal(key)),
              (layer, DCTERMS.identifier, URIRef(name.value)), (layer, VOID.triples, Literal(size))]
    for dump in DUMPS:
        dist = ID[f"dataset/licn-kg/dump/{dump.name}"]
        g += [(d, DCAT.distribution, dist), (d, VOID.dataDump, URIRef(BASE + "dumps/" + dump.name)),
              (dist, RDF.type, DCAT.Distribution), (dist, DCAT.downloadURL, URIRef(BASE + "dumps/" + dump.name)),
              (dist, DCAT.mediaType, Literal(dump.media)), (dist, DCTERMS.license, LICENCE),
              (dist, DCTERMS.title, Literal(dump.label, lang="en")),
              (dist, DCAT.byteSize, Literal((out / dump.name).stat().st_size, datatype=XSD.nonNegativeInteger))]
    return g
