"""Namespaces and the IRI scheme: instances under id/ from stable keys, concepts as hash IRIs."""
import re

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, XSD

BASE = "https://w3id.org/licn/"
LICN = Namespace(BASE + "ontology#")
CB = Namespace(BASE + "codebook#")
ID = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")
FABIO = Namespace("http://purl.org/spar/fabio/")
BIRO = Namespace("http://purl.org/spar/biro/")
CITO = Namespace("http://purl.org/spar/cito/")
BIBO = Namespace("http://purl.org/ontology/bibo/")
SCHEMA = Namespace("https://schema.org/")
VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SH = Namespace("http://www.w3.org/ns/shacl#")
WD = Namespace("http://www.wikidata.org/entity/")

PREFIXES = {
    "licn": LICN, "cb": CB, "id": ID, "fabio": FABIO, "biro": BIRO, "cito": CITO, "bibo": BIBO,
    "dcterms": DCTERMS, "foaf": FOAF, "owl": OWL, "prov": PROV, "rdf": RDF, "rdfs": RDFS,
    "skos": SKOS, "xsd": XSD, "void": VOID, "dcat": DCAT, "sh": SH, "schema": SCHEMA, "wd": WD,
}

LAYERS = ("ontology", "codebook", "review", "references", "studies", "codings", "figures", "agenda", "catalogue")

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")


def graph_iri(layer: str) -> URIRef:
    return GRAPH[layer]


def concept(scheme: str, key: str) -> URIRef:
    return CB[f"{scheme}-{key}"]


def scheme_iri(scheme: str) -> URIRef:
    return CB[scheme]


def source_iri(key: str) -> URIRef:
    return ID[f"source/{key.lower()}"]


def entry_iri(number: int) -> URIRef:
    return ID[f"reference/{number}"]


def study_iri(number: int) -> URIRef:
    return ID[f"study/ref-{number}"]


def work_iri(key: str) -> URIRef:
    return ID[f"work/{key}"]


def instance(kind: str, key: str) -> URIRef:
    return ID[f"{kind}/{key}"]


def review_iri() -> URIRef:
    return ID["review/mitterlechner-2020"]
