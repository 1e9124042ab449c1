"""From data/ to the built graph: a set of triples per named graph (layer)."""
from __future__ import annotations

from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from loaders import (
    agenda,
    bibliography,
    codebook,
    codings,
    figures,
    review,
    settings,
    sources,
)
from loaders.common import Context, DataError, Problem, read_csv, read_yaml
from loaders.vocab import LAYERS, PREFIXES, graph_iri

from . import paths


def _csv(data_dir: Path, name: str, required, problems: list[Problem]):
    path = data_dir / name
    if not path.exists():
        problems.append(Problem(name, 0, "(file)", "file is missing"))
        return []
    rows, found = read_csv(path, tuple(required))
    problems += found
    return rows


def _yaml(data_dir: Path, name: str, problems: list[Problem]) -> dict:
    path = data_dir / name
    if not path.exists():
        problems.append(Problem(name, 0, "(file)", "file is missing"))
        return {}
    data, found = read_yaml(path)
    problems += found
    return data


def bibliography_rows(data_dir: Path, problems: list[Problem]):
    rows = _csv(data_dir, "bibliography.csv", bibliography.REQUIRED, problems)
    for path in sorted(data_dir.glob("*.bib")):
        found_rows, found = bibliography.rows_from_bibtex(path, path.name)
        rows += found_rows
        problems += found
    for path in sorted(data_dir.glob("*.csl.json")):
        found_rows, found = bibliography.rows_from_csl_json(path, path.name)
        rows += found_rows
        problems += found
    return rows


def load_layers(data_dir: Path = paths.DATA) -> dict[str, list[tuple]]:
    """Run every loader; raise DataError with all problems of the run if there are any."""
    problems: list[Problem] = []
    ctx = Context()
    layers: dict[str, list[tuple]] = {name: [] for name in LAYERS}

    def take(layer: str, result):
        triples, found = result
        layers[layer] += triples
        problems.extend(found)

    take("review", sources.load_sources(_csv(data_dir, "sources.csv", sources.REQUIRED, problems), ctx))
    take("codebook", codebook.load_codebook(_yaml(data_dir, "codebook.yaml", problems), "codebook.yaml", ctx))
    parts, found = review.load_review(_yaml(data_dir, "review.yaml", problems), "review.yaml", ctx)
    problems += found
    for layer, triples in parts.items():
        layers[layer] += triples
    parts, found = bibliography.load_bibliography(bibliography_rows(data_dir, problems), ctx)
    problems += found
    for layer, triples in parts.items():
        layers[layer] += triples
    take("studies", settings.load_settings(_csv(data_dir, "settings.csv", settings.REQUIRED, problems), ctx))
    take("agenda", agenda.load_agenda(_yaml(data_dir, "agenda.yaml", problems), "agenda.yaml", ctx))
    take("codings", codings.load_cells(_csv(data_dir, "table1_cells.csv", codings.CELL_REQUIRED, problems), ctx))
    take("codings", codings.load_table1(_csv(data_dir, "table1.csv", codings.ITEM_REQUIRED, problems), ctx))
    take("codings", codings.load_prose(_csv(data_dir, "prose_claims.csv", codings.CLAIM_REQUIRED, problems), ctx))
    take("figures", figures.load_figures(_csv(data_dir, "figures.csv", figures.REQUIRED, problems), ctx))
    if problems:
        raise DataError(problems)
    return layers


def ontology_triples(ontology_dir: Path = paths.ONTOLOGY) -> list[tuple]:
    g = Graph()
    for path in sorted(ontology_dir.glob("*.ttl")):
        g.parse(path, format="turtle")
    return list(g)


class BuiltGraph:
    """The built graph as plain Python: the set of triples of each named graph (one per layer).

    No rdflib store is filled on the way: the writers and the quick SHACL check read these sets
    directly; an rdflib Graph of the union is made only where rdflib itself has to
    look (pyshacl's report, or a statement the fast writers leave to rdflib)."""

    def __init__(self, layers: dict[str, list[tuple]]):
        self.graphs: dict[URIRef, set] = {graph_iri(layer): set(layers[layer]) for layer in sorted(layers)}
        self.union: set = set().union(*self.graphs.values())

    def instances(self, *classes) -> dict:
        """class -> its instances, for each of the classes, in one pass over the union."""
        found = {cls: set() for cls in classes}
        for s, p, o in self.union:
            if p == RDF.type and o in found:
                found[o].add(s)
        return found

    def union_graph(self) -> Graph:
        g = Graph()
        for prefix, ns in PREFIXES.items():
            g.bind(prefix, ns, override=True, replace=True)
        for triple in sorted(self.union):
            g.add(triple)
        return g
