"""licn diff OLD NEW: what changed between two releases (two built dist/ folders, or two N-Quads dumps, gzipped
or not):
statements added and removed per layer, studies and codings added, removed or changed, and the cells
of the evidence map (as extended) whose counts moved."""
from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from loaders.vocab import GRAPH, LICN

from .query.catalogue import bind, load_catalogue
from .query.engines import run_oxigraph

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")


@dataclass
class Changes:
    """What added, removed and changed mean for one kind of thing."""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass
class Diff:
    layers: dict[str, tuple[int, int]]  # layer -> (statements added, removed), only layers that changed
    studies: Changes
    codings: Changes
    cells: dict[tuple[str, str], tuple[int, int]]  # (level, kind) -> (studies before, after), only cells that moved
    labels: dict[str, str] = field(default_factory=dict, compare=False)  # IRI -> rdfs:label, for saying it in words

    def __bool__(self) -> bool:
        return bool(self.layers or self.studies or self.codings or self.cells)

    def lines(self) -> list[str]:
        if not self:
            return ["no change: the two releases hold the same statements"]
        out = [f"layer {layer}: {added} statement(s) added, {removed} removed" for layer, (added, removed) in self.layers.items()]
        for what, changes in (("study", self.studies), ("coding", self.codings)):
            out += [f"{what} added: {iri}" for iri in changes.added]
            out += [f"{what} removed: {iri}" for iri in changes.removed]
            out += [f"{what} changed: {iri}" for iri in changes.changed]
        out += [f"map cell {level} x {kind} (as extended): {before} -> {after} studies"
                for (level, kind), (before, after) in self.cells.items()]
        return out


def _nquads(path: Path) -> Path:
    path = Path(path)
    return path / "licn.nq" if path.is_dir() else path


def _by_subject(quads: set, subjects: set) -> dict:
    found: dict = {s: set() for s in subjects}
    for q in quads:
        if q.subject in found:
            found[q.subject].add(q)
    return found


def _changes(old: set, new: set, cls: ox.NamedNode) -> Changes:
    before = {q.subject for q in old if q.predicate == RDF_TYPE and q.object == cls}
    after = {q.subject for q in new if q.predicate == RDF_TYPE and q.object == cls}
    kept = before & after
    old_statements, new_statements = _by_subject(old, kept), _by_subject(new, kept)
    return Changes(sorted(s.value for s in after - before), sorted(s.value for s in before - after),
                   sorted(s.value for s in kept if old_statements[s] != new_statements[s]))


def _cells(quads: set) -> dict[tuple[str, str], int]:
    query = bind(load_catalogue()["evidence-gaps"], {"scope": "all"})
    store = ox.Store()
    store.extend(quads)
    rows = run_oxigraph(store, query).as_dicts()  # the default graph as the union of the layers
    return {(row["level"], row["kind"]): row["studies"] for row in rows}


def _read(path: Path) -> set:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as stream:
            return set(ox.parse(stream, format=ox.RdfFormat.N_QUADS))
    return set(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))


def labels(*quad_sets: set) -> dict[str, str]:
    """rdfs:label of every subject in the dumps, the later dump's label winning."""
    found = {}
    for quads in quad_sets:
        found.update({q.subject.value: q.object.value for q in quads if q.predicate == RDFS_LABEL})
    return found


def diff(old: Path, new: Path) -> Diff:
    old_nq, new_nq = _nquads(old), _nquads(new)
    for path in (old_nq, new_nq):
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist: give two built dist/ folders or two .nq dumps")
    before, after = _read(old_nq), _read(new_nq)
    added, removed = after - before, before - after
    layers: dict[str, tuple[int, int]] = {}
    for quads, position in ((added, 0), (removed, 1)):
        for q in quads:
            layer = q.graph_name.value.removeprefix(str(GRAPH))
            counts = list(layers.get(layer, (0, 0)))
            counts[position] += 1
            layers[layer] = (counts[0], counts[1])
    old_cells, new_cells = _cells(before), _cells(after)
    cells = {cell: (old_cells.get(cell, 0), new_cells.get(cell, 0)) for cell in sorted(old_cells.keys() | new_cells.keys())
             if old_cells.get(cell, 0) != new_cells.get(cell, 0)}
    return Diff(dict(sorted(layers.items())), _changes(before, after, ox.NamedNode(LICN.Study)),
                _changes(before, after, ox.NamedNode(LICN.Coding)), cells, labels(before, after))


def cmd_diff(args) -> int:
    import sys
    try:
        found = diff(Path(args.old), Path(args.new))
    except (FileNotFoundError, SyntaxError) as exc:
        print(f"licn diff: {exc}", file=sys.stderr)
        return 2
    print("\n".join(found.lines()))
    return 0
