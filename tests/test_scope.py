"""The map as published and as extended: one counting rule behind the evidence map, the gap list,
the cell pages, the figures and the changes since the review, in both scopes."""
import csv
import io

import pytest

from licn.query.engines import run

SCOPES = ("review", "all")


def by_cell(result, value: str) -> dict:
    return {(r["level"], r["kind"]): r[value] for r in result.as_dicts()}


@pytest.mark.parametrize("scope", SCOPES)
def test_map_gap_list_and_cell_pages_agree(dist, scope):
    gaps = by_cell(run("evidence-gaps", {"scope": scope}, dist=dist), "studies")
    assert len(gaps) == 12
    for (level, kind), studies in gaps.items():
        rows = run("cell-items", {"level": level, "kind": kind, "scope": scope}, dist=dist).as_dicts()
        counted = {r["study"] for r in rows if r["counted"] is True and r["study"]}
        assert len(counted) == studies, (level, kind, scope)


def test_changes_since_the_review_use_the_map_counts(dist):
    changes = run("changes-since-review", dist=dist).as_dicts()
    review = by_cell(run("evidence-gaps", {"scope": "review"}, dist=dist), "studies")
    extended = by_cell(run("evidence-gaps", {"scope": "all"}, dist=dist), "studies")
    for row in changes:
        key = (row["level"], row["kind"])
        assert row["review_studies"] == review[key] and row["extended_studies"] == extended[key], key
        assert row["added_studies"] == extended[key] - review[key]
    filled = {(r["level"], r["kind"]) for r in changes if r["review_gap"] and r["added_studies"] > 0}
    assert ("network", "outcomes") in filled and ("policy", "outcomes") in filled


def test_the_published_map_is_the_review_alone(dist):
    """As published, no curator coding counts anywhere, and the numbers are the review's."""
    for row in run("evidence-gaps", dist=dist).as_dicts():
        assert row["curator_occurrences"] == 0 and row["curator_studies"] == 0
    matrix = {(r["level"], r["kind"]): r for r in run("table1-matrix", dist=dist).as_dicts()}
    gaps = {(r["level"], r["kind"]): r for r in run("evidence-gaps", dist=dist).as_dicts()}
    for key, m in matrix.items():
        assert (gaps[key]["occurrences"], gaps[key]["studies"]) == (m["occurrences"], m["studies"]), key


def test_the_figures_show_both_scopes_with_the_query_numbers(dist):
    for name, scope in (("evidence-map.csv", "review"), ("evidence-map-extended.csv", "all")):
        rows = list(csv.DictReader(io.StringIO((dist / "figures" / name).read_text(encoding="utf-8"))))
        expected = by_cell(run("evidence-gaps", {"scope": scope}, dist=dist), "studies")
        assert {(r["level"], r["kind"]): int(r["studies"]) for r in rows} == expected
    html = (dist / "figures" / "evidence-map.html").read_text(encoding="utf-8")
    assert 'href="evidence-map-extended.html"' in html


def test_every_study_beyond_the_review_traces_to_a_search_and_a_reason(dist):
    from licn.query.engines import run_text
    rows = run_text("""PREFIX licn: <https://w3id.org/licn/ontology#>
        SELECT ?w (COUNT(?d) AS ?decisions) WHERE {
          ?w a licn:Study ; licn:reviewCitation licn:notCitedByReview .
          OPTIONAL { ?d licn:screenedWork ?w ; licn:decision "include" ; licn:reason ?why ; licn:search ?s .
                     ?s licn:searchTerms ?terms ; licn:searchedIn ?where }
        } GROUP BY ?w""", dist=dist).rows
    assert len(rows) >= 20
    assert [w for w, n in rows if n == 0] == []
    worklist = run("curation-worklist", dist=dist).as_dicts()
    assert not [x for x in worklist if x["task"] == "record the search that found a study"]
