"""SHACL validation with pyshacl, reported in plain words."""
from __future__ import annotations

import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS

from loaders.vocab import PREFIXES, SH

from . import paths
from .graph import to_ox, turtle_graph
from .processes import end_with_parent

RDF_TYPE = str(RDF.type)

# What `licn validate` reads, by file name ending.
FILE_FORMATS = {".nq": ox.RdfFormat.N_QUADS, ".trig": ox.RdfFormat.TRIG, ".nt": ox.RdfFormat.N_TRIPLES,
                ".ttl": ox.RdfFormat.TURTLE, ".jsonld": ox.RdfFormat.JSON_LD, ".json": ox.RdfFormat.JSON_LD,
                ".rdf": ox.RdfFormat.RDF_XML, ".owl": ox.RdfFormat.RDF_XML}
# Both engines run with the same options, so that their reports can be compared.
SHACL_OPTIONS = {"inference": "none", "advanced": True, "allow_warnings": False}


@dataclass(frozen=True, order=True)
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


# The constraints (and targets) of shapes that read nothing but the focus node's own statements, its
# values' rdf:type and the class hierarchy; shapes made of these alone can be validated part by part.
LOCAL_SHACL = {SH[name] for name in (
    "NodeShape", "PropertyShape", "property", "path", "targetClass", "targetSubjectsOf", "minCount", "maxCount",
    "class", "datatype", "nodeKind", "in", "pattern", "flags", "minInclusive", "maxInclusive", "minExclusive",
    "maxExclusive", "minLength", "maxLength", "hasValue", "languageIn", "uniqueLang", "or", "and", "not", "xone",
    "message", "name", "description", "severity", "deactivated", "order", "group")}
# Statements per part: memory stays flat as the graph grows, and pyshacl-turbo's time per focus node
# grows with the size of the graph it is given, so small parts are fastest (at 10^5 studies about
# 13,000 statements a part, 0.35 s each). A graph of fewer than two parts is validated whole.
PART_QUADS = 10_000
# Below this many statements a graph is validated whole, in this process: starting the process for
# the parts costs more than the parts save (measured: the real data, 26,000 statements, 0.14 s whole
# against 1.3 s in parts; 1,000 synthetic studies, 86,000 statements, 1.0 s against 2.4 s).
WHOLE_QUADS = 200_000


def validate_store(store: ox.Store, shapes_dir: Path = paths.SHAPES, part_quads: int | None = None,
                   scratch: Path | None = None) -> tuple[bool, list[Violation]]:
    """Validate a store that holds the ontology (class hierarchy) with the data, every graph
    together, with pyshacl-turbo. Data and shapes are both given as pyoxigraph stores: with the
    shapes as an rdflib graph it compares "x" and "x"^^xsd:string as different terms. tests/
    test_validate.py holds it to pyshacl, the reference, on every fixture and on the real data.

    A large graph (WHOLE_QUADS statements, or two parts if part_quads is given) is validated in parts
    when the shapes allow it (every one local, see LOCAL_SHACL): a part holds every statement of some
    subjects, the rdf:type statements of their values and the class hierarchy, which is all such
    shapes read of a focus node, so the results for those subjects are the whole graph's; results
    for other nodes of the part are left to their own part.
    The parts go through temporary N-Quads files (in scratch, or the system's temporary folder) to a
    new process, which validates them while this one writes the next: beside a whole large graph in
    memory, pyshacl-turbo takes ~60 % longer for the same part. (That process is spawned: a script
    that calls this must keep its top level under `if __name__ == "__main__":`.)"""
    shapes = shapes_store(shapes_dir)
    whole_below = WHOLE_QUADS if part_quads is None else 2 * part_quads
    part_quads = part_quads or PART_QUADS
    if len(store) < whole_below or not local_shapes(shapes):
        data = ox.Store()
        data.extend(part_quads_of(store, None))
        violations = Validator(shapes).part(data, None)
    else:
        violations = set()
        spawn = multiprocessing.get_context("spawn")
        with tempfile.TemporaryDirectory(prefix="shacl-", dir=scratch) as tmp, \
                ProcessPoolExecutor(1, mp_context=spawn, initializer=_start_validator,
                                    initargs=(str(shapes_dir),)) as validator:
            pending = []
            for i, subjects in enumerate(subject_parts(store, part_quads)):
                path = Path(tmp) / f"part-{i}.nq"
                ox.serialize(part_quads_of(store, subjects), str(path), format=ox.RdfFormat.N_QUADS)
                pending.append(validator.submit(_validate_part_file, str(path), list(map(str, subjects))))
            for future in pending:
                violations |= future.result()
    return not violations, sorted(violations)


def shapes_store(shapes_dir: Path = paths.SHAPES) -> ox.Store:
    shapes = ox.Store()
    for path in sorted(shapes_dir.glob("*.ttl")):
        shapes.load(path=str(path), format=ox.RdfFormat.TURTLE)
    return shapes


class Validator:
    """The shapes compiled once by pyshacl-turbo, for every part validated with them."""

    def __init__(self, shapes: ox.Store):
        import pyshacl_turbo

        self.compiled = pyshacl_turbo.CompiledShapes(shapes, advanced=SHACL_OPTIONS["advanced"])
        self.owners = {q.object.value: q.subject.value
                       for q in shapes.quads_for_pattern(None, ox.NamedNode(str(SH.property)), None)}

    def part(self, data: ox.Store, subjects: set[str] | None) -> set[Violation]:
        """The violations of the subjects (N-Triples terms; every node for None) in data."""
        focus = [s[1:-1] for s in subjects or () if s.startswith("<")]  # blank nodes cannot be named
        named = subjects and len(focus) == len(subjects)
        conforms, report, _ = self.compiled.validate(data, inference=SHACL_OPTIONS["inference"],
                                                     allow_warnings=SHACL_OPTIONS["allow_warnings"],
                                                     focus_nodes=focus if named else None)
        return set() if conforms else _violations(report, self.owners, subjects)


_VALIDATOR: list[Validator] = []  # in the process that validates the parts


def _start_validator(shapes_dir: str) -> None:
    end_with_parent()  # waiting for its next part, it would otherwise outlive a killed build
    _VALIDATOR.append(Validator(shapes_store(Path(shapes_dir))))


def _validate_part_file(path: str, subjects: list[str]) -> set[Violation]:
    data = ox.Store()
    data.load(path=path, format=ox.RdfFormat.N_QUADS)
    Path(path).unlink()
    return _VALIDATOR[0].part(data, set(subjects))


def local_shapes(shapes: ox.Store) -> bool:
    """Whether the shapes use only local SHACL terms (as predicates and as types), every path a property."""
    for q in shapes:
        term = q.object if q.predicate.value == RDF_TYPE else q.predicate
        if term.value.startswith(str(SH)) and URIRef(term.value) not in LOCAL_SHACL:
            return False
        if q.predicate.value == str(SH.path) and not isinstance(q.object, ox.NamedNode):
            return False
    return True


def subject_parts(store: ox.Store, part_quads: int) -> list[set]:
    """The subjects of the store in sets with about part_quads statements each, or a few more."""
    subjects = sorted((row["s"] for row in store.query("SELECT DISTINCT ?s WHERE { ?s ?p ?o }",
                                                           use_default_graph_as_union=True)),
                      key=str)
    count = max(1, len(store) // part_quads)
    return [set(subjects[i::count]) for i in range(count)]


def part_quads_of(store: ox.Store, subjects: set | None):
    """The default-graph quads validated for the subjects (all of them for None): their statements,
    their values' rdf:type statements and the class hierarchy."""
    if subjects is None:
        yield from (ox.Quad(q.subject, q.predicate, q.object) for q in store)
        return
    rdf_type, seen = ox.NamedNode(RDF_TYPE), set()
    yield from (ox.Quad(q.subject, q.predicate, q.object)
                for q in store.quads_for_pattern(None, ox.NamedNode(str(RDFS.subClassOf)), None))
    for subject in subjects:
        for q in store.quads_for_pattern(subject, None, None):
            yield ox.Quad(q.subject, q.predicate, q.object)
            if not isinstance(q.object, ox.Literal) and q.object not in subjects and q.object not in seen:
                seen.add(q.object)
                yield from (ox.Quad(t.subject, t.predicate, t.object)
                            for t in store.quads_for_pattern(q.object, rdf_type, None))


def validate_graph(data: Graph, shapes: Graph | None = None) -> tuple[bool, list[Violation]]:
    """Validate an rdflib graph with pyshacl, the reference engine."""
    from pyshacl import validate as shacl_validate  # 0.1 s to import: only when asked

    shapes = shapes if shapes is not None else shapes_graph()
    conforms, report, _ = shacl_validate(data, shacl_graph=shapes, **SHACL_OPTIONS)
    owners = {str(shape): str(owner) for owner, shape in shapes.subject_objects(SH.property)}
    return conforms, sorted(_violations(report, owners))


def _violations(report: Graph, owners: dict[str, str], subjects: set[str] | None = None) -> set[Violation]:
    """The report's results as violations, only those about the subjects (N-Triples terms) when given; a
    blank property shape is named by the node shape it belongs to (owners), as its own name changes from
    run to run."""
    prefixes = Graph()
    for prefix, ns in PREFIXES.items():
        prefixes.bind(prefix, ns, override=True, replace=True)

    def short(term) -> str:
        return "" if term is None else term.n3(prefixes.namespace_manager)

    violations = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        if subjects is not None and str(to_ox(focus)) not in subjects:
            continue
        shape = str(report.value(result, SH.sourceShape))
        violations.add(Violation(focus=short(focus),
                                 path=short(report.value(result, SH.resultPath)),
                                 message=str(report.value(result, SH.resultMessage) or "violates a constraint"),
                                 shape=owners.get(shape, shape)))
    return violations
