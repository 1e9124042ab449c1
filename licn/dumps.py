"""The dumps of the built graph, each written by a maintained serialiser, and its VoID/DCAT description.

N-Triples and N-Quads come from pyoxigraph with their lines sorted, so that the same data gives the
same bytes; Turtle and TriG are pyoxigraph's writers fed in that sorted order, with the project's
prefixes; JSON-LD is pyoxigraph's writer too, in expanded form (rdflib's compaction costs ~80 s at 10^4
studies, pyld's more), as are the site's per-resource JSON-LD documents."""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, RDFS, XSD

from loaders.vocab import BASE, BIBO, DCAT, GRAPH, ID, PREFIXES, VCARD, VOID, review_iri


class Dump(NamedTuple):
    name: str
    media: str
    label: str
    file_type: str  # its name in the EU Vocabularies' file types, which DCAT-AP names formats by


DUMPS = (
    Dump("licn.nq", "application/n-quads", "N-Quads, sorted, one named graph per layer", "RDF_N_QUADS"),
    Dump("licn.trig", "application/trig", "TriG, one named graph per layer", "RDF_TRIG"),
    Dump("licn.nt", "application/n-triples", "N-Triples, sorted, all layers together", "RDF_N_TRIPLES"),
    Dump("licn.ttl", "text/turtle", "Turtle, all layers together", "RDF_TURTLE"),
    Dump("licn.jsonld", "application/ld+json", "JSON-LD, expanded, all layers together", "JSON_LD"),
)
PREFIX_IRIS = {prefix: str(ns) for prefix, ns in sorted(PREFIXES.items())}
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"  # DCAT-AP 3: a media type is this IRI
FILE_TYPES = "http://publications.europa.eu/resource/authority/file-type/"
ENGLISH = URIRef("http://publications.europa.eu/resource/authority/language/ENG")
SPARQL_PROTOCOL = URIRef("https://www.w3.org/TR/sparql11-protocol/")
# The VoID description as a graph of its own in the served store (licn serve), beside the layers.
VOID_GRAPH = GRAPH["void"]


def sort_lines(path: Path, merge: list[Path] | None = None) -> None:
    """Sort the lines of an N-Triples or N-Quads file in place by their bytes, each line once, with
    coreutils sort (which spills to disk rather than holding a large dump in memory); or, given
    merge, write into path the lines of those files, each already sorted so, merged in that order,
    each line once."""
    inputs = ["--merge", *map(str, merge)] if merge else [str(path)]
    # a 128 MB buffer sorts the 1.6 GB N-Quads of 10^5 studies as fast as 512 MB (4.7 s against 5.2 s)
    # in a quarter of the memory, while the build's other processes hold the graph
    run = subprocess.run(["sort", "--unique", "--buffer-size=128M", f"--temporary-directory={path.parent}",
                          f"--output={path}", *inputs], env={**os.environ, "LC_ALL": "C"}, capture_output=True, text=True)
    if run.returncode:  # a full disk, say, reported as sort says it
        raise OSError(run.stderr.strip() or f"sort failed on {path} (exit code {run.returncode})")


def layer_names(store: ox.Store) -> list[ox.NamedNode]:
    return sorted((g for g in store.named_graphs() if isinstance(g, ox.NamedNode)), key=lambda g: g.value)


def write_dumps(store: ox.Store, out: Path) -> int:
    """Every dump of the store into out/: N-Quads sorted; each layer's triples sorted, merged into
    the N-Triples of all layers together and fed to TriG layer by layer; Turtle and JSON-LD from
    licn.nt, so that the same data gives the same bytes. Returns how many triples licn.nt holds (one
    per line, each once): fewer than the store's statements if a statement stands in more than one
    layer."""
    nq, nt = out / "licn.nq", out / "licn.nt"
    store.dump(str(nq), format=ox.RdfFormat.N_QUADS)
    sort_lines(nq)
    layers = []
    for i, g in enumerate(layer_names(store)):
        layer = out / f".layer-{i}.nt"
        store.dump(str(layer), format=ox.RdfFormat.N_TRIPLES, from_graph=g)
        sort_lines(layer)
        layers.append((g, layer))
    sort_lines(nt, merge=[layer for _, layer in layers])
    with open(nt, "rb") as f:
        triples = sum(1 for _ in f)
    in_layers = (ox.Quad(t.subject, t.predicate, t.object, g)
                 for g, layer in layers for t in ox.parse(path=str(layer), format=ox.RdfFormat.N_TRIPLES))
    ox.serialize(in_layers, str(out / "licn.trig"), format=ox.RdfFormat.TRIG, prefixes=PREFIX_IRIS)
    for _, layer in layers:
        layer.unlink()
    for name, fmt in (("licn.ttl", ox.RdfFormat.TURTLE), ("licn.jsonld", ox.RdfFormat.JSON_LD)):
        ox.serialize(ox.parse(path=str(nt), format=ox.RdfFormat.N_TRIPLES), str(out / name), format=fmt,
                     prefixes=PREFIX_IRIS if fmt == ox.RdfFormat.TURTLE else None)
    return triples


def _numbers(store: ox.Store, query: str) -> dict[str, int]:
    """The integer columns of a one-row query over all graphs together."""
    solutions = store.query(query, use_default_graph_as_union=True)
    row = next(iter(solutions))
    return {name.value: int(row[name].value) for name in solutions.variables}


SUBJECT_COUNTS = f"""SELECT (COUNT(?s) AS ?subjects) (SUM(IF(STRSTARTS(STR(?s), "{ID}"), 1, 0)) AS ?entities)
WHERE {{ SELECT DISTINCT ?s WHERE {{ ?s ?p ?o }} }}"""


def the_review(store: ox.Store) -> dict[str, str | None]:
    """The DOI (10.NNNN/...) and title of the review the dataset is derived from (data/review.yaml)."""
    found = {}
    for key, predicate in (("doi", BIBO.doi), ("title", DCTERMS.title)):
        rows = store.query(f"SELECT ?v WHERE {{ <{review_iri()}> <{predicate}> ?v }}", use_default_graph_as_union=True)
        found[key] = min((row["v"].value for row in rows), default=None)
    return found


def void_graph(store: ox.Store, out: Path, about: dict) -> Graph:
    """VoID + DCAT: counts per graph and class, distributions, licence, who made it and when, in a
    catalogue with the SPARQL endpoint as a data service; as DCAT-AP 3 requires (tests/test_dcat_ap.py
    validates it against the profile's shapes): the licence, media types, formats and language typed
    with the classes the profile gives their ranges, formats named from the EU file types."""
    g = Graph()
    for prefix in ("void", "dcat", "dcterms", "foaf", "rdfs", "xsd", "vcard", "prov"):
        g.bind(prefix, PREFIXES[prefix])
    d = ID["dataset/licn-kg"]
    doi = the_review(store)["doi"]
    licence = URIRef(about["license"]["url"])
    subjects = _numbers(store, SUBJECT_COUNTS)
    classes = sorted(store.query("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c",
                                 use_default_graph_as_union=True), key=lambda r: r["c"].value)
    g += [(d, RDF.type, VOID.Dataset), (d, RDF.type, DCAT.Dataset),
          (d, DCTERMS.title, Literal(about["title"], lang="en")),
          (d, DCTERMS.description, Literal(about["description"], lang="en")),
          (d, DCTERMS.license, licence), (licence, RDF.type, DCTERMS.LicenseDocument),
          (licence, DCTERMS.identifier, Literal(about["license"]["id"])),
          # the review it is built from: not a dcat:Dataset, which DCAT-AP's dct:source asks for
          (d, PROV.wasDerivedFrom, review_iri()),
          (d, DCTERMS.issued, Literal(str(about["issued"]), datatype=XSD.date)),
          (d, DCTERMS.modified, Literal(str(about["modified"]), datatype=XSD.date)),
          (d, DCAT.version, Literal(about["version"])), (d, DCTERMS.language, ENGLISH),
          (ENGLISH, RDF.type, DCTERMS.LinguisticSystem),
          (d, FOAF.homepage, URIRef(BASE)), (d, DCAT.landingPage, URIRef(BASE)), (URIRef(BASE), RDF.type, FOAF.Document),
          (d, VOID.uriSpace, Literal(str(ID))),
          (d, VOID.sparqlEndpoint, URIRef(BASE + "sparql")),
          (d, VOID.triples, Literal(len(store))),  # each statement stands in one layer (the build's gate)
          (d, VOID.entities, Literal(subjects["entities"])),
          (d, VOID.distinctSubjects, Literal(subjects["subjects"])),
          (d, VOID.properties, Literal(_numbers(store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }")["n"])),
          (d, VOID.classes, Literal(len(classes)))]
    if doi:
        g.add((d, PROV.wasDerivedFrom, URIRef("https://doi.org/" + doi)))
    g += [(d, DCAT.keyword, Literal(keyword, lang="en")) for keyword in about["keywords"]]
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
    for row in classes:
        cls = URIRef(row["c"].value)
        part = ID[f"dataset/licn-kg/class/{hashlib.sha1(str(cls).encode()).hexdigest()[:12]}"]
        g += [(d, VOID.classPartition, part), (part, VOID["class"], cls),
              (part, VOID.entities, Literal(int(row["n"].value)))]
    sizes = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    for name, size in sorted((row["g"].value, int(row["n"].value)) for row in sizes):
        if not name.startswith(str(GRAPH)):
            continue
        key = name[len(str(GRAPH)):]
        layer = ID[f"dataset/licn-kg/graph/{key}"]
        g += [(d, VOID.subset, layer), (layer, RDF.type, VOID.Dataset), (layer, RDFS.label, Literal(key)),
              (layer, DCTERMS.identifier, URIRef(name)), (layer, VOID.triples, Literal(size))]
    for dump in DUMPS:
        dist = ID[f"dataset/licn-kg/dump/{dump.name}"]
        media, file_type = URIRef(IANA_MEDIA_TYPES + dump.media), URIRef(FILE_TYPES + dump.file_type)
        g += [(d, DCAT.distribution, dist), (d, VOID.dataDump, URIRef(BASE + "dumps/" + dump.name)),
              (dist, RDF.type, DCAT.Distribution), (dist, DCAT.downloadURL, URIRef(BASE + "dumps/" + dump.name)),
              (dist, DCAT.mediaType, media), (media, RDF.type, DCTERMS.MediaType),
              (dist, DCTERMS.format, file_type), (file_type, RDF.type, DCTERMS.MediaTypeOrExtent),
              (dist, DCAT.accessURL, URIRef(BASE + "dumps/")), (dist, DCTERMS.license, licence),
              (dist, DCTERMS.title, Literal(dump.label, lang="en")),
              (dist, DCTERMS.description, Literal(f"The whole graph as {dump.label}.", lang="en")),
              (dist, DCAT.byteSize, Literal((out / dump.name).stat().st_size, datatype=XSD.nonNegativeInteger))]
    catalog, service, sparql = ID["dataset/catalog"], ID["dataset/licn-kg/sparql"], URIRef(BASE + "sparql")
    publisher = ID[f"agent/{about['publisher']['key']}"]
    g += [(catalog, RDF.type, DCAT.Catalog), (catalog, DCTERMS.title, Literal(f"{about['title']} (catalogue)", lang="en")),
          (catalog, DCTERMS.description, Literal(
              "What LICN-KG publishes: the knowledge graph, as dumps and through a SPARQL endpoint.", lang="en")),
          (catalog, DCTERMS.publisher, publisher), (catalog, FOAF.homepage, URIRef(BASE)),
          (catalog, DCTERMS.license, licence), (catalog, DCTERMS.language, ENGLISH),
          (catalog, DCTERMS.issued, Literal(str(about["issued"]), datatype=XSD.date)),
          (catalog, DCTERMS.modified, Literal(str(about["modified"]), datatype=XSD.date)),
          (catalog, DCAT.dataset, d), (catalog, DCAT.service, service),
          (service, RDF.type, DCAT.DataService), (service, DCTERMS.title, Literal("LICN-KG SPARQL endpoint", lang="en")),
          (service, DCTERMS.description, Literal(
              "Read-only SPARQL 1.1 endpoint over the graph; its service description is at the same address.", lang="en")),
          (service, DCAT.endpointURL, sparql), (service, DCAT.endpointDescription, sparql),
          (service, DCTERMS.conformsTo, SPARQL_PROTOCOL), (SPARQL_PROTOCOL, RDF.type, DCTERMS.Standard),
          (service, DCAT.servesDataset, d), (service, DCTERMS.license, licence),
          (service, DCTERMS.publisher, publisher), (service, DCAT.contactPoint, contact)]
    g += [(service, DCAT.keyword, Literal(keyword, lang="en")) for keyword in ("SPARQL", *about["keywords"])]
    return g
