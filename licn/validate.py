"""SHACL validation with pyshacl, reported in plain words."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from loaders.vocab import PREFIXES, SH

from . import paths
from .graph import turtle_graph

# What `licn validate` reads, by file name ending.
FILE_FORMATS = {".nq": ox.RdfFormat.N_QUADS, ".trig": ox.RdfFormat.TRIG, ".nt": ox.RdfFormat.N_TRIPLES,
                ".ttl": ox.RdfFormat.TURTLE, ".jsonld": ox.RdfFormat.JSON_LD, ".json": ox.RdfFormat.JSON_LD,
                ".rdf": ox.RdfFormat.RDF_XML, ".owl": ox.RdfFormat.RDF_XML}
# Both engines run with the same options, so that their reports can be compared.
SHACL_OPTIONS = {"inference": "none", "advanced": True, "allow_warnings": False}


@dataclass(frozen=True)
class Violation:
    focus: str
    path: str
    message: str
    shape: str

    def __str__(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"{self.focus}{where}: {self.message}"


class UnreadableFile(Exception):
    """A file `licn validate` cannot read; the message names it and says why."""


def shapes_graph(shapes_dir: Path = paths.SHAPES) -> Graph:
    return turtle_graph(shapes_dir)


def rdflib_graph(quads) -> Graph:
    """The triples of pyoxigraph quads (every graph together) as an rdflib graph for pyshacl."""
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True, replace=True)
    g.parse(data=ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES), format="nt")
    return g


def read_files(files: list[Path]) -> ox.Store:
    """Every quad of the files (all their graphs), each file read by the parser its ending names."""
    store = ox.Store()
    for path in files:
        fmt = FILE_FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise UnreadableFile(f"{path}: unknown file type (one of {', '.join(sorted(FILE_FORMATS))})")
        if not path.is_file():
            raise UnreadableFile(f"{path} does not exist")
        try:
            store.load(path=str(path), format=fmt)
        except (SyntaxError, ValueError, OSError) as exc:
            raise UnreadableFile(f"{path} does not parse: {exc}") from None
    return store


def validate_store(store: ox.Store, shapes_dir: Path = paths.SHAPES) -> tuple[bool, list[Violation]]:
    """Validate a store that holds the ontology (class hierarchy) with the data, every graph
    together, with pyshacl-turbo. Data and shapes are both given as pyoxigraph stores: with the
    shapes as an rdflib graph it compares "x" and "x"^^xsd:string as different terms. tests/
    test_validate.py holds it to pyshacl, the reference, on every fixture and on the real data."""
    import pyshacl_turbo

    union, shapes = ox.Store(), ox.Store()
    union.extend(ox.Quad(q.subject, q.predicate, q.object) for q in store)  # the default graph: what is validated
    for path in sorted(shapes_dir.glob("*.ttl")):
        shapes.load(path=str(path), format=ox.RdfFormat.TURTLE)
    conforms, report, _ = pyshacl_turbo.validate(union, shacl_graph=shapes, **SHACL_OPTIONS)
    return conforms, _violations(report, rdflib_graph(union) if not conforms else Graph(), shapes_graph(shapes_dir))


def validate_graph(data: Graph, shapes: Graph | None = None) -> tuple[bool, list[Violation]]:
    """Validate an rdflib graph with pyshacl, the reference engine."""
    from pyshacl import validate as shacl_validate  # 0.1 s to import: only when asked

    shapes = shapes if shapes is not None else shapes_graph()
    conforms, report, _ = shacl_validate(data, shacl_graph=shapes, **SHACL_OPTIONS)
    return conforms, _violations(report, data, shapes)


def _violations(report: Graph, data: Graph, shapes: Graph) -> list[Violation]:
    def short(term) -> str:
        return "" if term is None else term.n3(data.namespace_manager)

    violations = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        shape = report.value(result, SH.sourceShape)
        if not isinstance(shape, URIRef):  # a blank property shape: name the node shape it belongs to, if found
            shape = next(shapes.subjects(SH.property, shape), shape)
        violations.add(Violation(focus=short(report.value(result, SH.focusNode)),
                                 path=short(report.value(result, SH.resultPath)),
                                 message=str(report.value(result, SH.resultMessage) or "violates a constraint"),
                                 shape=str(shape)))
    return sorted(violations, key=lambda v: (v.focus, v.path, v.message))
