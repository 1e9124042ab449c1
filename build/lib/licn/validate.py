"""SHACL validation with pyshacl, reported in plain words."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from loaders.vocab import PREFIXES, SH

from . import paths

# What `licn validate` reads, by file name ending.
FILE_FORMATS = {".nq": ox.RdfFormat.N_QUADS, ".trig": ox.RdfFormat.TRIG, ".nt": ox.RdfFormat.N_TRIPLES,
                ".ttl": ox.RdfFormat.TURTLE, ".jsonld": ox.RdfFormat.JSON_LD, ".json": ox.RdfFormat.JSON_LD,
                ".rdf": ox.RdfFormat.RDF_XML, ".owl": ox.RdfFormat.RDF_XML}


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
    g = Graph()
    for path in sorted(shapes_dir.glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


def rdflib_graph(quads) -> Graph:
    """The triples of pyoxigraph quads (every graph together) as an rdflib graph for pyshacl."""
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True, replace=True)
    text = ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES)
    if text:
        g.parse(data=text, format="nt")
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


def shapes_store(shapes_dir: Path = paths.SHAPES) -> ox.Store:
    store = ox.Store()
    for path in sorted(shapes_dir.glob("*.ttl")):
        store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    return store


def validate_store(store: ox.Store, shapes_dir: Path = paths.SHAPES) -> tuple[bool, list[Violation]]:
    """Validate a store that holds the ontology (class hierarchy) with the data, every graph
    together, with pyshacl-turbo. Data and shapes are both given as pyoxigraph stores: with the
    shapes as an rdflib graph it compares "x" and "x"^^xsd:string as different terms. tests/
    test_validate.py holds it to pyshacl, the reference, on every fixture and on the real data."""
    import pyshacl_turbo

    union = ox.Store()
    union.extend(ox.Quad(q.subject, q.predicate, q.object) for q in store)  # the default graph: what is validated
    conforms, report, _ = pyshacl_turbo.validate(union, shacl_graph=shapes_store(shapes_dir), inference="none",
                                                 advanced=True, allow_warnings=False)
    return conforms, _violations(report, rdflib_graph(union) if not conforms else Graph(), shapes_graph(shapes_dir))


def validate_graph(data: Graph, shapes: Graph | None = None) -> tuple[bool, list[Violation]]:
    """Validate an rdflib graph with pyshacl, the reference engine."""
    from pyshacl import validate as shacl_validate  # a tenth of a second to import: only when asked

    shapes = shapes if shapes is not None else shapes_graph()
    conforms, report, _ = shacl_validate(data, shacl_graph=shapes, inference="none", advanced=True,
                                         allow_warnings=False)
    return conforms, _violations(report, data, shapes)


def _violations(report: Graph, data: Graph, shapes: Graph) -> list[Violation]:
    violations = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        shape = report.value(result, SH.sourceShape)
        violations.append(Violation(
            focus=_short(data, report.value(result, SH.focusNode)),
            path=_short(data, report.value(result, SH.resultPath)),
            message=str(report.value(result, SH.resultMessage) or "violates a constraint"),
            shape=str(shape) if isinstance(shape, URIRef) else _owning_shape(shapes, shape)))
    return sorted(set(violations), key=lambda v: (v.focus, v.path, v.message))


def _short(g: Graph, term) -> str:
    if term is None:
        return ""
    return term.n3(g.namespace_manager)


def _owning_shape(shapes: Graph, shape) -> str:
    """The named node shape a blank property shape belongs to."""
    for owner in shapes.subjects(SH.property, shape):
        return str(owner)
    return str(shape)
