"""From data/ to the build's graph: one pyoxigraph store with a named graph per layer."""
from __future__ import annotations

import functools
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
    passes,
    review,
    screening,
    settings,
    sources,
)
from loaders.common import Context, DataError, Problem, read_csv, read_yaml
from loaders.vocab import LAYERS, graph_iri

from . import paths


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

    def read(name: str, required: tuple[str, ...] = (), optional: tuple[str, ...] = (), missing_ok: bool = False):
        """The rows of a CSV file with the required columns (and optional ones), or the mapping of a
        YAML file; a missing file, or a CSV file without rows, reads as empty, and is a problem unless
        the file may be missing."""
        path = data_dir / name
        yaml = path.suffix == ".yaml"
        if not path.exists():
            if not missing_ok:
                problems.append(Problem(name, 0, "(file)", "file is missing"))
            return {} if yaml else []
        data, found = read_yaml(path) if yaml else read_csv(path, required, optional)
        if not yaml and not data and not found and not missing_ok:
            found = [Problem(name, 1, "(file)", "no rows under the header (a file that is read holds rows)")]
        problems.extend(found)
        return data

    def read_split(stem: str, required: tuple[str, ...], optional: tuple[str, ...], missing_ok: bool = True):
        """The rows of stem.csv and of every stem-*.csv beside it (one sheet may be split in several files)."""
        rows = read(f"{stem}.csv", required, optional, missing_ok)
        for path in sorted(data_dir.glob(f"{stem}-*.csv")):
            rows += read(path.name, required, optional)
        return rows

    def take(result, layer: str | None = None):
        """A loader's problems, and its triples: those of layer, or without one, a dict of triples by layer."""
        triples, found = result
        problems.extend(found)
        for name, part in ({layer: triples} if layer else triples).items():
            layers[name] += part

    # read first: an exported entry's url is a source record
    works = read_split("bibliography", bibliography.REQUIRED, bibliography.OPTIONAL)
    for ending, rows_from in ((".bib", bibliography.rows_from_bibtex), (".ris", bibliography.rows_from_ris),
                              (".csl.json", bibliography.rows_from_csl_json)):
        for path in sorted(p for p in data_dir.glob("*") if p.name.lower().endswith(ending)):  # also X.BIB
            entries, found = rows_from(path, path.name)
            works += entries
            problems.extend(found)
    rows = read_split("sources", sources.REQUIRED, sources.OPTIONAL, missing_ok=False) + bibliography.record_sources(works)
    take(sources.load_sources(rows, ctx), "review")
    books = ["codebook.yaml"] + [p.name for p in sorted(data_dir.glob("codebook-*.yaml"))]
    take(codebook.load_codebooks([(name, read(name)) for name in books], ctx), "codebook")
    take(review.load_review(read("review.yaml"), "review.yaml", ctx))
    take(bibliography.load_bibliography(works, ctx))
    take(settings.load_settings(read("settings.csv", settings.REQUIRED, settings.OPTIONAL), ctx), "studies")
    take(agenda.load_agenda(read("agenda.yaml"), "agenda.yaml", ctx), "agenda")
    take(codings.load_cells(read("table1_cells.csv", codings.CELL_REQUIRED, codings.CELL_OPTIONAL), ctx), "codings")
    take(codings.load_table1(read("table1.csv", codings.ITEM_REQUIRED, codings.ITEM_OPTIONAL), ctx), "codings")
    take(codings.load_prose(read("prose_claims.csv", codings.CLAIM_REQUIRED, codings.CLAIM_OPTIONAL), ctx), "codings")
    take(curation.load_curators(read("curators.csv", curation.CURATOR_REQUIRED, curation.CURATOR_OPTIONAL,
                                     missing_ok=True), ctx), "curation")
    take(screening.load_search_sources(read("search-sources.yaml", missing_ok=True), "search-sources.yaml", ctx), "curation")
    take(screening.load_eligibility(read("eligibility.yaml", missing_ok=True), "eligibility.yaml", ctx), "curation")
    take(screening.load_searches(read("searches.csv", screening.SEARCH_REQUIRED, screening.SEARCH_OPTIONAL, missing_ok=True),
                                 read("screening.csv", screening.SCREENING_REQUIRED, screening.SCREENING_OPTIONAL,
                                      missing_ok=True), ctx))
    passes_data = read("coding-passes.yaml", missing_ok=True)
    pass_codings = {"pass-1": read_split("curator-codings", passes.CODING_REQUIRED, passes.CODING_OPTIONAL),
                    "pass-2": read_split("coding-pass-2", passes.CODING_REQUIRED, passes.CODING_OPTIONAL)}
    take(passes.load_coding_passes(passes_data, "coding-passes.yaml", pass_codings,
                                   read_split("reconciliation", passes.RECONCILED_REQUIRED, passes.RECONCILED_OPTIONAL),
                                   ctx))
    take(figures.load_figures(read("figures.csv", figures.REQUIRED, figures.OPTIONAL), ctx), "figures")
    return layers, problems


def turtle_graph(folder: Path) -> Graph:
    """Every Turtle file of a folder, in name order, as one rdflib graph."""
    g = Graph()
    for path in sorted(folder.glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


def ontology_triples(ontology_dir: Path = paths.ONTOLOGY) -> list[tuple]:
    return list(turtle_graph(ontology_dir))


def to_ox(term):
    """An rdflib term as the pyoxigraph term it stands for (the one converter in this direction)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):  # rdflib gives a literal a language or a datatype, never both
        return ox.Literal(str(term), language=term.language,
                          datatype=ox.NamedNode(str(term.datatype)) if term.datatype else None)
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
    if isinstance(term, ox.Literal):  # rdflib implies rdf:langString, the datatype of one with a language
        return Literal(term.value, lang=term.language, datatype=None if term.language else URIRef(term.datatype.value))
    return Literal(str(term))  # an RDF 1.2 triple term, shown as its text


def build_store(layers: dict[str, list[tuple]]) -> ox.Store:
    """The layers as one in-memory store, each layer a named graph. The layers are emptied on the
    way, so that the triples and their copy in the store are not both held whole."""
    store = ox.Store()
    for layer in sorted(layers):
        graph = ox.NamedNode(str(graph_iri(layer)))
        # a term stands in many triples: converted once per layer, so that the layer's terms are
        # let go with it
        term = functools.cache(to_ox)
        store.extend(ox.Quad(term(s), term(p), term(o), graph) for s, p, o in layers[layer])
        layers[layer] = []
    return store


SHARED_TRIPLES = """
SELECT ?s ?p ?o (GROUP_CONCAT(STR(?g); separator=" ") AS ?graphs) WHERE { GRAPH ?g { ?s ?p ?o } }
GROUP BY ?s ?p ?o HAVING (COUNT(?g) > 1)
"""


def shared_triples(store: ox.Store) -> list[str]:
    """The statements that stand in more than one layer (each must stand in exactly one)."""
    return sorted(f"{row['s']} {row['p']} {row['o']} is in {' '.join(sorted(row['graphs'].value.split()))}"
                  for row in store.query(SHARED_TRIPLES))
