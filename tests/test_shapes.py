"""Every SHACL shape has conforming and non-conforming fixtures; each fixture file is a test.

Fixtures live in tests/fixtures/shapes/ as <ShapeName>.valid*.ttl and <ShapeName>.invalid*.ttl and
are validated together with _base.ttl (a small complete graph they refer to) and the ontology.
"""
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from licn.graph import ontology_triples
from licn.validate import shapes_graph, validate_graph
from loaders.vocab import SH

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
SHAPES_NS = "https://w3id.org/licn/shapes#"
SHAPES = shapes_graph()


def _graph(*paths: Path) -> Graph:
    g = Graph()
    for triple in ontology_triples():
        g.add(triple)
    for path in paths:
        g.parse(path, format="turtle")
    return g


def _fixtures(kind: str) -> list[Path]:
    return sorted(p for p in FIXTURES.glob(f"*.{kind}*.ttl"))


def test_base_graph_conforms():
    conforms, violations = validate_graph(_graph(FIXTURES / "_base.ttl"), SHAPES)
    assert conforms, [str(v) for v in violations]


def test_every_shape_has_both_kinds_of_fixture():
    shapes = {str(s)[len(SHAPES_NS):] for s in SHAPES.subjects(RDF.type, SH.NodeShape)}
    assert len(shapes) >= 20
    for name in shapes:
        assert list(FIXTURES.glob(f"{name}.valid*.ttl")), f"{name} has no conforming fixture"
        assert list(FIXTURES.glob(f"{name}.invalid*.ttl")), f"{name} has no non-conforming fixture"


@pytest.mark.parametrize("fixture", _fixtures("valid"), ids=lambda p: p.name)
def test_conforming_fixture(fixture):
    conforms, violations = validate_graph(_graph(FIXTURES / "_base.ttl", fixture), SHAPES)
    assert conforms, [str(v) for v in violations]


@pytest.mark.parametrize("fixture", _fixtures("invalid"), ids=lambda p: p.name)
def test_non_conforming_fixture_is_caught_by_its_shape(fixture):
    shape = URIRef(SHAPES_NS + fixture.name.split(".")[0])
    conforms, violations = validate_graph(_graph(FIXTURES / "_base.ttl", fixture), SHAPES)
    assert not conforms
    assert str(shape) in {v.shape for v in violations}, [(str(v), v.shape) for v in violations]
