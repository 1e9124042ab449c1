"""The pages of studies, works and codings, read as a person reads them: the citation first, then the
codings with what each rests on, labels rather than RDF syntax or keys, and a layout that fits a phone."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
from browsers import AVAILABLE, MISSING, chromium

from licn.query.engines import run_text

BASE = "https://w3id.org/licn/"
PREFIXES = """PREFIX licn: <https://w3id.org/licn/ontology#> PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX fabio: <http://purl.org/spar/fabio/> PREFIX bibo: <http://purl.org/ontology/bibo/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """What the tests read of a page: its text (scripts, styles and code listings left out), its
    heading, its citation block, its links and the rows of its codings table."""

    def __init__(self, path: Path):
        super().__init__()
        self.url = BASE + path.as_posix().split("/site/", 1)[1]  # where the page stands under the base
        self.html = path.read_text(encoding="utf-8")
        self.open = []  # the open elements: (tag, attributes, the link record of an <a>)
        self.text, self.h1, self.citation, self.types = [], [], [], []
        self.links = []  # [absolute href, text, classes, inside the citation]
        self.rows = []  # codings table rows: the absolute hrefs of their links and their badges' classes
        self.feed(self.html)
        self.close()

    def inside(self, tag: str | None = None, cls: str | None = None, id: str | None = None) -> bool:
        return any((tag is None or t == tag) and (cls is None or cls in (a.get("class") or "").split())
                   and (id is None or a.get("id") == id) for t, a, _ in self.open)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        in_row = self.rows and self.inside("table", "codings") and self.inside("tr")
        if tag == "tr" and self.inside("table", "codings") and self.inside("tbody"):
            self.rows.append({"hrefs": [], "badges": []})
        link = None
        if tag == "a" and attrs.get("href"):
            link = [urljoin(self.url, attrs["href"]), "", classes, self.inside(id="citation")]
            self.links.append(link)
            if in_row:
                self.rows[-1]["hrefs"].append(link[0])
        if "badge" in classes and in_row:
            self.rows[-1]["badges"].append(set(classes) - {"badge"})
        if tag not in VOID_ELEMENTS:
            self.open.append((tag, attrs, link))

    def handle_endtag(self, tag):
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if self.inside("script") or self.inside("style"):
            return
        if not (self.inside("pre") or self.inside("code")):  # a SPARQL listing is code, not a value
            self.text.append(data)
        for part, where in ((self.h1, self.inside("h1")), (self.citation, self.inside(id="citation")),
                            (self.types, self.inside("p", "types"))):
            if where:
                part.append(data)
        for _, _, link in self.open:
            if link is not None:
                link[1] += data

    def words(self, part: list[str]) -> str:
        return re.sub(r"\s+", " ", "".join(part)).strip()


def page_of(site: Path, iri: str) -> Page:
    return Page(site / f"{iri[len(BASE):]}.html")


def iri_of(href: str) -> str:
    return href.removesuffix(".html")


def select(dist: Path, query: str) -> list[dict]:
    return run_text(PREFIXES + query, dist=dist).as_dicts()


@pytest.fixture(scope="module")
def site(dist) -> Path:
    return dist / "site"


@pytest.fixture(scope="module")
def studies(dist) -> dict[str, dict]:
    """Every study in the graph with what its citation shows, and its codings with their bases."""
    found = {r["s"]: r for r in select(dist, """
        SELECT ?s ?authors ?year ?title ?doi WHERE {
          ?s a licn:Study .
          OPTIONAL { ?s licn:authors ?authors } OPTIONAL { ?s fabio:hasPublicationYear ?y BIND(STR(?y) AS ?year) }
          OPTIONAL { ?s dcterms:title ?title } OPTIONAL { ?s bibo:doi ?doi } }""")}
    for r in found.values():
        r["codings"] = {}
    for r in select(dist, "SELECT ?c ?s ?basis WHERE { ?c a licn:Coding ; licn:evidenceFrom ?s ; licn:basis ?basis . ?s a licn:Study }"):
        found[r["s"]]["codings"][r["c"]] = r["basis"].rsplit("#", 1)[-1]
    return found


def test_every_study_page_is_a_study_of_the_graph(site, studies):
    pages = {BASE + p.relative_to(site).with_suffix("").as_posix() for p in (site / "id" / "study").glob("*.html")}
    assert len(pages) == 73 and pages <= set(studies)
    assert len(studies) > 100  # the studies found since the review have their pages under id/work/


def test_study_pages_cite_the_study_before_its_codings(site, studies):
    for iri, study in studies.items():
        page = page_of(site, iri)
        citation = page.words(page.citation)
        assert citation, iri
        start = page.html.index('id="citation"')  # under the title, before any section and the codings table
        assert page.html.index("<h1") < start < page.html.index("<h2"), iri
        assert start < page.html.find('<table class="codings') if study["codings"] else not page.rows, iri
        if study["year"]:
            assert f"({study['year']})" in citation, iri
        if study["title"]:
            assert study["title"] in citation, iri
        else:  # the page says so rather than guess
            assert "title not identified" in citation, iri
        if study["authors"]:
            assert ", ".join(a.strip() for a in study["authors"].split(";")) in citation, iri
        dois = [href for href, _, classes, cited in page.links if "doi" in classes and cited]
        assert dois == ([f"https://doi.org/{study['doi']}"] if study["doi"] else []), iri


def test_study_pages_list_every_coding_with_its_basis_badge(site, studies):
    badges = {"Table1Basis": "basis-table", "ProseBasis": "basis-prose", "CuratorBasis": "basis-curator"}
    shown_curator = 0
    for iri, study in studies.items():
        page = page_of(site, iri)
        rows = {iri_of(row["hrefs"][0]): row for row in page.rows}
        assert len(rows) == len(page.rows) and set(rows) == set(study["codings"]), iri
        for coding, row in rows.items():
            assert row["badges"] == [{badges[study["codings"][coding]]}], (iri, coding)
        curator = {c for c, row in rows.items() if {"basis-curator"} in row["badges"]}
        assert curator == {c for c, basis in study["codings"].items() if basis == "CuratorBasis"}, iri
        shown_curator += len(curator)
    assert shown_curator > 100


def test_curator_codings_say_who_coded_them_and_when(site, dist):
    found = select(dist, """
        SELECT ?c ?who ?on WHERE { ?c a licn:CuratorCoding ; licn:evidenceFrom ?s ;
          <http://www.w3.org/ns/prov#wasAttributedTo>/rdfs:label ?who ; <http://www.w3.org/ns/prov#generatedAtTime> ?d
          BIND(STR(?d) AS ?on) }""")
    assert len(found) > 100
    for r in found:
        page = Page(site / f"{r['c'][len(BASE):]}.html")
        text = page.words(page.text)
        assert f"{r['who']}, {r['on']}" in text, r["c"]


def test_reports_link_to_their_study_and_the_study_to_its_reports(site, dist):
    reports = select(dist, "SELECT ?report ?study WHERE { ?report licn:reportOf ?study }")
    assert reports
    for r in reports:
        report, study = page_of(site, r["report"]), page_of(site, r["study"])
        assert r["study"] + ".html" in {href for href, _, _, cited in report.links if cited}
        assert r["report"] + ".html" in {href for href, _, _, cited in study.links if cited}
        others = {x["report"] for x in reports if x["study"] == r["study"]} - {r["report"]}
        assert {o + ".html" for o in others} <= {href for href, _, _, cited in report.links if cited}


def test_coding_pages_cite_the_study_they_code(site, dist):
    codings = select(dist, "SELECT ?c ?s WHERE { ?c a licn:Coding ; licn:evidenceFrom ?s }")
    for r in codings:
        page = page_of(site, r["c"])
        assert r["s"] + ".html" in {href for href, _, _, cited in page.links if cited}, r["c"]
        assert [iri_of(row["hrefs"][0]) for row in page.rows] == [r["c"]]  # its own row, with its basis


def test_pages_show_no_literal_syntax_and_no_slugs(site, dist):
    keys = {r["s"].rsplit("/", 1)[-1] for r in select(dist, "SELECT ?s WHERE { ?s a <http://purl.org/spar/fabio/Work> }")}
    keys |= {r["n"] for r in select(dist, "SELECT ?n WHERE { ?c skos:notation ?x BIND(STR(?x) AS ?n) }") if "-" in r["n"]}
    slug = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(keys, key=len, reverse=True))) + r")(?![\w-])")
    coding_paths = {"coding", "pass-coding"}
    pages = sorted((site / "id").rglob("*.html"))
    assert len(pages) > 1000
    labels = 0
    for path in pages:
        page = Page(path)
        text = page.words(page.text)
        for syntax in ("xsd:", "^^", " @en"):
            assert syntax not in text, (path, syntax)
        types = page.words(page.types)
        assert not re.search(r"\b[a-z]+:[A-Za-z]", types), (path, types)  # fabio:JournalArticle reads "Journal article"
        seen = [text for href, text, _, _ in page.links if href.split("/")[-2] in coding_paths]
        if path.parent.name in coding_paths:
            seen.append(page.words(page.h1))
        for label in seen:
            assert not slug.search(label), (path, label)
        labels += len(seen)
    assert labels > 1000


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not AVAILABLE:
        pytest.skip(MISSING)
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["study", "work"])
def test_the_longest_study_page_fits_a_400_px_screen(browser, site, studies, kind):
    """On a phone a study page wraps its long addresses and stacks its tables: nothing scrolls sideways."""
    pages = [site / f"{iri[len(BASE):]}.html" for iri in studies if iri.startswith(f"{BASE}id/{kind}/")]
    longest = max(pages, key=lambda p: len(p.read_text(encoding="utf-8")))
    browser.set_window_size(400, 900)
    try:
        browser.get(longest.as_uri())
        assert browser.execute_script("return window.innerWidth") == 400
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), longest
    finally:
        browser.set_window_size(1280, 1600)
