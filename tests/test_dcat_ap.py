"""The build's VoID/DCAT description (void.ttl) against the SHACL shapes of DCAT-AP 3.0.1, the DCAT
application profile of the European data portals (tests/fixtures/dcat-ap-3, with where they come from):
no violation of the mandatory properties and value classes; warnings only for the recommended
properties the dataset has no value for. Damaged copies show that the shapes see what they check."""
from __future__ import annotations

from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SH

from loaders.vocab import DCAT

SHAPES = Path(__file__).parent / "fixtures" / "dcat-ap-3"
ID = Namespace("https://w3id.org/licn/id/")
DATASET, CATALOG, SERVICE = ID["dataset/licn-kg"], ID["dataset/catalog"], ID["dataset/licn-kg/sparql"]
DCATAP = Namespace("http://data.europa.eu/r5r/")
# The recommended properties that are left without a value, and why: themes, spatial and temporal
# coverage, an agent's or licence's type and a distribution's planned availability are values of
# the EU Vocabularies (skos:Concepts with their labels), which the description does not repeat.
UNGIVEN = {(DATASET, DCAT.theme), (DATASET, DCTERMS.spatial), (DATASET, DCTERMS.temporal),
           (CATALOG, DCTERMS.spatial), (CATALOG, DCAT.themeTaxonomy), (SERVICE, DCAT.theme),
           (ID["agent/licn-kg-team"], DCTERMS.type), (URIRef("https://creativecommons.org/licenses/by/4.0/"), DCTERMS.type),
           *((ID[f"dataset/licn-kg/dump/{name}"], DCATAP.availability)
             for name in ("licn.nq", "licn.trig", "licn.nt", "licn.ttl", "licn.jsonld"))}


@pytest.fixture(scope="module")
def shapes() -> Graph:
    g = Graph()
    for path in sorted(SHAPES.glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


def results(data: Graph, shapes: Graph) -> dict[URIRef, set[tuple]]:
    """The validation results by severity: (focus node, path, message) each."""
    _, report, _ = validate(data, shacl_graph=shapes, allow_warnings=True)
    found: dict[URIRef, set[tuple]] = {SH.Violation: set(), SH.Warning: set(), SH.Info: set()}
    for result in report.subjects(RDF.type, SH.ValidationResult):
        found[report.value(result, SH.resultSeverity)].add(
            (report.value(result, SH.focusNode), report.value(result, SH.resultPath),
             str(report.value(result, SH.resultMessage))))
    return found


def test_the_shapes_are_the_four_files_of_the_release(shapes):
    assert sorted(p.name for p in SHAPES.glob("*.ttl")) == ["deprecateduris.ttl", "range.ttl", "shapes.ttl",
                                                            "shapes_recommended.ttl"]
    targets = set(shapes.objects(None, SH.targetClass))
    assert {DCAT.Catalog, DCAT.Dataset, DCAT.Distribution, DCAT.DataService} <= targets
    assert (SHAPES / "LICENSE").is_file() and "3.0.1" in (SHAPES / "README.md").read_text(encoding="utf-8")


def test_the_void_description_conforms_to_dcat_ap_3(dist, shapes):
    data = Graph().parse(dist / "void.ttl", format="turtle")
    found = results(data, shapes)
    assert found[SH.Violation] == set()
    assert {(focus, path) for focus, path, _ in found[SH.Warning]} == UNGIVEN
    # what the shapes had to look at: a catalogue with the dataset and the endpoint as a data service
    assert (CATALOG, RDF.type, DCAT.Catalog) in data and (CATALOG, DCAT.dataset, DATASET) in data
    assert (CATALOG, DCAT.service, SERVICE) in data and (SERVICE, DCAT.servesDataset, DATASET) in data
    assert len(set(data.objects(DATASET, DCAT.distribution))) == 5
    assert data.value(DATASET, DCAT.version) == Literal("0.1.0")


DAMAGES = {
    "a licence that is not typed": (lambda g: g.remove((None, RDF.type, DCTERMS.LicenseDocument)),
                                    "dct:LicenseDocument"),
    "a dataset without a description": (lambda g: g.remove((DATASET, DCTERMS.description, None)), "description"),
    "a distribution without an access URL": (lambda g: g.remove((ID["dataset/licn-kg/dump/licn.nq"], DCAT.accessURL, None)),
                                             "accessURL"),
    "a format as text": (lambda g: g.set((ID["dataset/licn-kg/dump/licn.nq"], DCTERMS.format,
                                          Literal("application/n-quads"))),
                         "BlankNodeOrIRI"),
    "a catalogue without a publisher": (lambda g: g.remove((CATALOG, DCTERMS.publisher, None)), "publisher"),
    "a byte size as text": (lambda g: g.set((ID["dataset/licn-kg/dump/licn.nt"], DCAT.byteSize, Literal("12 kB"))),
                            "nonNegativeInteger"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_the_shapes_find_a_damaged_description(dist, shapes, damage):
    data = Graph().parse(dist / "void.ttl", format="turtle")
    change, expected = DAMAGES[damage]
    change(data)
    violations = results(data, shapes)[SH.Violation]
    assert violations and any(expected in message or expected in str(path) for _, path, message in violations), violations
