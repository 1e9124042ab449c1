"""SHACL validation with pyshacl, reported in plain words."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dt_time
from decimal import Decimal
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from loaders.vocab import SH

from . import paths
from .dataset import BuiltGraph
from .dumps import gc_paused


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


def validate_graph(data: Graph | BuiltGraph, shapes: Graph | None = None) -> tuple[bool, list[Violation]]:
    """Validate a graph that already holds the ontology (class hierarchy) with the data.

    A graph the quick check passes conforms; anything else (a violation, or shapes that use more
    of SHACL than the quick check knows) goes through pyshacl, which writes the report."""
    shapes = shapes if shapes is not None else shapes_graph()
    with gc_paused():
        if quick_conforms(_ByPredicate(data.union) if isinstance(data, BuiltGraph) else data, shapes):
            return True, []
    if isinstance(data, BuiltGraph):
        data = data.union_graph()
    # imported only here: most builds never need it, and it takes a tenth of a second
    from pyshacl import validate as shacl_validate

    conforms, report, _ = shacl_validate(data, shacl_graph=shapes,
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


# The quick check: the SHACL core constraints the shapes use (class targets; property shapes with a
# predicate path and min/maxCount, class, datatype, nodeKind, in, pattern, minInclusive, uniqueLang,
# languageIn; sh:or of such property shapes), evaluated over plain dictionaries built in one pass
# per predicate. It answers only "conforms" or "cannot tell": it is at least as strict as pyshacl
# on every constraint (where pyshacl's verdict depends on details not mirrored here, such as a
# comparison of unusual literals, it says "cannot tell"), and shapes holding any other term send
# the graph to pyshacl as before.

_XSD = "http://www.w3.org/2001/XMLSchema#"
_SH = str(SH)
_IGNORED = {SH.message, SH.name, SH.description, SH.order, SH.group, RDFS.label, RDFS.comment}
_NODE_KEYS = {RDF.type, SH.targetClass, SH.property, SH["or"]} | _IGNORED
_PROPERTY_KEYS = {RDF.type, SH.path, SH.minCount, SH.maxCount, SH["class"], SH.datatype, SH.nodeKind, SH["in"],
                  SH.pattern, SH.minInclusive, SH.uniqueLang, SH.languageIn} | _IGNORED
_LIST_KEYS = {RDF.first, RDF.rest}


class _Unsupported(Exception):
    """The shapes use something the quick check does not evaluate."""


def _one(g: Graph, node, prop):
    values = list(g.objects(node, prop))
    if len(values) != 1:
        raise _Unsupported(f"{node} has {len(values)} values for {prop}")
    return values[0]


def _items(g: Graph, head) -> list:
    items, seen = [], set()
    while head != RDF.nil:
        if head in seen or set(g.predicates(head)) - _LIST_KEYS:
            raise _Unsupported("not a plain RDF list")
        seen.add(head)
        items.append(_one(g, head, RDF.first))
        head = _one(g, head, RDF.rest)
    return items


def _int(value) -> int:
    if not isinstance(value, Literal) or type(value.value) is not int:
        raise _Unsupported(f"{value!r} is not an integer")
    return value.value


def _property_shape(g: Graph, node, used: set) -> dict:
    used.add(node)
    keys = set(g.predicates(node))
    if keys - _PROPERTY_KEYS:
        raise _Unsupported(f"property shape {node} uses {keys - _PROPERTY_KEYS}")
    if set(g.objects(node, RDF.type)) - {SH.PropertyShape}:
        raise _Unsupported("typed property shape")
    path = _one(g, node, SH.path)
    if not isinstance(path, URIRef):
        raise _Unsupported("path other than a predicate")
    shape = {"path": path}
    if SH.minCount in keys:
        shape["min"] = _int(_one(g, node, SH.minCount))
    if SH.maxCount in keys:
        shape["max"] = _int(_one(g, node, SH.maxCount))
    if SH["class"] in keys:
        shape["classes"] = list(g.objects(node, SH["class"]))
    if SH.datatype in keys:
        shape["datatype"] = _one(g, node, SH.datatype)
    if SH.nodeKind in keys:
        shape["kind"] = _one(g, node, SH.nodeKind)
        if shape["kind"] not in (SH.IRI, SH.BlankNode, SH.Literal, SH.BlankNodeOrIRI, SH.BlankNodeOrLiteral, SH.IRIOrLiteral):
            raise _Unsupported("unknown node kind")
    if SH["in"] in keys:
        head = _one(g, node, SH["in"])
        used.update(_list_nodes(g, head))
        shape["in"] = set(_items(g, head))
    if SH.pattern in keys:
        pattern = _one(g, node, SH.pattern)
        if not isinstance(pattern, Literal) or pattern.language or pattern.datatype not in (None, XSD.string):
            raise _Unsupported("pattern")
        shape["pattern"] = re.compile(str(pattern))
    if SH.minInclusive in keys:
        shape["min_inclusive"] = _int(_one(g, node, SH.minInclusive))
    if SH.uniqueLang in keys:
        flag = _one(g, node, SH.uniqueLang)
        if not isinstance(flag, Literal) or type(flag.value) is not bool:
            raise _Unsupported("uniqueLang")
        shape["unique_lang"] = flag.value
    if SH.languageIn in keys:
        head = _one(g, node, SH.languageIn)
        used.update(_list_nodes(g, head))
        tags = _items(g, head)
        if any(not isinstance(t, Literal) or not isinstance(t.value, str) for t in tags):
            raise _Unsupported("languageIn")
        shape["languages"] = {str(t.value).lower() for t in tags}
    return shape


def _list_nodes(g: Graph, head) -> list:
    nodes = []
    while head != RDF.nil and head not in nodes:
        nodes.append(head)
        head = g.value(head, RDF.rest)
        if head is None:
            raise _Unsupported("broken list")
    return nodes


def compile_shapes(g: Graph) -> list[dict]:
    """The node shapes as plain data, or _Unsupported."""
    shapes, used = [], set()
    roots = set(g.subjects(RDF.type, SH.NodeShape)) | set(g.subjects(SH.targetClass, None))
    for node in sorted(roots, key=str):
        used.add(node)
        keys = set(g.predicates(node))
        if keys - _NODE_KEYS:
            raise _Unsupported(f"node shape {node} uses {keys - _NODE_KEYS}")
        if set(g.objects(node, RDF.type)) - {SH.NodeShape}:
            raise _Unsupported("node shape with another type")
        targets = list(g.objects(node, SH.targetClass))
        if any(not isinstance(t, URIRef) for t in targets):
            raise _Unsupported("target class that is not an IRI")
        props = [_property_shape(g, p, used) for p in g.objects(node, SH.property)]
        alternatives = []
        for head in g.objects(node, SH["or"]):
            used.update(_list_nodes(g, head))
            members = _items(g, head)
            alternatives.append([_property_shape(g, m, used) for m in members])
        shapes.append({"node": node, "targets": targets, "properties": props, "or": alternatives})
    if set(g.subjects()) - used:
        raise _Unsupported(f"shapes graph nodes the quick check does not know: {sorted(set(g.subjects()) - used)[:3]}")
    return shapes


# pyshacl's DatatypeConstraintComponent._assert_actual_datatype, for the datatypes it checks.
_ACTUAL = {XSD.string: (str, bytes), RDF.langString: (str, bytes), XSD.integer: int, XSD.float: float,
           XSD.decimal: Decimal, XSD.boolean: bool, XSD.date: date, XSD.time: dt_time, XSD.dateTime: datetime}


def _datatype_ok(v, rule) -> bool:
    if not isinstance(v, Literal):
        return False
    if v.datatype == rule:
        if getattr(v, "ill_typed", None) is True:
            return False
    elif not (rule == XSD.string and v.datatype is None and v.language is None):
        return False  # pyshacl's other cases (rdfs:Literal, rdf:langString ...) are left to pyshacl
    kinds = _ACTUAL.get(rule)
    return True if kinds is None else isinstance(v.value, kinds)


class _ByPredicate:
    """Triples as the quick check asks a graph for them: (subject, object) pairs per predicate."""

    def __init__(self, triples):
        self.pairs: dict = {}
        for s, p, o in triples:
            self.pairs.setdefault(p, []).append((s, o))

    def subject_objects(self, predicate):
        return iter(self.pairs.get(predicate, ()))


class _Index:
    """subject -> objects for the predicates the shapes use; the class hierarchy of the data."""

    def __init__(self, data: Graph):
        self.data = data
        self.by_predicate: dict = {}
        types = self.objects_of(RDF.type)
        self.instances: dict = {}
        for s, classes in types.items():
            for c in classes:
                self.instances.setdefault(c, []).append(s)
        parents: dict = {}
        for s, o in data.subject_objects(RDFS.subClassOf):
            parents.setdefault(s, set()).add(o)
        self.supers: dict = {}
        for c in set(parents) | set(self.instances):
            seen, todo = {c}, [c]
            while todo:
                for parent in parents.get(todo.pop(), ()):
                    if parent not in seen:
                        seen.add(parent)
                        todo.append(parent)
            self.supers[c] = seen
        self.types = types

    def objects_of(self, p) -> dict:
        found = self.by_predicate.get(p)
        if found is None:
            found = {}
            for s, o in self.data.subject_objects(p):
                found.setdefault(s, []).append(o)
            self.by_predicate[p] = found
        return found

    def focus_nodes(self, cls) -> set:
        nodes = set()
        for c, members in self.instances.items():
            if cls in self.supers.get(c, (c,)):
                nodes.update(members)
        return nodes

    def is_instance(self, v, cls) -> bool:
        if isinstance(v, Literal):
            return False
        return any(cls in self.supers.get(t, (t,)) for t in self.types.get(v, ()))


def _property_ok(index: _Index, f, shape: dict) -> bool:
    values = index.objects_of(shape["path"]).get(f, ())
    n = len(set(values)) if len(values) > 1 else len(values)
    if n < shape.get("min", 0) or ("max" in shape and n > shape["max"]):
        return False
    if not values:
        return True
    for cls in shape.get("classes", ()):
        if not all(index.is_instance(v, cls) for v in values):
            return False
    rule = shape.get("datatype")
    if rule is not None and not all(_datatype_ok(v, rule) for v in values):
        return False
    kind = shape.get("kind")
    if kind is not None:
        allowed = {SH.IRI: (URIRef,), SH.BlankNode: (BNode,), SH.Literal: (Literal,), SH.BlankNodeOrIRI: (BNode, URIRef),
                   SH.BlankNodeOrLiteral: (BNode, Literal), SH.IRIOrLiteral: (URIRef, Literal)}[kind]
        if not all(isinstance(v, allowed) for v in values):
            return False
    if "in" in shape and not all(v in shape["in"] for v in values):
        return False
    pattern = shape.get("pattern")
    if pattern is not None and not all(not isinstance(v, BNode) and pattern.search(str(v)) for v in values):
        return False
    if "min_inclusive" in shape:
        low = shape["min_inclusive"]
        for v in values:
            if not (isinstance(v, Literal) and v.datatype == XSD.integer and type(v.value) is int and v.value >= low):
                return False
    if shape.get("unique_lang"):
        langs = [str(v.language).lower() for v in values if isinstance(v, Literal) and v.language]
        if len(langs) != len(set(langs)):
            return False
    if "languages" in shape:
        for v in values:
            lang = v.language if isinstance(v, Literal) else None
            if not lang or not (str(lang).lower() in shape["languages"] or str(lang).split("-")[0].lower() in shape["languages"]):
                return False
    return True


def quick_conforms(data: Graph, shapes: Graph) -> bool:
    """True when the data surely conforms to the shapes; False when pyshacl has to look."""
    try:
        compiled = compile_shapes(shapes)
    except _Unsupported:
        return False
    index = _Index(data)
    for shape in compiled:
        focus = set()
        for cls in shape["targets"]:
            focus |= index.focus_nodes(cls)
        for f in focus:
            for prop in shape["properties"]:
                if not _property_ok(index, f, prop):
                    return False
            for alternatives in shape["or"]:
                if not any(_property_ok(index, f, member) for member in alternatives):
                    return False
    return True
