"""Every stored query with every parameter value that occurs in the data gives the same rows on
pyoxigraph and rdflib (GROUP_CONCAT lists, whose order SPARQL leaves open, compared as sets)."""
from __future__ import annotations

import itertools
import re

import pytest

from licn.query.catalogue import load_catalogue
from licn.query.engines import run, run_text

CATALOGUE = load_catalogue()
PREFIXES = """PREFIX licn: <https://w3id.org/licn/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX bibo: <http://purl.org/ontology/bibo/>
"""


def values(dist, query: str) -> list[str]:
    return sorted({str(row[0]) for row in run_text(PREFIXES + query, dist=dist).rows})


@pytest.fixture(scope="module")
def data_values(dist):
    notations = lambda cls: values(dist, f"SELECT ?k WHERE {{ ?c a {cls} ; skos:notation ?k }}")  # noqa: E731
    numbers = values(dist, "SELECT ?n WHERE { ?s a licn:ReviewedStudy ; licn:studyEntry/licn:referenceNumber ?n }")
    dois = values(dist, "SELECT ?d WHERE { ?s a licn:Study ; bibo:doi ?d }")
    keys = [k.rsplit("/", 1)[1] for k in values(dist, "SELECT ?s WHERE { ?s a licn:Study }")]
    titles = values(dist, "SELECT ?t WHERE { ?w dcterms:title ?t }")
    words = sorted({w for t in titles for w in re.findall(r"[a-z]{5,}", t.lower())[:1]})
    return {
        "level": ["", *notations("licn:LevelOfAnalysis")],
        "kind": ["", *notations("licn:MechanismKind")],
        "mechanism": ["", *notations("licn:Mechanism")],
        "theory": ["", *notations("licn:TheoreticalLens")],
        "scheme": ["", *[s.rsplit("#", 1)[1] for s in values(dist, "SELECT ?s WHERE { ?s a skos:ConceptScheme }")]],
        "scope": ["review", "all"],
        "study": sorted(set(numbers) | set(dois) | set(keys)),
        "study-number": numbers,
        "text": ["", "network", *words],
    }


def normalised(result, query):
    positions = [result.columns.index(c) for c in query.unordered if c in result.columns]
    rows = []
    for row in result.rows:
        row = list(row)
        for i in positions:
            if isinstance(row[i], str):
                row[i] = sorted(re.split(r", | \| ", row[i]))
        rows.append(row)
    return rows


def combinations(query, data_values):
    """Every combination of the values the data has for the query's parameters (a study parameter
    that takes only reference numbers gets every reviewed study's number)."""
    names = [p.name for p in query.params]
    pools = [data_values["study-number"] if p.name == "study" and "DOI" not in p.description else data_values[p.name]
             for p in query.params]
    for combo in itertools.product(*pools):
        yield dict(zip(names, combo))


# the queries with parameters go through many values each: left out of make test-quick
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if CATALOGUE[n].params else n
                                  for n in sorted(CATALOGUE)])
def test_every_query_with_every_value_in_the_data_is_the_same_on_both_engines(name, dist, data_values):
    query = CATALOGUE[name]
    if query.form != "SELECT":
        pytest.skip("not a SELECT query")
    checked = 0
    for params in combinations(query, data_values):
        a = run(name, params, dist=dist, engine="oxigraph")
        b = run(name, params, dist=dist, engine="rdflib")
        assert a.columns == b.columns, params
        assert normalised(a, query) == normalised(b, query), params
        checked += 1
    assert checked >= 1


def test_study_codings_by_doi_give_what_they_give_by_number(dist):
    pairs = run_text(PREFIXES + """SELECT ?n ?d WHERE {
        ?s a licn:ReviewedStudy ; bibo:doi ?d ; licn:studyEntry/licn:referenceNumber ?n }""", dist=dist).rows
    assert len(pairs) >= 10
    coded = 0
    for number, doi in pairs:
        for scope in ("review", "all"):
            by_number = run("study-codings", {"study": str(number), "scope": scope}, dist=dist)
            by_doi = run("study-codings", {"study": doi, "scope": scope}, dist=dist)
            assert by_number.rows == by_doi.rows, (number, doi)
            coded += bool(by_number.rows)
    assert coded >= 10


def test_the_union_default_graph_is_a_set(dist):
    total = run_text("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", dist=dist).rows[0][0]
    distinct = run_text("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }", dist=dist).rows[0][0]
    rdflib_total = run_text("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", dist=dist, engine="rdflib").rows[0][0]
    assert total == distinct == rdflib_total
