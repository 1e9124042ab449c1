"""Each build gate fires on the damage it exists for, with the same rows on pyoxigraph and rdflib."""
import pyoxigraph as ox
import pytest
from rdflib import Dataset

from licn import paths
from licn.query.catalogue import parse_query_file
from licn.query.engines import plain, run_oxigraph
from licn.query.checks import run_checks

PREFIXES = """
PREFIX licn: <https://w3id.org/licn/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX bibo: <http://purl.org/ontology/bibo/>
PREFIX cb: <https://w3id.org/licn/codebook#>
"""
DAMAGE_GRAPH = "<urn:test:damage>"

# check name -> (SPARQL Update that damages the real data, an IRI the check must then report)
DAMAGE = {
    "coding-without-source": (
        f"INSERT DATA {{ GRAPH {DAMAGE_GRAPH} {{ <urn:test:coding> a licn:Coding ;"
        " licn:evidenceStatus licn:inferred ; licn:confidence cb:confidence-low } }", "urn:test:coding"),
    "concept-without-preflabel": (
        f'INSERT DATA {{ GRAPH {DAMAGE_GRAPH} {{ <urn:test:concept> a skos:Concept ; skos:prefLabel "x"@de }} }}',
        "urn:test:concept"),
    "duplicate-doi": (
        f'INSERT DATA {{ GRAPH {DAMAGE_GRAPH} {{ <urn:test:a> bibo:doi "10.1/ABC" . <urn:test:b> bibo:doi "10.1/abc" }} }}',
        "urn:test:a"),
    "fact-without-status": (
        f"INSERT DATA {{ GRAPH {DAMAGE_GRAPH} {{ <urn:test:claim> a licn:Coding ; licn:evidenceStatus licn:seen }} }}",
        "urn:test:claim"),
    "reference-outside-list": (
        f"INSERT DATA {{ GRAPH {DAMAGE_GRAPH} {{ <urn:test:entry> a licn:ReferenceEntry ; licn:referenceNumber 106 }} }}",
        "urn:test:entry"),
    "seen-without-source": (
        f"INSERT DATA {{ GRAPH {DAMAGE_GRAPH} {{ <urn:test:fact> licn:evidenceStatus licn:seen }} }}",
        "urn:test:fact"),
    "stale-coding-gap": (
        f'INSERT {{ GRAPH {DAMAGE_GRAPH} {{ ?study licn:codingGap "stale" }} }} WHERE {{'
        " GRAPH ?g { ?study licn:studyEntry ?entry } GRAPH ?h { ?entry licn:referenceNumber 95 } }",
        "https://w3id.org/licn/id/study/ref-95"),
    "study-without-coding": (
        "DELETE { GRAPH ?g { ?study licn:codingGap ?why } } WHERE { GRAPH ?g { ?study licn:codingGap ?why }"
        " GRAPH ?h { ?study licn:studyEntry ?entry } GRAPH ?i { ?entry licn:referenceNumber 7 } }",
        "https://w3id.org/licn/id/study/ref-7"),
}


def test_every_check_has_a_damage_case():
    names = {p.name.removesuffix("-violation.rq") for p in paths.CHECKS.glob("*-violation.rq")}
    assert names == set(DAMAGE)


@pytest.fixture(scope="module")
def real_nquads(dist):
    return (dist / "licn.nq").read_bytes()


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_check_reports_its_damage_on_both_engines(name, real_nquads):
    store = ox.Store()
    store.load(real_nquads, format=ox.RdfFormat.N_QUADS)
    update, culprit = DAMAGE[name]
    query = parse_query_file(paths.CHECKS / f"{name}-violation.rq")
    assert run_oxigraph(store, query.text).rows == [], "the real data must pass before the damage"

    store.update(PREFIXES + update)
    rows = run_oxigraph(store, query.text).rows
    assert any(culprit in str(cell).split() for row in rows for cell in row), rows
    assert any(f"  {query.name}:" in failure for failure in run_checks(store))

    ds = Dataset(default_union=True)
    ds.parse(data=ox.serialize(store, format=ox.RdfFormat.N_QUADS), format="nquads")
    rdflib_rows = [[plain(row[v]) for v in row.labels] for row in ds.query(query.text)]
    assert sorted(map(repr, rdflib_rows)) == sorted(map(repr, rows))
