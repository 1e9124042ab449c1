"""The studies table (/studies.html) and its CSV (/studies.csv): the level-kind pairs of the `studies`
query against the codings they come from, and in headless Chromium against `licn serve` on loopback,
a page that fits the screen and an export of the rows shown that is those rows of /studies.csv."""
from __future__ import annotations

import csv
import io
import time
import urllib.request
from collections import defaultdict

import pytest
from browsers import AVAILABLE, MISSING, chromium

from licn.query.engines import run, run_text

PAIRS = """
PREFIX licn: <https://w3id.org/licn/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?study ?level ?kind WHERE {
  ?coding licn:evidenceFrom ?study ; licn:basis ?basis ; licn:level ?l ; licn:kind ?k .
  ?l skos:notation ?level .
  ?k skos:notation ?kind .
  ?study a licn:Study .
  %s
}
"""
IN_SCOPE = {"all": "", "review": "?study a licn:ReviewedStudy . FILTER(?basis != licn:CuratorBasis)"}


@pytest.mark.parametrize("scope", ["all", "review"])
def test_the_cells_column_is_the_level_kind_pairs_of_each_studys_codings(dist, scope):
    result = run("studies", {"scope": scope}, dist=dist)
    listed = {row["study"]: {key for key in row["cells"].split(", ") if key} for row in result.as_dicts()}
    expected = defaultdict(set)
    for row in run_text(PAIRS % IN_SCOPE[scope], dist=dist).as_dicts():
        expected[row["study"]].add(f"{row['level']}-{row['kind']}")
    assert set(expected) <= set(listed)
    assert listed == {study: expected.get(study, set()) for study in listed}
    assert any(len(pairs) > 1 for pairs in listed.values())
    # the pairs are the levels and the kinds of the same codings
    for row in result.as_dicts():
        pairs = [key.split("-") for key in row["cells"].split(", ") if key]
        assert {level for level, _ in pairs} == {v for v in row["levels"].split(", ") if v}
        assert {kind for _, kind in pairs} == {v for v in row["kinds"].split(", ") if v}


def test_the_static_studies_csv_is_the_query_with_its_cells(dist):
    from licn.query.catalogue import load_catalogue
    from licn.query.results import format_result

    unordered = load_catalogue()["studies"].unordered
    assert "cells" in unordered

    def table(text: str) -> tuple[list[str], set[tuple]]:
        header, *rows = csv.reader(io.StringIO(text))
        lists = [i for i, column in enumerate(header) if column in unordered]  # sets, in no order SPARQL promises
        return header, {tuple(frozenset(v.split(", ")) if i in lists else v for i, v in enumerate(row)) for row in rows}

    written = table((dist / "site" / "studies.csv").read_text(encoding="utf-8"))
    assert written == table(format_result(run("studies", {"scope": "all"}, dist=dist), "csv"))
    header = written[0]
    assert header[:2] == ["study", "label"] and {"cells", "doi", "identified", "reviewed"} <= set(header)


# -- in the browser ------------------------------------------------------------------------------

def in_browser(test):
    """A test that drives headless Chromium (skipped, with the reason, where it is not installed)."""
    return pytest.mark.browser(pytest.mark.skipif(
        not AVAILABLE, reason=MISSING)(test))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"), 1400, 1000)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def served_csv(server):
    """/studies.csv as the server sends it: its text, its header and its rows by study IRI."""
    with urllib.request.urlopen(server + "/studies.csv") as response:
        text = response.read().decode("utf-8")
    header, *rows = csv.reader(io.StringIO(text))
    return {"text": text, "header": header, "rows": {row[0]: tuple(row) for row in rows}}


def _open(browser, url: str, width: int = 1400):
    browser.set_window_size(width, 1000)
    browser.get(url)
    browser.find_element("id", "studies")


def _shown(browser) -> list[str]:
    """The study IRIs of the rows shown, top to bottom."""
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#studies tbody tr')).filter(r => !r.hidden)"
        ".map(r => r.dataset.study)")


def _export(browser, folder) -> str:
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})
    browser.find_element("id", "export").click()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [p for p in folder.glob("studies-filtered*.csv") if not p.name.endswith(".crdownload")]
        if found:
            time.sleep(0.2)  # a download is renamed to its final name once written
            return found[0].read_text(encoding="utf-8")
        time.sleep(0.1)
    raise AssertionError(f"nothing was downloaded into {folder}")


def _scroll_width(browser) -> tuple[int, int]:
    return browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")


@in_browser
@pytest.mark.parametrize("width", [1400, 400])
def test_the_page_does_not_scroll_sideways(browser, server, width):
    _open(browser, server + "/studies.html", width)
    scroll, inner = _scroll_width(browser)
    assert scroll <= inner, (width, scroll, inner)
    # the default columns: the study (title with authors, year and number), venue, level x kind,
    # mechanisms, countries, basis; the others are a reader's choice
    shown = browser.execute_script("return Array.from(document.querySelectorAll('#studies thead th'))"
                                   ".filter(th => !th.hidden).map(th => th.dataset.column)")
    assert shown == ["study", "venue", "cells", "mechanisms", "countries", "bases"]
    if width >= 1400:  # a table: the titles take the room
        widths = browser.execute_script("return Array.from(document.querySelectorAll('#studies thead th'))"
                                        ".filter(th => !th.hidden).map(th => th.offsetWidth)")
        assert widths[0] == max(widths) and widths[0] > 0.25 * sum(widths)
    else:  # cards: each row as wide as the page
        row = browser.find_element("css selector", "#studies tbody tr")
        assert row.size["width"] <= browser.execute_script("return window.innerWidth")
    first = browser.find_element("css selector", "#studies tbody tr td.study")
    assert first.find_element("css selector", "a").is_displayed() and first.find_element("css selector", ".by").text
    # every column chosen: the table may scroll in its frame, the page still does not
    browser.find_element("css selector", "#columns summary").click()
    for box in browser.find_elements("css selector", "#columns [data-toggle]"):
        if not box.is_selected():
            box.click()
    assert all(th.is_displayed() for th in browser.find_elements("css selector", "#studies thead th"))
    scroll, inner = _scroll_width(browser)
    assert scroll <= inner, (width, "every column", scroll, inner)


def _values(row: dict, column: str) -> set[str]:
    return {v for v in row[column].split(", ") if v}


def _count_line(browser) -> str:
    return browser.find_element("css selector", "p.count").text


@in_browser
def test_the_export_of_the_rows_shown_is_those_rows_of_studies_csv(browser, server, served_csv, dist, tmp_path):
    from selenium.webdriver.support.ui import Select

    data = run("studies", {"scope": "all"}, dist=dist).as_dicts()
    total = len(data)
    cases = [("levels", v) for v in sorted(set().union(*(_values(r, "levels") for r in data)))]
    cases += [("bases", v) for v in sorted(set().union(*(_values(r, "bases") for r in data)))]
    assert {v for c, v in cases if c == "levels"} == {"policy", "network", "organisation"}
    assert {v for c, v in cases if c == "bases"} == {"table", "prose", "curator"}
    for n, (column, value) in enumerate(cases):
        _open(browser, server + "/studies.html")
        Select(browser.find_element("css selector", f"select[data-column={column}]")).select_by_value(value)
        shown = _shown(browser)
        assert set(shown) == {r["study"] for r in data if value in _values(r, column)}, (column, value)
        assert f"{len(shown)} of {total} studies shown" in _count_line(browser)
        header, *rows = csv.reader(io.StringIO(_export(browser, tmp_path / f"{n}")))
        assert header == served_csv["header"], (column, value)
        assert {tuple(r) for r in rows} == {served_csv["rows"][study] for study in shown}, (column, value)
        assert [r[0] for r in rows] == shown  # in the order shown

    # sorted by year, newest first, and searched: the same lines, in the new order
    _open(browser, server + "/studies.html")
    year = browser.find_element("css selector", "#studies thead button[data-key=year]")
    year.click()
    year.click()
    browser.find_element("id", "q").send_keys("network")
    shown = _shown(browser)
    assert 0 < len(shown) < total
    years = [served_csv["rows"][s][served_csv["header"].index("year")] for s in shown]
    assert [y for y in years if y] == sorted((y for y in years if y), reverse=True)
    text = _export(browser, tmp_path / "sorted")
    lines = served_csv["text"].splitlines(keepends=True)
    by_study = {next(csv.reader([line]))[0]: line for line in lines[1:]}
    assert text == lines[0] + "".join(by_study[s] for s in shown)


@in_browser
def test_the_studies_and_published_filters_say_what_they_select(browser, server, dist):
    from selenium.webdriver.support.ui import Select

    data = run("studies", {"scope": "all"}, dist=dist).as_dicts()
    everyone = {r["study"] for r in data}
    reviewed = {r["study"] for r in data if r["reviewed"]}
    year = {r["study"]: int(r["year"]) for r in data if r["year"]}
    _open(browser, server + "/studies.html")
    studies = Select(browser.find_element("css selector", "select[data-column=reviewed]"))
    published = Select(browser.find_element("id", "published"))
    labels = {o.get_attribute("value"): o.text for o in studies.options}
    assert "reviewed by Mitterlechner 2020" in labels["true"] and "added by the project's curators" in labels["false"]
    studies.select_by_value("true")
    assert set(_shown(browser)) == reviewed
    studies.select_by_value("false")
    added = set(_shown(browser))
    assert added == everyone - reviewed
    # the added studies are not all later than the review: some are works it cites, published before 2019
    published.select_by_value("before")
    assert set(_shown(browser)) == {s for s in added if s in year and year[s] < 2019} != set()
    published.select_by_value("since")
    assert set(_shown(browser)) == {s for s in added if s in year and year[s] >= 2019} != set()
    studies.select_by_value("")
    assert set(_shown(browser)) == {s for s in everyone if s in year and year[s] >= 2019}
    published.select_by_value("unknown")
    assert set(_shown(browser)) == everyone - set(year)
    published.select_by_value("")
    assert set(_shown(browser)) == everyone
    assert f"{len(everyone)} of {len(everyone)} studies shown" in _count_line(browser)


@in_browser
def test_a_level_and_a_kind_select_the_studies_with_that_pair(browser, server, dist):
    from selenium.webdriver.support.ui import Select

    data = run("studies", {"scope": "all"}, dist=dist).as_dicts()
    _open(browser, server + "/studies.html")
    level = Select(browser.find_element("css selector", "select[data-column=levels]"))
    kind = Select(browser.find_element("css selector", "select[data-column=kinds]"))
    pairs = set().union(*(_values(r, "cells") for r in data))
    for pair in sorted(pairs):
        level.select_by_value(pair.split("-")[0])
        kind.select_by_value(pair.split("-")[1])
        assert set(_shown(browser)) == {r["study"] for r in data if pair in _values(r, "cells")}, pair
    # a study with network codings and media codings, but no network-media one, is not a network-media study
    mixed = [r for r in data if {"network"} <= _values(r, "levels") and {"media"} <= _values(r, "kinds")
             and "network-media" not in _values(r, "cells")]
    level.select_by_value("network")
    kind.select_by_value("media")
    assert not set(_shown(browser)) & {r["study"] for r in mixed}
    # the pairs as a reader reads them
    row = browser.find_element("css selector", "#studies tbody tr:not([hidden])")
    assert "Network × media" in row.find_element("css selector", "td[data-column=cells]").text
