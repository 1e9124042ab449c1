"""SHACL validation with pyshacl, reported in plain words."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import Graph
from rdflib.namespace import RDF

from loaders.vocab import SH

from . import paths


@dataclass(frozen=True)
class Violation:
    focus: str
    path: str
    message: str
    shape: str

    def __str__(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"{self.focus}{where}: {self.message}"


def shapes_graph(shapes_dir: Path = paths.SHAPES) -> Graph:
    g = Graph()
    for path in sorted(shapes_dir.glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


def _short(g: Graph, term) -> str:
    if term is None:
        return ""
    try:
        return g.namespace_manager.normalizeUri(term) if not hasattr(term, "n3") or term.__class__.__name__ == "URIRef" else term.n3(g.namespace_manager)
    except Exception:  # a term rdflib cannot shorten is shown whole
        return str(term)


def validate_graph(data: Graph, shapes: Graph | None = None) -> tuple[bool, list[Violation]]:
    """Validate a graph that already holds the ontology (class hierarchy) with the data."""
    conforms, report, _ = shacl_validate(data, shacl_graph=shapes if shapes is not None else shapes_graph(),
                                         inference="none", advanced=True, allow_warnings=False)
    violations = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        shape = report.value(result, SH.sourceShape)
        violations.append(Violation(
            focus=_short(data, report.value(result, SH.focusNode)),
            path=_short(data, report.value(result, SH.resultPath)),
            message=str(report.value(result, SH.resultMessage) or "violates a constraint"),
            shape=str(shape) if shape is not None and shape.__class__.__name__ == "URIRef" else _owning_shape(report, shapes, shape),
        ))
    return conforms, sorted(set(violations), key=lambda v: (v.focus, v.path, v.message))


def _owning_shape(report: Graph, shapes: Graph | None, shape) -> str:
    """The named node shape a blank property shape belongs to."""
    shapes = shapes if shapes is not None else shapes_graph()
    for owner in shapes.subjects(SH.property, shape):
        return str(owner)
    return str(shape)
