"""Every stored query on the real data: the expected answer, the same rows on both engines, and
parameters that cannot change a query."""
import pytest

from licn import paths
from licn.query.catalogue import QueryError, bind, catalogue_markdown, load_catalogue, sparql_string
from licn.query.engines import run, run_text

CATALOGUE = load_catalogue()


def rows(name, dist, **params):
    result = run(name, params, dist=dist)
    return [dict(zip(result.columns, r)) for r in result.rows]


def cell(result_rows, **match):
    found = [r for r in result_rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


def check_table1_items(r):
    table = [x for x in r if x["source"] == "table"]
    assert len(table) == 19
    refs = lambda **where: set(cell(table, **where)["references"].split(", "))  # a list in no order SPARQL promises
    assert refs(level="network", kind="activities", mechanism="Nurturing linkages") == {"41", "51", "94", "95", "96", "97"}
    assert refs(level="organisation", kind="practices", mechanism="Hospital ownership") == {"102"}
    assert refs(level="network", kind="practices", mechanism="Pooling resources/expertise") == {"13", "86", "87"}
    assert {x["kind"] for x in r if x["source"] == "prose"} >= {"media", "practices", "activities", "outcomes"}


def check_table1_matrix(r):
    assert len(r) == 9
    org = [x["occurrences"] for x in r if x["level"] == "organisation"]
    assert sum(org) == 15
    assert sum(x["occurrences"] for x in r if x["kind"] == "practices") == 14
    assert sum(x["occurrences"] for x in r if x["kind"] == "activities") == 23
    na = cell(r, level="network", kind="activities")
    assert (na["occurrences"], na["studies"], na["source"]) == (14, 13, "table")  # reference 95 counted twice
    assert cell(r, level="policy", kind="media")["source"] == "prose"
    assert cell(r, level="network", kind="media")["source"] == "prose"


def check_reported_vs_derived(r):
    status = {x["figure"]: (x["reported"], x["derived"], x["status"]) for x in r}
    assert status["Table 1 row header: organisation level (printed as studies; counts citations)"] == (15, 15, "match")
    assert status["Table 1 column header: leadership practices (printed as studies; counts citations)"] == (14, 14, "match")
    assert status["Table 1 column header: leadership activities (printed as studies; counts citations)"] == (23, 23, "match")
    assert status["Studies reviewed"] == (73, 73, "match")
    assert status["Table 1 row header: policy level (printed as studies; counts citations)"] == (30, 5, "partial")
    assert status["Table 1 row header: network level (printed as studies; counts citations)"] == (50, 25, "partial")
    assert status["Table 1 column header: leadership media (printed as studies; counts citations)"] == (58, 8, "partial")
    assert status["Search hits"][2] == "not-derivable"
    assert status["Studies published since 2009"][2] == "partial"
    assert {s for _, _, s in status.values()} <= {"match", "partial", "mismatch", "not-derivable"}
    assert len(r) == 14
    assert all("citation occurrences" in x["reported_counts"] and "citation occurrences" in x["derived_counts"]
               for x in r if "Table 1" in x["figure"])


def check_coverage(r):
    by = {x["measure"]: (x["value"], x["total"]) for x in r}
    assert by["studies identified (title known)"][1] == 73
    assert by["studies with DOI"][1] == 73
    assert by["reference entries identified (title known)"][1] == 105
    assert by["table 1 items encoded of those seen"] == (19, 19)
    assert by["identified works whose reference number is unknown"] == (28, 49)  # Lukeman 2019 added in the audit
    assert by["table 1 cells seen"] == (7, 9)
    assert by["reported figures matched"] == (4, 14)
    assert 10 <= by["studies identified (title known)"][0] < 73


def check_unidentified(r):
    numbers = [x["reference"] for x in r]
    assert numbers == sorted(numbers)
    assert 13 in numbers and 95 in numbers and 105 in numbers
    assert 58 not in numbers and 101 not in numbers and 1 not in numbers


EXPECTED = {
    "table1-items": check_table1_items,
    "table1-matrix": check_table1_matrix,
    "reported-vs-derived": check_reported_vs_derived,
    "coverage": check_coverage,
    "unidentified-references": check_unidentified,
    "cell-items": lambda r: (len(r) == 14 and [x["reference"] for x in r if x["mechanism"] == "Aligning goals and creating shared understandings"] == [95, 98]),
    "study-codings": lambda r: {x["mechanism"] for x in r} == {"Nurturing linkages", "Aligning goals and creating shared understandings"},
    "double-counts": lambda r: [(x["reference"], x["occurrences"], x["cells"]) for x in r] == [(95, 2, 1)],
    "mechanisms-across-levels": lambda r: [(x["mechanism"], x["levels"]) for x in r] == [("Continuous learning", "policy, network")],
    "studies-per-level": lambda r: [(x["level"], x["table_occurrences"]) for x in r] == [("policy", 5), ("network", 25), ("organisation", 15)],
    "studies-per-kind": lambda r: [(x["kind"], x["table_occurrences"]) for x in r] == [("media", 8), ("practices", 14), ("activities", 23), ("outcomes", 0)],
    "studies-per-mechanism": lambda r: cell(r, mechanism="Nurturing linkages")["occurrences"] == 6 and set(cell(r, mechanism="Continuous learning")["levels"].split(", ")) == {"policy", "network"},
    "studies-per-theory": lambda r: [(x["theory"], x["reported_studies"]) for x in r][:5] == [("Network theory", 15), ("Integrated care theory", 11), ("Social network theory", 7), ("Organisation theory", 6), ("Leadership theory", 4)],
    "evidence-gaps": lambda r: (r[3]["level"], r[3]["kind"], r[3]["studies"]) == ("policy", "practices", 1) and cell(r, level="network", kind="media")["table1_cell"] == "unseen" and len(r) == 12 and all(x["curator_studies"] == 0 for x in r),
    "publication-years": lambda r: sum(x["studies"] for x in r) == 12 and cell(r, year=2003)["period"] == "before 2009",
    "since-2009": lambda r: (r[0]["since_2009"], r[0]["with_year"], r[0]["unknown_year"], r[0]["reported"], r[0]["reported_of"]) == (11, 12, 61, 57, 73),
    "venues": lambda r: cell(r, venue="Milbank Quarterly")["works"] == 3,
    "countries": lambda r: cell(r, country="Denmark")["wikidata"] == "http://www.wikidata.org/entity/Q35" and cell(r, country="United States")["works"] == 6,
    "care-settings": lambda r: cell(r, setting="Regional health networks")["places"] == "Ontario",
    "tensions": lambda r: [(x["tension"], set(x["references"].split(", ")), x["status"]) for x in r] == [
        ("Dialogue versus the shadow of hierarchy", {"62"}, "seen"), ("Market competition versus collaboration", {"6", "41", "43"}, "seen"),
        ("Shared governance versus other forms of network governance", {"45"}, "inferred")],
    "research-avenues": lambda r: len(r) == 4 and r[0]["row"] == 1 and r[0]["placement"] == "seen" and cell(r, group="Theory")["placement"] == "inferred",
    "curation-worklist": lambda r: {x["task"] for x in r} == {"identify reference", "find unseen Table 1 cell", "fill knowledge gap", "confirm inferred fact"} and len([x for x in r if x["task"] == "find unseen Table 1 cell"]) == 2,
    "provenance": lambda r: {x["type"] for x in r} == {"Coding", "Identification", "SettingStatement", "Study"} and cell(r, type="Study", source="T1NOTES")["status"] == "inferred",
    "codebook-tree": lambda r: cell(r, concept="Nurturing linkages")["broader"] == "Activities" and all(x["definition"] for x in r),
    "graph-statistics": lambda r: [x["graph"] for x in r] == ["agenda", "catalogue", "codebook", "codings", "curation", "figures", "ontology", "references", "review", "studies"],
    "title-search": lambda r: cell(r, reference="101")["reviewed"] is True and all("network" in x["title"].lower() for x in r),
    "mechanism-network": lambda r: len(r) == 100 and cell(r, reference=95, mechanism="Nurturing linkages")["level"] == "network",
    "changes-since-review": lambda r: len(r) == 12 and cell(r, level="network", kind="outcomes")["review_gap"] == "empty as published" and all(x["extended_studies"] >= x["review_studies"] for x in r),
    "studies": lambda r: len(r) > 100 and len([x for x in r if x["reviewed"]]) == 73 and all(x["label"] for x in r),
    "coder-agreement": lambda r: len(r) == 6 and all(0 < x["value"] <= 1 and x["studies"] == 45 for x in r)
        and {x["dimension"] for x in r} == {"Levels of analysis", "Kinds of leadership mechanism", "Leadership mechanisms"},
    "coding-disagreements": lambda r: len(r) == 115 and {x["decision"] for x in r} == {"resolved", "dropped"}
        and all(x["reason"] and (x["pass_1"] or x["pass_2"]) for x in r),
    "prisma-flow": lambda r: cell(r, order=2)["count"] == 73 and cell(r, order=1)["count"] == 365 and cell(r, order=14)["count"] == 117,
    "codings": lambda r: len(r) == 321 and {x["basis"] for x in r} == {"table", "prose", "curator"} and all(x["curator"] for x in r if x["basis"] == "curator"),
    "bibliography": lambda r: len(r) >= 70 and cell(r, key="ref-58")["reference"] == 58 and all(x["key"] for x in r),
    "sources": lambda r: cell(r, source="SEED")["seen"] > 50 and all(x["statements"] > 0 for x in r),
}


def test_catalogue_has_at_least_twenty_queries_each_with_an_expectation():
    assert len(CATALOGUE) >= 20
    missing = [n for n in CATALOGUE if n not in EXPECTED and not n.startswith("figure-")]
    assert missing == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_query_gives_the_expected_answer(name, dist):
    result = rows(name, dist)
    outcome = EXPECTED[name](result)
    assert outcome is None or outcome is True, result[:5]


# The same rows on both engines, for every parameter value: tests/test_query_parameters.py.

def test_parameters_select_what_they_say(dist):
    assert {x["mechanism"] for x in rows("cell-items", dist, level="organisation", kind="practices")} == {
        "Multilateral boundary spanning", "Hospital ownership"}
    by_doi = rows("study-codings", dist, study="10.1177/1077558715590233")
    assert {x["reference"] for x in by_doi} == {101}
    assert rows("studies-per-level", dist, level="network")[0]["table_occurrences"] == 25
    assert rows("title-search", dist, text="zzz-nothing") == []


@pytest.mark.parametrize("value", [
    '" } UNION { ?s ?p ?o } #',
    '95") || true || ("',
    "x\" . ?e ?p ?o } } #\nSELECT * WHERE { ?s ?p ?o",
    "\\\" } # {",
])
def test_a_malicious_parameter_value_cannot_alter_the_query(value, dist):
    query = CATALOGUE["title-search"]
    text = bind(query, {"text": value})
    assert text.replace(sparql_string(value), sparql_string("network")) == bind(query)
    assert rows("title-search", dist, text=value) == []
    assert rows("study-codings", dist, study=value) == []


def test_unknown_parameter_and_unknown_query_are_refused(dist):
    with pytest.raises(QueryError, match="has no parameter"):
        run("title-search", {"txt": "x"}, dist=dist)
    with pytest.raises(QueryError, match="unknown query"):
        run("no-such-query", dist=dist)
    with pytest.raises(QueryError, match="does not parse"):
        run_text("SELECT WHERE {", dist=dist)


def test_results_as_a_dataframe(dist):
    frame = run("table1-matrix", dist=dist).to_dataframe()
    assert list(frame.columns) == ["level", "kind", "occurrences", "studies", "source"]
    assert frame["occurrences"].sum() == 18 + 1 + 4 + 28 + 11 + 14 + 8 + 2 + 5


def test_every_unordered_declaration_names_a_result_column(dist):
    """`# unordered:` names the columns whose lists SPARQL leaves in no order; a name that is no
    column would compare those lists in order without anyone noticing."""
    for name, query in load_catalogue().items():
        if query.unordered:
            columns = run(name, dist=dist).columns
            assert set(query.unordered) <= set(columns), (name, query.unordered, columns)


def test_queries_readme_is_generated_from_the_catalogue():
    assert (paths.QUERIES / "README.md").read_text(encoding="utf-8") == catalogue_markdown()


def test_catalogue_is_published_as_data(dist):
    result = run_text("""
        PREFIX licn: <https://w3id.org/licn/ontology#>
        PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT ?name ?text WHERE { ?q a licn:StoredQuery ; licn:queryName ?name ; sh:select ?text }""", dist=dist)
    published = {name: text for name, text in result.rows}
    assert set(published) == set(CATALOGUE)
    assert published["table1-matrix"] == CATALOGUE["table1-matrix"].text


def test_a_value_naming_another_parameter_stays_inside_its_literal(dist):
    """Parameters are filled in one pass: a value that spells "$kind" is not filled in again, so the
    next value cannot break out of its string literal (the query finds no such level, not every triple)."""
    hostile = {"level": "$kind", "kind": ") } UNION { ?x ?y ?z } #", "scope": "review"}
    assert run("cell-items", hostile, dist=dist).rows == []
    text = bind(load_catalogue()["cell-items"], hostile)
    assert sparql_string("$kind") in text and sparql_string(hostile["kind"]) in text


def test_a_parameter_value_outside_its_choices_is_refused_on_the_web_and_in_the_cli(dist):
    import subprocess
    import sys

    import httpx

    from licn.serve.app import create_app, serving
    with pytest.raises(QueryError, match="scope must be one of review, all, not 'foo'"):
        run("evidence-gaps", {"scope": "foo"}, dist=dist)
    done = subprocess.run([sys.executable, "-m", "licn.cli", "query", "evidence-gaps", "--param", "scope=foo",
                           "--dist", str(dist)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "scope must be one of review, all, not 'foo'" in done.stderr
    with serving(create_app(dist)) as url, httpx.Client(base_url=url, trust_env=False, timeout=30) as c:
        for path in ("/queries/evidence-gaps?scope=foo", "/queries/evidence-gaps.csv?scope=foo"):
            response = c.get(path)
            assert response.status_code == 400 and "review, all" in response.text, path
        assert c.get("/queries/evidence-gaps?scope=all").status_code == 200


def test_an_empty_result_in_the_review_scope_points_to_the_other_scope(dist):
    from licn.serve.app import create_app
    from starlette.testclient import TestClient

    with TestClient(create_app(dist, workers=1)) as client:
        page = client.get("/queries/study-codings?study=knight-2024-integrated", headers={"Accept": "text/html"}).text
        assert "0 rows" in page and 'href="?study=knight-2024-integrated&amp;scope=all"' in page
        everything = client.get("/queries/study-codings?study=knight-2024-integrated&scope=all").text
        assert "0 rows" not in everything and 'id="other-scope"' not in everything
