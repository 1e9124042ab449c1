"""Headless Chromium against `licn serve` on loopback: what a person sees on the landing page, a study
page and a stored-query page. Screenshots are kept in tests/artifacts/ (git-ignored)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from browsers import AVAILABLE, MISSING, chromium

from licn import paths

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
if not AVAILABLE:
    pytest.skip(MISSING, allow_module_level=True)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


def wait_for_url(driver, ending: str) -> None:
    """Wait until a navigation started by a click has reached a URL ending in `ending`."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith(ending))
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    WebDriverWait(driver, 30).until(expected_conditions.presence_of_element_located(("tag name", "h1")))


def visible_text(driver) -> str:
    from selenium.webdriver.common.by import By
    return driver.find_element(By.TAG_NAME, "body").text


def test_landing_page(browser, server, dist):
    from selenium.webdriver.common.by import By

    browser.get(server + "/")
    assert "LICN-KG" in browser.title
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert heading == "LICN-KG: leadership in integrated care networks"
    text = visible_text(browser)
    assert "73 reviewed studies" in text
    assert "How to cite" in text and "CC BY 4.0" in text and "licn.ttl" in text
    if (dist / "figures" / "evidence-map.svg").exists():
        image = browser.find_element(By.CSS_SELECTOR, "#evidence-map img")
        assert image.is_displayed()
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 0
    browser.save_screenshot(str(ARTIFACTS / "landing.png"))

    # from the landing page to the list of studies, as a reader would
    browser.find_element(By.PARTIAL_LINK_TEXT, "reviewed studies").click()
    wait_for_url(browser, "/list/study.html")
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.list tbody tr")) == 73


def test_study_page(browser, server):
    from selenium.webdriver.common.by import By

    # the IRI itself: a browser gets 303 See Other to the HTML document
    browser.get(server + "/id/study/ref-58")
    assert browser.current_url == server + "/id/study/ref-58.html"
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Reframing the challenges to integrated care")
    provenance = browser.find_element(By.ID, "provenance")
    assert provenance.is_displayed()
    assert "Seen or inferred" in provenance.text and "inferred" in provenance.text
    assert "Curators' notes on Table 1" in provenance.text
    rows = browser.find_elements(By.CSS_SELECTOR, "#codings tbody tr")
    assert rows and all(row.is_displayed() for row in rows)
    assert "Continuous learning" in browser.find_element(By.ID, "codings").text
    browser.save_screenshot(str(ARTIFACTS / "study.png"))

    # follow the link to the reference entry and back
    browser.find_element(By.CSS_SELECTOR, "#statements a[href$='id/reference/58.html']").click()
    wait_for_url(browser, "/id/reference/58.html")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Reference 58 of Mitterlechner (2020)"
    browser.find_element(By.CSS_SELECTOR, "#statements a[href$='id/study/ref-58.html']").click()
    wait_for_url(browser, "/id/study/ref-58.html")


def test_stored_query_page(browser, server):
    from selenium.webdriver.common.by import By

    browser.get(server + "/queries/table1-matrix")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Table 1 as a matrix"
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "table.result thead th")]
    assert headers[:2] == ["level", "kind"]
    rows = browser.find_elements(By.CSS_SELECTOR, "table.result tbody tr")
    assert len(rows) == 9
    assert rows[0].find_elements(By.TAG_NAME, "td")[0].text == "policy"
    assert "SELECT ?level ?kind" in browser.find_element(By.CSS_SELECTOR, "pre.sparql").text
    browser.save_screenshot(str(ARTIFACTS / "query.png"))

    # a parameter through the page's form ends up in the query string
    browser.get(server + "/queries/study-codings")
    field = browser.find_element(By.NAME, "study")
    field.clear()
    field.send_keys("58")
    browser.find_element(By.CSS_SELECTOR, "form.params button").click()
    wait_for_url(browser, "/queries/study-codings?study=58&scope=review")
    cells = [row.find_elements(By.TAG_NAME, "td")[0].text for row in browser.find_elements(By.CSS_SELECTOR, "table.result tbody tr")]
    assert cells and set(cells) == {"58"}
    browser.save_screenshot(str(ARTIFACTS / "query-parameter.png"))


@pytest.mark.parametrize("where", ["server", "site"])
def test_studies_table_filters_sorts_and_exports(browser, server, dist, tmp_path, where):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _downloads(browser, tmp_path)
    browser.get(server + "/studies.html" if where == "server" else (dist / "site" / "studies.html").as_uri())
    assert browser.title == "Studies · LICN-KG"
    rows = lambda: [r for r in browser.find_elements(By.CSS_SELECTOR, "#studies tbody tr") if r.is_displayed()]
    everything = len(rows())
    assert everything > 100
    Select(browser.find_element(By.CSS_SELECTOR, "select[data-column=levels]")).select_by_visible_text("network")
    Select(browser.find_element(By.CSS_SELECTOR, "select[data-column=kinds]")).select_by_visible_text("practices")
    shown = rows()
    assert 0 < len(shown) < everything
    assert all("network" in r.get_attribute("data-levels").split(", ") and
               "practices" in r.get_attribute("data-kinds").split(", ") for r in shown)
    assert browser.find_element(By.ID, "shown").text == str(len(shown))
    browser.find_element(By.ID, "q").send_keys("trust")
    trusted = rows()
    assert trusted and all("trust" in r.get_attribute("textContent").lower() for r in trusted)
    browser.save_screenshot(str(ARTIFACTS / f"studies-filtered-{where}.png"))
    browser.find_element(By.ID, "export").click()
    exported = _wait_for_file(tmp_path, "studies-filtered*.csv").read_text(encoding="utf-8").splitlines()
    header = (dist / "site" / "studies.csv").read_text(encoding="utf-8").splitlines()[0]
    assert exported[0] == header and len(exported) == len(trusted) + 1
    assert all("practices" in line for line in exported[1:])
    # sorting by year, descending after two clicks
    browser.find_element(By.ID, "q").clear()
    Select(browser.find_element(By.CSS_SELECTOR, "select[data-column=levels]")).select_by_index(0)
    Select(browser.find_element(By.CSS_SELECTOR, "select[data-column=kinds]")).select_by_index(0)
    browser.execute_script("document.getElementById('q').dispatchEvent(new Event('input'))")
    year = browser.find_element(By.CSS_SELECTOR, "#studies thead button[data-key=year]")
    year.click()
    year.click()
    years = [r.get_attribute("data-year") for r in rows() if r.get_attribute("data-year")]
    assert years == sorted(years, reverse=True)
    # a person reaches a study from the table
    browser.find_element(By.CSS_SELECTOR, "#studies tbody tr:not([hidden]) a").click()
    WebDriverWaitH1(browser)


def WebDriverWaitH1(browser):
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 30).until(lambda d: d.find_element("tag name", "h1").text)


def test_evidence_map_switches_scope(browser, server):
    from selenium.webdriver.common.by import By

    browser.get(server + "/figures/evidence-map.html")
    switch = browser.find_element(By.ID, "scope-switch")
    assert "as published" in switch.text
    switch.find_element(By.LINK_TEXT, "as extended").click()
    wait_for_url(browser, "/figures/evidence-map-extended.html")
    assert "as extended" in browser.find_element(By.TAG_NAME, "h1").text
    browser.save_screenshot(str(ARTIFACTS / "evidence-map-extended.png"))


def _downloads(browser, folder):
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})


def _wait_for_file(folder, pattern: str):
    import time
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [p for p in folder.glob(pattern) if not p.name.endswith(".crdownload")]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no {pattern} downloaded into {folder}")


EDITOR = pytest.mark.skipif(not (paths.VENDOR / paths.VENDORED["yasgui/yasgui.min.js"]).is_file(),
                            reason="YASGUI is not installed (npm ci; `make test` does it)")


@EDITOR
def test_sparql_editor_runs_a_query_shows_linked_results_and_downloads_csv(browser, server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _downloads(browser, tmp_path)
    browser.get(server + "/sparql")  # a browser asking the endpoint itself gets the editor
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return !!window.licnYasgui"))
    editor = browser.find_element(By.CSS_SELECTOR, ".yasqe .CodeMirror")
    browser.execute_script("arguments[0].CodeMirror.setValue('')", editor)
    editor.click()
    browser.switch_to.active_element.send_keys(
        "PREFIX licn: <https://w3id.org/licn/ontology#> SELECT ?study WHERE { ?study a licn:ReviewedStudy } LIMIT 5")
    browser.find_element(By.CSS_SELECTOR, ".yasqe_queryButton").click()
    WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr")) == 5)
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, ".yasr table tbody a")]
    assert links and all(link.startswith(server + "/id/study/ref-") for link in links)  # the pages of this server
    browser.save_screenshot(str(ARTIFACTS / "sparql-editor.png"))
    browser.find_element(By.CSS_SELECTOR, ".yasr_downloadIcon").click()
    csv_file = _wait_for_file(tmp_path, "*.csv")
    assert csv_file.read_text(encoding="utf-8").splitlines()[0].strip().strip('"') == "study"
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(name.startswith(server) for name in loaded), loaded


def test_a_stored_query_downloads_as_csv_from_the_static_site(browser, dist, tmp_path):
    from selenium.webdriver.common.by import By

    _downloads(browser, tmp_path)
    browser.get((dist / "site" / "queries" / "table1-matrix.html").as_uri())
    link = browser.find_element(By.LINK_TEXT, "CSV")
    target = dist / "site" / "queries" / "table1-matrix.csv"
    assert link.get_attribute("href") == target.as_uri()
    assert target.read_text(encoding="utf-8").startswith("level,kind,")


@EDITOR
def test_a_stored_query_opens_in_the_editor_and_downloads_as_csv(browser, server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _downloads(browser, tmp_path)
    browser.get(server + "/queries/table1-matrix")
    browser.find_element(By.LINK_TEXT, "CSV").click()
    assert _wait_for_file(tmp_path, "table1-matrix*.csv").read_text(encoding="utf-8").startswith("level,kind,")
    browser.find_element(By.ID, "open-in-editor").click()
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return !!window.licnYasgui"))
    text = browser.execute_script("return window.licnYasgui.getTab().getQuery()")
    assert "SELECT ?level ?kind" in text


@pytest.mark.skipif(not (paths.VENDOR / paths.VENDORED["lunr/lunr.min.js"]).is_file(), reason="lunr.js is not installed (npm ci)")
@pytest.mark.parametrize("where", ["server", "site"])
def test_search_trust_and_reach_a_study(browser, server, dist, where):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    start = server + "/index.html" if where == "server" else (dist / "site" / "index.html").as_uri()
    browser.get(start)
    box = browser.find_element(By.CSS_SELECTOR, "header form.site-search input[name=q]")
    box.send_keys("trust", Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results li"))
    results = browser.find_elements(By.CSS_SELECTOR, "#search-results li")
    assert any("(study)" in r.text for r in results)
    browser.save_screenshot(str(ARTIFACTS / f"search-{where}.png"))
    study = next(r for r in results if "(study)" in r.text).find_element(By.TAG_NAME, "a")
    title = study.text
    study.click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.TAG_NAME, "h1").text)
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith(title[:30])
    if where == "site":
        assert all(e.startswith("file://") for e in browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"))


@pytest.mark.parametrize("where", ["server", "site"])
def test_evidence_map_filters_redraw_the_map_and_live_in_the_url(browser, server, dist, where):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    start = (server + "/figures/evidence-map.html" if where == "server"
             else (dist / "site" / "figures" / "evidence-map.html").as_uri())
    browser.get(start)
    browser.save_screenshot(str(ARTIFACTS / f"evidence-map-review-{where}.png"))
    browser.find_element(By.ID, "scope-switch").find_element(By.LINK_TEXT, "as extended").click()
    wait_for_url(browser, "evidence-map-extended.html")

    def cells():
        return {b.get_attribute("data-cell"): (int(b.get_attribute("data-review")), int(b.get_attribute("data-added")))
                for b in browser.find_elements(By.CSS_SELECTOR, "#map-grid button.cell")}

    def status():
        return browser.find_element(By.ID, "map-status").text

    everything = cells()
    assert len(everything) == 12 and sum(a for _, a in everything.values()) > 0
    assert "leave out" not in status()
    Select(browser.find_element(By.NAME, "country")).select_by_visible_text("Canada")
    canada = cells()
    assert 0 < sum(map(sum, canada.values())) < sum(map(sum, everything.values()))
    assert all(canada[k][0] <= everything[k][0] and canada[k][1] <= everything[k][1] for k in everything)
    shown, total = map(int, re.match(r"Showing (\d+) of (\d+) studies; the filters leave out (\d+)\.", status()).groups()[:2])
    assert 0 < shown < total
    left_out = browser.find_element(By.CSS_SELECTOR, '.left-out[data-for="country"]').text
    assert left_out == f"leaves out {total - shown} studies"
    # a cell with curators' codings: their badges say so
    key = next(k for k, (_, added) in canada.items() if added)
    browser.find_element(By.ID, f"cell-{key}").click()
    badges = {a.text for a in browser.find_elements(By.CSS_SELECTOR, "#details a.badge")}
    assert "curator" in badges
    assert browser.find_element(By.ID, "details").get_attribute("data-cell") == key
    browser.save_screenshot(str(ARTIFACTS / f"evidence-map-extended-filtered-{where}.png"))
    # the address holds the state: a new visit restores the filtered map with its open cell
    url = browser.current_url
    assert "country=Canada" in url and f"cell={key}" in url
    browser.get("about:blank")
    browser.get(url)
    assert cells() == canada
    assert browser.find_element(By.ID, "details").get_attribute("data-cell") == key
    assert Select(browser.find_element(By.NAME, "country")).first_selected_option.text == "Canada"


def test_year_filter_says_what_it_leaves_out_and_keeps_unknown_years_on_request(browser, server):
    from selenium.webdriver.common.by import By

    browser.get(server + "/figures/evidence-map.html#from=2010&to=2016")
    with_unknown = int(re.match(r"Showing (\d+)", browser.find_element(By.ID, "map-status").text).group(1))
    browser.find_element(By.NAME, "noyear").click()
    without = int(re.match(r"Showing (\d+)", browser.find_element(By.ID, "map-status").text).group(1))
    assert without < with_unknown
    note = browser.find_element(By.CSS_SELECTOR, '.left-out[data-for="noyear"]').text
    assert re.fullmatch(r"leaves out \d+ stud(y|ies)", note)
    assert "noyear=0" in browser.current_url


def test_evidence_map_on_a_phone_is_a_list(browser, server):
    from selenium.webdriver.common.by import By

    browser.set_window_size(400, 900)
    try:
        browser.get(server + "/figures/evidence-map-extended.html")
        assert not browser.find_element(By.ID, "map-grid").is_displayed()
        items = browser.find_elements(By.CSS_SELECTOR, "#cell-list button")
        assert len(items) == 12 and all(i.is_displayed() for i in items)
        key = items[4].get_attribute("data-cell")
        items[4].click()
        assert browser.find_element(By.ID, "details").get_attribute("data-cell") == key
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        browser.save_screenshot(str(ARTIFACTS / "evidence-map-phone.png"))
    finally:
        browser.set_window_size(1280, 1600)


PAGES = ["/", "/studies.html", "/search.html?q=trust", "/sparql.html", "/queries/cell-items", "/id/study/ref-58.html",
         "/figures/evidence-map.html", "/figures/index.html", "/codebook.html", "/dumps/index.html"]


def test_no_page_loads_anything_from_another_host(browser, server):
    import time
    for page in PAGES:
        browser.get(server + page)
        time.sleep(0.5)
        loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(name.startswith(server) for name in loaded), (page, loaded)
        assert browser.find_elements(*By_css("header.site nav")), page
        assert browser.title.endswith("LICN-KG") or "LICN-KG" in browser.title, page


def By_css(selector):
    from selenium.webdriver.common.by import By
    return By.CSS_SELECTOR, selector
