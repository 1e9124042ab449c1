"""The SPARQL editor in headless Chromium: results that link to this server's (or this copy's) pages and
show values as people read them, an endpoint's refusal as one line, the stored queries as examples,
and the static copy opened from disk, which has no endpoint of its own."""
from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from browsers import AVAILABLE, MISSING, chromium

from licn import paths
from licn.query.catalogue import bind, load_catalogue

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
if not AVAILABLE:
    pytest.skip(MISSING, allow_module_level=True)
if not (paths.VENDOR / paths.VENDORED["yasgui/yasgui.min.js"]).is_file():
    pytest.skip("YASGUI is not installed (npm ci; `make test` does it)", allow_module_level=True)

BASE = "https://w3id.org/licn/"
STUDIES_AND_COUNTS = """PREFIX licn: <https://w3id.org/licn/ontology#>
SELECT ?study (COUNT(?coding) AS ?codings) WHERE { ?study a licn:ReviewedStudy . ?coding licn:evidenceFrom ?study }
GROUP BY ?study ORDER BY DESC(?codings) ?study LIMIT 5"""
PASSES = """PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?pass ?started ?label WHERE { ?pass prov:startedAtTime ?started ; rdfs:label ?label } ORDER BY ?pass"""
UNDECLARED = "SELECT ?s WHERE { ?s rdfs:label ?l } LIMIT 2"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"), log_requests=True)  # every request it makes
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


def open_editor(browser, address: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(address)
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return !!window.licnYasgui"))


def run(browser, query: str, rows: int | None = None) -> None:
    """Put query in the editor and press its run button, as a person would; wait for the answer."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.execute_script("window.licnYasgui.getTab().setQuery(arguments[0])", query)
    browser.find_element(By.CSS_SELECTOR, ".yasqe_queryButton").click()
    if rows is None:
        WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".yasr .errorResult"))
    else:
        WebDriverWait(browser, 30).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr")) == rows)


def column(browser, index: int) -> list:
    """The cells of a result column (0 is the row number)."""
    from selenium.webdriver.common.by import By
    rows = browser.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr")
    return [row.find_elements(By.TAG_NAME, "td")[index] for row in rows]


def endpoint_answer(server: str, query: str) -> list[dict]:
    request = urllib.request.Request(server + "/sparql?" + urllib.parse.urlencode({"query": query}),
                                     headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["results"]["bindings"]


def resources(browser) -> list[str]:
    return browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")


def requests_made(browser) -> list[str]:
    """The addresses of the requests pages have sent since this was last asked (from Chromium's DevTools
    network events, which also see the file:// loads a page's own resource timing leaves out); the
    browser's own chrome:// pages (its new tab) are not pages of ours."""
    events = (json.loads(entry["message"])["message"] for entry in browser.get_log("performance"))
    return [event["params"]["request"]["url"] for event in events if event["method"] == "Network.requestWillBeSent"
            and not event["params"].get("documentURL", "").startswith("chrome:")]


def test_result_iris_link_to_this_servers_pages_with_prefixes_and_counts_as_numbers(browser, server):
    from selenium.webdriver.common.by import By

    open_editor(browser, server + "/sparql")
    run(browser, STUDIES_AND_COUNTS, rows=5)
    expected = endpoint_answer(server, STUDIES_AND_COUNTS)
    links = [cell.find_element(By.TAG_NAME, "a") for cell in column(browser, 1)]
    for link, row in zip(links, expected):
        iri = row["study"]["value"]
        assert iri.startswith(BASE + "id/study/ref-")
        assert link.get_attribute("href") == server + "/" + iri[len(BASE):] + ".html"
        assert link.text == "id:" + iri[len(BASE + "id/"):]  # a prefix form, whole, not the IRI
        assert link.get_attribute("title") == iri
        request = urllib.request.Request(link.get_attribute("href"), headers={"Accept": "text/html"})
        with urllib.request.urlopen(request, timeout=30) as page:
            assert page.status == 200 and page.headers.get_content_type() == "text/html"
    counts = [cell.text for cell in column(browser, 2)]
    assert counts == [row["codings"]["value"] for row in expected]
    assert all(count.isdigit() for count in counts)
    table = browser.find_element(By.CSS_SELECTOR, ".yasr table").text
    assert "^^" not in table and '"' not in table and "<" not in table
    browser.save_screenshot(str(ARTIFACTS / "editor-results.png"))

    # a person follows a result to the study's page on this server
    links[0].click()
    browser.switch_to.window(browser.window_handles[-1])
    try:
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
        assert browser.current_url == server + "/" + expected[0]["study"]["value"][len(BASE):] + ".html"
        assert browser.find_element(By.CSS_SELECTOR, "#statements")
    finally:
        browser.close()
        browser.switch_to.window(browser.window_handles[0])
    assert all(name.startswith(server) for name in resources(browser))


def test_dates_and_language_tags_show_as_values(browser, server):
    from selenium.webdriver.common.by import By

    open_editor(browser, server + "/sparql")
    expected = endpoint_answer(server, PASSES)
    assert expected and all(row["started"]["datatype"].endswith("#date") for row in expected)
    run(browser, PASSES, rows=len(expected))
    for cell, row in zip(column(browser, 2), expected):
        assert cell.text == row["started"]["value"]  # 2026-12-01, not "2026-12-01"^^xsd:date
        assert cell.find_element(By.TAG_NAME, "time").get_attribute("datetime") == row["started"]["value"]
    for cell, row in zip(column(browser, 3), expected):
        hint = cell.find_element(By.CSS_SELECTOR, ".note")
        assert hint.text == row["label"]["xml:lang"] == "en"
        assert cell.text == row["label"]["value"] + " en"
        value = cell.find_element(By.CSS_SELECTOR, ".literal")
        assert hint.value_of_css_property("color") != value.value_of_css_property("color")  # muted
    passes = [cell.find_element(By.TAG_NAME, "a") for cell in column(browser, 1)]
    assert [a.text for a in passes] == ["id:" + row["pass"]["value"][len(BASE + "id/"):] for row in expected]
    assert all(a.get_attribute("href").startswith(server + "/id/coding-pass/") for a in passes)


def test_an_undeclared_prefix_shows_the_servers_one_line(browser, server):
    from selenium.webdriver.common.by import By

    open_editor(browser, server + "/sparql")
    run(browser, UNDECLARED)
    results = browser.find_element(By.CSS_SELECTOR, ".yasr_results")
    message = results.find_element(By.CSS_SELECTOR, ".query-error").text
    assert "the prefix 'rdfs:' is not declared" in message
    assert results.text.strip() == message and "\n" not in message
    assert not results.find_elements(By.TAG_NAME, "pre")
    browser.save_screenshot(str(ARTIFACTS / "editor-error.png"))


@pytest.mark.parametrize("where", ["server", "site"])
def test_choosing_an_example_puts_the_stored_query_in_the_editor(browser, server, dist, where):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    catalogue = load_catalogue()
    open_editor(browser, server + "/sparql" if where == "server" else (dist / "site" / "sparql.html").as_uri())
    examples = Select(browser.find_element(By.ID, "examples"))
    offered = {o.get_attribute("value"): o.text for o in examples.options if o.get_attribute("value")}
    assert offered == {name: query.title for name, query in catalogue.items()}
    examples.select_by_visible_text(catalogue["study-codings"].title)
    text = browser.execute_script("return window.licnYasgui.getTab().getQuery()")
    assert text == bind(catalogue["study-codings"])  # with the default values, as the query's own page runs it
    assert "$study" not in text and '"95"' in text
    assert browser.find_element(By.ID, "example-description").text == catalogue["study-codings"].description
    if where == "server":  # and it runs
        expected = endpoint_answer(server, text)
        run(browser, text, rows=len(expected))
        assert {cell.text for cell in column(browser, 1)} == {"95"}


def test_the_copy_on_disk_offers_a_choice_of_endpoint_and_contacts_nobody(browser, dist):
    from selenium.webdriver.common.by import By

    requests_made(browser)
    open_editor(browser, (dist / "site" / "sparql.html").as_uri())
    choice = browser.find_element(By.ID, "endpoint-choice")
    assert choice.is_displayed()
    assert "no SPARQL endpoint of its own" in choice.text and "licn serve" in choice.text
    assert browser.find_element(By.ID, "endpoint-url").get_attribute("value") == ""
    assert browser.execute_script("return window.licnYasgui.getTab().getEndpoint()") == ""
    # running without an endpoint sends nothing and shows no error
    browser.find_element(By.CSS_SELECTOR, ".yasqe_queryButton").click()
    browser.execute_script("window.licnYasgui.getTab().query().catch(function () {})")
    time.sleep(1)
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "Unable to get response" not in text and not browser.find_elements(By.CSS_SELECTOR, ".errorResult")
    loaded = requests_made(browser)
    assert any(name.endswith("/vendor/yasgui/yasgui.min.js") for name in loaded), loaded
    assert all(name.startswith(("file://", "data:")) for name in loaded), loaded
    browser.save_screenshot(str(ARTIFACTS / "editor-from-disk.png"))


@pytest.mark.parametrize("how", ["form", "address"])
def test_the_copy_on_disk_queries_a_chosen_endpoint_and_links_to_its_own_files(browser, server, dist, how):
    from selenium.webdriver.common.by import By

    page = (dist / "site" / "sparql.html").as_uri()
    requests_made(browser)
    if how == "form":
        open_editor(browser, page)
        field = browser.find_element(By.ID, "endpoint-url")
        field.send_keys(server + "/sparql")
        browser.find_element(By.CSS_SELECTOR, "#endpoint-choice button").click()
    else:
        open_editor(browser, page + "?" + urllib.parse.urlencode({"endpoint": server + "/sparql"}))
        assert browser.find_element(By.ID, "endpoint-url").get_attribute("value") == server + "/sparql"
    assert server + "/sparql" in browser.find_element(By.ID, "endpoint-status").text
    own_field = browser.find_element(By.CSS_SELECTOR, ".controlbar input.autocomplete")  # YASGUI's, in step
    assert own_field.get_attribute("value") == server + "/sparql"
    assert server + "/sparql" not in requests_made(browser)  # choosing an endpoint sends nothing yet
    run(browser, STUDIES_AND_COUNTS, rows=5)
    assert server + "/sparql" in requests_made(browser)
    expected = endpoint_answer(server, STUDIES_AND_COUNTS)
    for cell, row in zip(column(browser, 1), expected):
        href = cell.find_element(By.TAG_NAME, "a").get_attribute("href")
        target = dist / "site" / (row["study"]["value"][len(BASE):] + ".html")
        assert href == target.as_uri() and target.is_file()
    assert [cell.text for cell in column(browser, 2)] == [row["codings"]["value"] for row in expected]
