"""Namespaces and the IRI scheme: instances under id/ from stable keys, concepts as hash IRIs."""
import functools
import re

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, XSD


class Vocabulary(Namespace):
    """A namespace of a few hundred terms at most, each made once: rdflib's Namespace makes and
    checks a new IRI on every attribute access, which the loaders do millions of times at scale."""

    @functools.lru_cache(maxsize=None)  # noqa: B019 - the namespaces live as long as the process
    def term(self, name: str) -> URIRef:
        return super().term(name)


BASE = "https://w3id.org/licn/"
LICN = Vocabulary(BASE + "ontology#")
CB = Vocabulary(BASE + "codebook#")
ID = Namespace(BASE + "id/")  # one IRI per instance: nothing to gain from keeping them
GRAPH = Vocabulary(BASE + "graph/")
FABIO = Vocabulary("http://purl.org/spar/fabio/")
BIRO = Vocabulary("http://purl.org/spar/biro/")
CITO = Vocabulary("http://purl.org/spar/cito/")
BIBO = Vocabulary("http://purl.org/ontology/bibo/")
SCHEMA = Vocabulary("https://schema.org/")
VOID = Vocabulary("http://rdfs.org/ns/void#")
DCAT = Vocabulary("http://www.w3.org/ns/dcat#")
DQV = Vocabulary("http://www.w3.org/ns/dqv#")
SH = Vocabulary("http://www.w3.org/ns/shacl#")
WD = Vocabulary("http://www.wikidata.org/entity/")
VCARD = Vocabulary("http://www.w3.org/2006/vcard/ns#")
LICENCE = URIRef("https://creativecommons.org/licenses/by/4.0/")

PREFIXES = {
    "licn": LICN, "cb": CB, "id": ID, "fabio": FABIO, "biro": BIRO, "cito": CITO, "bibo": BIBO,
    "dcterms": DCTERMS, "foaf": FOAF, "owl": OWL, "prov": PROV, "rdf": RDF, "rdfs": RDFS,
    "skos": SKOS, "xsd": XSD, "void": VOID, "dcat": DCAT, "dqv": DQV, "sh": SH, "schema": SCHEMA, "wd": WD, "vcard": VCARD,
}

LAYERS = ("ontology", "codebook", "review", "references", "studies", "codings", "curation", "figures", "agenda", "catalogue")

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# A key names files of the site (id/KIND/KEY.jsonld), and a Table 1 coding joins three keys and a
# number in one name: at most 64 characters each keeps every name within the 255 bytes a file system allows.
LONGEST_KEY = 64
# Characters that cannot stand in an IRI (RFC 3987), so neither in a DOI nor an address.
IRI_UNSAFE = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f]')
DOI_RE = re.compile(r'^10\.[0-9]{4,9}/[^\x00-\x20<>"{}|\\^`\x7f]+$')
DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")


def bare_doi(text: str) -> str:
    """A DOI as 10.NNNN/..., also when written as https://doi.org/... or doi:..."""
    for prefix in DOI_PREFIXES:
        if text.lower().startswith(prefix):
            return text[len(prefix):].strip()
    return text


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
