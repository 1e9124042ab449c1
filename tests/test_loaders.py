"""Loaders on good and bad rows: triples from stable keys, problems as file:line: field: message."""
import shutil
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV

from licn import paths
from licn.graph import load_layers
from loaders.common import DataError, read_csv
from loaders.curation import orcid_checksum
from loaders.vocab import BIBO, LICN, entry_iri, instance, study_iri, work_iri


@pytest.fixture
def data(tmp_path) -> Path:
    """A copy of the real data that a test may break."""
    target = tmp_path / "data"
    shutil.copytree(paths.DATA, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(data: Path) -> list[str]:
    with pytest.raises(DataError) as caught:
        load_layers(data)
    return [str(p) for p in caught.value.problems]


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def all_triples(layers) -> set:
    return {t for triples in layers.values() for t in triples}


def test_real_data_loads_into_every_layer():
    layers = load_layers()
    for layer in ("codebook", "review", "references", "studies", "codings", "figures", "agenda"):
        assert layers[layer], layer
    triples = all_triples(layers)
    assert (study_iri(101), BIBO.doi, Literal("10.1177/1077558715590233")) in triples
    assert (work_iri("li-2018-understanding"), DCTERMS.title, Literal(
        "Understanding inter-organizational trust among integrated care service provider networks: "
        "A perspective on organizational asymmetries")) in triples


def test_iris_come_from_keys_not_row_order(data):
    before = all_triples(load_layers(data))
    for name in ("bibliography.csv", "table1.csv", "prose_claims.csv", "figures.csv", "settings.csv"):
        path = data / name
        header, *rows = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join([header] + rows[::-1]) + "\n", encoding="utf-8")
    assert all_triples(load_layers(data)) == before


def test_missing_required_field_names_file_line_and_field(data):
    path = data / "table1.csv"
    line = line_of(path, "Co-creation")
    edit(path, "inferred,RW;T1NOTES,\"Table 1, network level, item 2", "inferred,,\"Table 1, network level, item 2")
    assert f"table1.csv:{line}: sources: required value is empty" in problems_of(data)


def test_all_problems_of_a_run_are_reported_together(data):
    edit(data / "bibliography.csv", "10.1177/1077558715590233", "not-a-doi")
    edit(data / "table1.csv", "network,practices,3,planning", "network,practices,3,plannning")
    edit(data / "figures.csv", "search-hits,Search hits,365", "search-hits,Search hits,many")
    found = problems_of(data)
    bib = line_of(data / "bibliography.csv", "not-a-doi")
    t1 = line_of(data / "table1.csv", "plannning")
    fig = line_of(data / "figures.csv", "search-hits,Search hits")
    assert f"bibliography.csv:{bib}: doi: 'not-a-doi' is not a DOI (10.NNNN/...)" in found
    assert f"table1.csv:{t1}: mechanism: unknown mechanism 'plannning' (did you mean planning?)" in found
    assert f"figures.csv:{fig}: value: 'many' is not a whole number" in found


def test_unknown_source_key(data):
    edit(data / "figures.csv", "IJIC;PH4P", "IJIC;NOWHERE")
    line = line_of(data / "figures.csv", "NOWHERE")
    assert f"figures.csv:{line}: sources: unknown source 'NOWHERE' (not in sources.csv)" in problems_of(data)


def test_duplicate_key(data):
    path = data / "prose_claims.csv"
    text = path.read_text(encoding="utf-8")
    duplicate = next(l for l in text.splitlines() if l.startswith("network-trust,"))
    path.write_text(text + duplicate + "\n", encoding="utf-8")
    last = len(path.read_text(encoding="utf-8").splitlines())
    first = line_of(path, "network-trust,")
    assert f"prose_claims.csv:{last}: key: duplicate key 'network-trust' (first at line {first})" in problems_of(data)


def test_reference_number_outside_the_list(data):
    edit(data / "table1.csv", "88 89 90 91 92 93", "88 89 90 91 92 930")
    line = line_of(data / "table1.csv", "930")
    assert f"table1.csv:{line}: refs: reference 930 is outside the reference list (1-105)" in problems_of(data)


def test_wrong_status_value(data):
    edit(data / "settings.csv", "ref-11,switzerland,,,VD,Introduction: country example Switzerland [11],seen",
         "ref-11,switzerland,,,VD,Introduction: country example Switzerland [11],probably")
    line = line_of(data / "settings.csv", "ref-11,switzerland")
    assert f"settings.csv:{line}: status: must be 'seen' or 'inferred', not 'probably'" in problems_of(data)


def test_broken_csv_quoting(data):
    path = data / "figures.csv"
    path.write_text(path.read_text(encoding="utf-8") + 'broken,"Unclosed,1,,search-hits\n', encoding="utf-8")
    found = problems_of(data)
    assert any(p.startswith("figures.csv:") and "(row)" in p for p in found), found


def test_bad_encoding(data):
    path = data / "settings.csv"
    path.write_bytes(path.read_bytes() + b"ref-12,taiwan,,Taip\xe9,VD,x,seen,high,\n")
    line = len(path.read_bytes().splitlines())
    assert f"settings.csv:{line}: (file): not valid UTF-8 (invalid continuation byte); save the file as UTF-8" in problems_of(data)


def test_bad_yaml_names_its_line(data):
    path = data / "agenda.yaml"
    edit(path, "    group: Theory\n", "    group: [Theory\n")
    found = problems_of(data)
    assert any(p.startswith("agenda.yaml:") and "not valid YAML" in p for p in found), found


def test_unknown_concept_in_yaml_names_its_line(data):
    path = data / "agenda.yaml"
    edit(path, "    levels: [network]\n", "    levels: [galaxy]\n")
    line = line_of(path, "  - key: shared-vs-other-governance")
    assert f"agenda.yaml:{line}: levels: unknown level 'galaxy'" in problems_of(data)


def test_read_csv_skips_blank_rows_and_counts_lines(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('a,b\n1,"two\nlines"\n\n3,4\n', encoding="utf-8")
    rows, problems = read_csv(path, ("a", "b"))
    assert problems == []
    assert [(r.line, r.data["a"]) for r in rows] == [(2, "1"), (5, "3")]


def test_bibtex_drop_in(data):
    (data / "extra.bib").write_text("""
@article{dinesen-2011-bib,
  author = {Dinesen, Birthe and Seemann, Janne},
  title = {{A test entry}},
  journal = {International Journal of Integrated Care},
  year = {2011},
  volume = {11},
  pages = {1--10},
  doi = {10.9999/test.1},
  licn-sources = {SEED},
  licn-status = {seen},
  licn-confidence = {medium}
}
""", encoding="utf-8")
    triples = all_triples(load_layers(data))
    work = work_iri("dinesen-2011-bib")
    assert (work, DCTERMS.title, Literal("A test entry")) in triples
    assert (work, LICN.authors, Literal("Dinesen B; Seemann J")) in triples
    assert (work, BIBO.pages, Literal("1-10")) in triples


def test_bibtex_entry_without_curation_fields_is_refused(data):
    (data / "extra.bib").write_text("@article{nosource-2020,\n  title = {No source},\n  year = {2020}\n}\n", encoding="utf-8")
    found = problems_of(data)
    assert "extra.bib:1: sources: required value is empty" in found
    assert "extra.bib:1: status: required value is empty" in found


def test_csl_json_drop_in(data):
    (data / "extra.csl.json").write_text("""[
  {"id": "csl-2019-test", "type": "article-journal", "title": "A CSL item",
   "author": [{"family": "Doe", "given": "Jane Anne"}], "issued": {"date-parts": [[2019]]},
   "container-title": "Health Policy", "DOI": "10.9999/csl.2",
   "licn": {"sources": ["SEED"], "status": "seen", "confidence": "low", "ref_no": 42}}
]""", encoding="utf-8")
    triples = all_triples(load_layers(data))
    assert (study_iri(42), DCTERMS.title, Literal("A CSL item")) in triples
    assert (study_iri(42), LICN.authors, Literal("Doe JA")) in triples
    assert (entry_iri(42), URIRef("http://purl.org/spar/biro/references"), study_iri(42)) in triples


def test_every_fact_row_points_to_its_sources():
    triples = all_triples(load_layers())
    coding = URIRef("https://w3id.org/licn/id/coding/network-activities-nurturing-linkages-95")
    assert {o for s, p, o in triples if s == coding and p == PROV.wasDerivedFrom} == {
        URIRef("https://w3id.org/licn/id/source/rw"), URIRef("https://w3id.org/licn/id/source/t1notes")}


def test_an_orcid_with_its_check_character_is_taken(data):
    """ISO 7064 MOD 11-2 on ORCID's own examples; a well-formed iD whose last character is wrong is
    refused (tests/test_bad_input.py)."""
    assert [orcid_checksum(o) for o in ("0000-0002-1825-0097", "0000-0001-5109-3700", "0000-0002-1694-233X")] == ["7", "0", "X"]
    edit(data / "curators.csv", "LICN-KG curation team,team,,", "LICN-KG curation team,team,0000-0002-1694-233X,")
    assert (instance("agent", "licn-curators"), LICN.orcid, URIRef("https://orcid.org/0000-0002-1694-233X")) in all_triples(load_layers(data))
