"""From data/ to the build's graph: one pyoxigraph store with a named graph per layer."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from loaders import (
    agenda,
    bibliography,
    codebook,
    codings,
    curation,
    figures,
    review,
    settings,
    sources,
)
from loaders.common import Context, DataError, Problem, read_csv, read_yaml
from loaders.vocab import LAYERS, graph_iri

from . import paths


def _csv(data_dir: Path, name: str, required, problems: list[Problem], optional: bool = False):
    path = data_dir / name
    if not path.exists():
        if not optional:
            problems.append(Problem(name, 0, "(file)", "file is missing"))
        return []
    rows, found = read_csv(path, tuple(required))
    problems += found
    return rows


def _csvs(data_dir: Path, stem: str, required, problems: list[Problem]):
    """The rows of stem.csv and of every stem-*.csv beside it (one sheet may be split in several files)."""
    rows = _csv(data_dir, f"{stem}.csv", required, problems, optional=True)
    for path in sorted(data_dir.glob(f"{stem}-*.csv")):
        rows += _csv(data_dir, path.name, required, problems)
    return rows


def _yaml(data_dir: Path, name: str, problems: list[Problem], optional: bool = False) -> dict:
    path = data_dir / name
    if not path.exists():
        if not optional:
            problems.append(Problem(name, 0, "(file)", "file is missing"))
        return {}
    data, found = read_yaml(path)
    problems += found
    return data


def bibliography_rows(data_dir: Path, problems: list[Problem]):
    rows = _csvs(data_dir, "bibliography", bibliography.REQUIRED, problems)
    for path in sorted(data_dir.glob("*.bib")):
        found_rows, found = bibliography.rows_from_bibtex(path, path.name)
        rows += found_rows
        problems += found
    for path in sorted(data_dir.glob("*.ris")):
        found_rows, found = bibliography.rows_from_ris(path, path.name)
        rows += found_rows
        problems += found
    for path in sorted(data_dir.glob("*.csl.json")):
        found_rows, found = bibliography.rows_from_csl_json(path, path.name)
        rows += found_rows
        problems += found
    return rows


def load_layers(data_dir: Path = paths.DATA) -> dict[str, list[tuple]]:
    """Run every loader; raise DataError with all problems of the run if there are any."""
    layers, problems = collect_layers(data_dir)
    if problems:
        raise DataError(problems)
    return layers


def collect_layers(data_dir: Path = paths.DATA) -> tuple[dict[str, list[tuple]], list[Problem]]:
    """Run every loader: the triples of each layer, and every problem found on the way."""
    data_dir = Path(data_dir)
    problems: list[Problem] = []
    ctx = Context()
    layers: dict[str, list[tuple]] = {name: [] for name in LAYERS}

    def take(layer: str, result):
        triples, found = result
        layers[layer] += triples
        problems.extend(found)

    def take_parts(result):
        parts, found = result
        problems.extend(found)
        for layer, triples in parts.items():
            layers[layer] += triples

    if not (data_dir / "sources.csv").exists():
        problems.append(Problem("sources.csv", 0, "(file)", "file is missing"))
    works = bibliography_rows(data_dir, problems)  # read first: an exported entry's url is a source record
    take("review", sources.load_sources(_csvs(data_dir, "sources", sources.REQUIRED, problems)
                                        + bibliography.record_sources(works), ctx))
    books = [("codebook.yaml", _yaml(data_dir, "codebook.yaml", problems))]
    books += [(p.name, _yaml(data_dir, p.name, problems)) for p in sorted(data_dir.glob("codebook-*.yaml"))]
    take("codebook", codebook.load_codebooks(books, ctx))
    take_parts(review.load_review(_yaml(data_dir, "review.yaml", problems), "review.yaml", ctx))
    take_parts(bibliography.load_bibliography(works, ctx))
    take("studies", settings.load_settings(_csv(data_dir, "settings.csv", settings.REQUIRED, problems), ctx))
    take("agenda", agenda.load_agenda(_yaml(data_dir, "agenda.yaml", problems), "agenda.yaml", ctx))
    take("codings", codings.load_cells(_csv(data_dir, "table1_cells.csv", codings.CELL_REQUIRED, problems), ctx))
    take("codings", codings.load_table1(_csv(data_dir, "table1.csv", codings.ITEM_REQUIRED, problems), ctx))
    take("codings", codings.load_prose(_csv(data_dir, "prose_claims.csv", codings.CLAIM_REQUIRED, problems), ctx))
    take("curation", curation.load_curators(_csv(data_dir, "curators.csv", curation.CURATOR_REQUIRED, problems, optional=True), ctx))
    take_parts(curation.load_searches(
        _csv(data_dir, "searches.csv", curation.SEARCH_REQUIRED, problems, optional=True),
        _csv(data_dir, "screening.csv", curation.SCREENING_REQUIRED, problems, optional=True), ctx))
    take_parts(curation.load_curator_codings(_csvs(data_dir, "curator-codings", curation.CODING_REQUIRED, problems), ctx))
    take("figures", figures.load_figures(_csv(data_dir, "figures.csv", figures.REQUIRED, problems), ctx))
    return layers, problems


def ontology_graph(ontology_dir: Path = paths.ONTOLOGY) -> Graph:
    g = Graph()
    for path in sorted(ontology_dir.glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


def ontology_triples(ontology_dir: Path = paths.ONTOLOGY) -> list[tuple]:
    return list(ontology_graph(ontology_dir))


def to_ox(term):
    """An rdflib term as the pyoxigraph term it stands for (the one converter in this direction)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)) if term.datatype else None)
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def to_rdflib(term):
    """A pyoxigraph term as the rdflib term it stands for (the one converter in this direction)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    return Literal(str(term))  # an RDF 1.2 triple term, shown as its text


def build_store(layers: dict[str, list[tuple]]) -> ox.Store:
    """The layers as one in-memory store, each layer a named graph."""
    store = ox.Store()
    converted: dict = {}

    def term(t):
        found = converted.get(t)
        if found is None:
            found = converted[t] = to_ox(t)
        return found

    for layer in sorted(layers):
        graph = ox.NamedNode(str(graph_iri(layer)))
        store.extend(ox.Quad(term(s), term(p), term(o), graph) for s, p, o in layers[layer])
    return store


SHARED_TRIPLES = """
SELECT ?s ?p ?o (GROUP_CONCAT(STR(?g); separator=" ") AS ?graphs) WHERE {
  { SELECT DISTINCT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } GRAPH ?h { ?s ?p ?o } FILTER(?g != ?h) } }
} GROUP BY ?s ?p ?o
"""


def shared_triples(store: ox.Store) -> list[str]:
    """The statements that stand in more than one layer (each must stand in exactly one)."""
    found = []
    for row in store.query(SHARED_TRIPLES):
        graphs = " ".join(sorted(row["graphs"].value.split()))
        found.append(f"{row['s']} {row['p']} {row['o']} is in {graphs}")
    return sorted(found)
