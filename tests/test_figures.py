"""Figures: drawn from stored queries over the built graph, with their data as CSV, as valid images
of the expected size, byte-identical on a second run, and an interactive map whose cells list their
studies when clicked (headless Chromium)."""
from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from licn import paths
from licn.publish.figures import DPI, SIZES, study_href, write_figures
from licn.query.engines import run
from licn.query.results import format_result

LICN_CLI = [sys.executable, "-m", "licn.cli"]
SVG_NS = "{http://www.w3.org/2000/svg}"

# each CSV beside a figure and the stored query it must equal
CSV_QUERIES = {
    "evidence-map.csv": "evidence-gaps",
    "evidence-map-totals.csv": "figure-table1-totals",
    "publication-years.csv": "publication-years",
    "publication-years-since-2009.csv": "since-2009",
    "theories.csv": "studies-per-theory",
    "mechanism-network.csv": "mechanism-network",
}


@pytest.fixture(scope="module")
def figures(dist) -> Path:
    return dist / "figures"


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def query_rows(name, dist, **params) -> list[dict]:
    return run(name, params, dist=dist).as_dicts()


def one(rows, **match):
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


# ------------------------------------------------------------------------------- files and data

def test_build_writes_every_figure_with_its_data(figures):
    manifest = json.loads((figures / "figures.json").read_text(encoding="utf-8"))
    assert [f["name"] for f in manifest] == ["evidence-map", "publication-years", "theories", "mechanism-network",
                                            "prisma-flow", "evidence-map-extended"]
    for name in ("evidence-map.svg", "evidence-map.png", "evidence-map.html", "evidence-map.csv",
                 "publication-years.svg", "publication-years.png", "publication-years.csv",
                 "theories.svg", "theories.png", "theories.csv",
                 "mechanism-network.html", "mechanism-network.csv", "index.html"):
        assert (figures / name).stat().st_size > 100, name
    for fig in manifest:
        for name in fig["files"]:
            assert (figures / name).is_file(), name
        assert any(name.endswith(".csv") for name in fig["files"]), fig["name"]
        assert fig["title"] and len(fig["caption"]) > 150, fig["name"]


@pytest.mark.parametrize("filename", sorted(CSV_QUERIES))
def test_csv_is_the_stored_query_result(figures, dist, filename):
    expected = format_result(run(CSV_QUERIES[filename], dist=dist), "csv")
    assert (figures / filename).read_text(encoding="utf-8") == expected


def test_evidence_map_numbers_equal_table1_matrix(figures, dist):
    cells = read_csv(figures / "evidence-map.csv")
    matrix = query_rows("table1-matrix", dist)
    assert len(cells) == 12  # 3 levels x 4 kinds: outcomes included
    for m in matrix:
        c = one(cells, level=m["level"], kind=m["kind"])
        assert (int(c["occurrences"]), int(c["studies"]), c["source"]) == (m["occurrences"], m["studies"], m["source"])
    for c in cells:
        if c["kind"] == "outcomes":
            assert c["table1_cell"] == "none"
            assert int(c["studies"]) == 0 and int(c["occurrences"]) == 0
        else:
            assert c["table1_cell"] in ("seen", "unseen")
    assert one(cells, level="network", kind="outcomes")["claims"] == "1"
    assert {(c["level"], c["kind"]) for c in cells if c["table1_cell"] == "unseen"} == {
        ("policy", "media"), ("network", "media")}


def test_evidence_map_totals_equal_reported_vs_derived(figures, dist):
    totals = read_csv(figures / "evidence-map-totals.csv")
    reported = {r["figure"]: r for r in query_rows("reported-vs-derived", dist)}
    assert len(totals) == 6
    for t in totals:
        r = reported[t["figure"]]
        assert (int(t["reported"]), int(t["seen_occurrences"])) == (r["reported"], r["derived"])
        assert (int(t["unseen_cells"]) > 0) == (r["status"] == "partial")
    network = one(totals, axis="level", key="network")
    assert (network["reported"], network["seen_occurrences"], network["unseen_cells"]) == ("50", "25", "1")


def test_evidence_map_items_are_the_cell_items_of_every_cell(figures, dist):
    items = read_csv(figures / "evidence-map-items.csv")
    cells = read_csv(figures / "evidence-map.csv")
    for c in cells:
        result = run("cell-items", {"level": c["level"], "kind": c["kind"]}, dist=dist)
        expected = list(csv.DictReader(io.StringIO(format_result(result, "csv"))))
        got = [{k: v for k, v in r.items() if k not in ("level", "kind")} for r in items
               if (r["level"], r["kind"]) == (c["level"], c["kind"])]
        assert got == expected, (c["level"], c["kind"])


def test_publication_years_and_theories_csv_numbers(figures, dist):
    years = read_csv(figures / "publication-years.csv")
    since = read_csv(figures / "publication-years-since-2009.csv")[0]
    assert sum(int(y["studies"]) for y in years) == int(since["with_year"])
    assert sum(int(y["studies"]) for y in years if int(y["year"]) >= 2009) == int(since["since_2009"])
    assert (since["reported"], since["reported_of"]) == ("57", "73")
    theories = {t["theory"]: t["reported_studies"] for t in read_csv(figures / "theories.csv")}
    assert theories["Network theory"] == "15" and theories["Leadership theory"] == "4"
    assert theories["Distributed leadership theory"] == ""  # named without a count


def test_figure_queries_give_the_same_rows_on_both_engines(dist):
    for name in ("evidence-gaps", "figure-table1-totals"):
        a = run(name, dist=dist, engine="oxigraph")
        b = run(name, dist=dist, engine="rdflib")
        assert a.columns == b.columns and a.rows == b.rows, name


def test_figures_need_only_the_built_graph_and_the_queries(dist, tmp_path):
    """No data/ folder at all: the figures come from dist/licn.nq through the stored queries."""
    home = tmp_path / "home"
    shutil.copytree(paths.QUERIES, home / "queries")
    out = tmp_path / "figures"
    env = dict(os.environ, LICN_HOME=str(home))
    done = subprocess.run(LICN_CLI + ["figures", "--dist", str(dist), "--out", str(out)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert not (home / "data").exists()
    for name in CSV_QUERIES:
        assert (out / name).read_bytes() == (dist / "figures" / name).read_bytes(), name


def test_figures_without_a_build_say_so(tmp_path):
    done = subprocess.run(LICN_CLI + ["figures", "--dist", str(tmp_path / "nothing")], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "licn build" in done.stderr and "Traceback" not in done.stderr


# ------------------------------------------------------------------------------------- images

@pytest.mark.parametrize("name", sorted(SIZES))
def test_png_is_a_valid_image_of_the_expected_size(figures, name):
    path = figures / f"{name}.png"
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        assert img.format == "PNG"
        w, h = SIZES[name]
        assert img.size == (round(w * DPI), round(h * DPI))
        img.load()
        assert len(img.getcolors(maxcolors=1 << 20) or range(999)) > 50  # not a blank canvas


@pytest.mark.parametrize("name", sorted(SIZES))
def test_svg_is_a_valid_image_of_the_expected_size(figures, name):
    root = ET.parse(figures / f"{name}.svg").getroot()
    assert root.tag == f"{SVG_NS}svg"
    w, h = SIZES[name]
    assert float(root.get("width").removesuffix("pt")) == pytest.approx(w * 72)
    assert float(root.get("height").removesuffix("pt")) == pytest.approx(h * 72)
    assert root.get("viewBox") == f"0 0 {w * 72:g} {h * 72:g}"


def svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()
    return " ".join(t.strip() for t in root.itertext() if t.strip())


def test_svg_shows_the_query_numbers_title_axes_and_caption(figures, dist):
    text = svg_text(figures / "evidence-map.svg")
    assert "Evidence gap map" in text
    assert "Level of analysis" in text and "Kind of leadership mechanism" in text
    for c in query_rows("evidence-gaps", dist):
        if c["studies"]:
            s, o = c["studies"], c["occurrences"]
            assert f"{s} {'study' if s == 1 else 'studies'} · {o} {'citation' if o == 1 else 'citations'}" in text
    assert text.count("gap") >= 3 and "no Table 1 column" in text
    assert "Table 1 header: 50" in text  # network row header as reported
    assert "were not seen" in text and "identified by title" in text
    root = ET.parse(figures / "evidence-map.svg").getroot()
    ids = {el.get("id") for el in root.iter() if el.get("id", "").startswith("cell-")}
    assert len(ids) == 12 and "cell-network-outcomes" in ids

    years = svg_text(figures / "publication-years.svg")
    assert "Publication year" in years and "Reviewed studies" in years
    assert "57 2009 or later" in years and "year unknown" in years and "2009 split" in years
    theories = svg_text(figures / "theories.svg")
    assert "Theoretical lens" in theories and "no count reported" in theories and "15" in theories


def test_figures_are_byte_identical_on_a_second_run(dist, tmp_path):
    write_figures(dist, tmp_path / "again")
    first = {p.name: p.read_bytes() for p in (dist / "figures").iterdir()}
    second = {p.name: p.read_bytes() for p in (tmp_path / "again").iterdir()}
    assert first.keys() == second.keys()
    assert [n for n in first if first[n] != second[n]] == []


def test_images_carry_no_dates_or_versions(figures):
    svg = (figures / "evidence-map.svg").read_text(encoding="utf-8")
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    with Image.open(figures / "evidence-map.png") as img:
        assert "Software" not in img.info
        assert img.info.get("Title", "").startswith("Evidence gap map")


# --------------------------------------------------------------------------------------- html

class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []  # (tag, attribute, value)

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src") and value is not None:
                self.refs.append((tag, key, value))


@pytest.mark.parametrize("name", ["evidence-map.html", "mechanism-network.html", "index.html"])
def test_html_works_offline(figures, name):
    html = (figures / name).read_text(encoding="utf-8")
    parser = Links()
    parser.feed(html)
    assert not [r for r in parser.refs if r[0] in ("script", "link", "img", "iframe") and "//" in r[2]]
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "@import" not in html and "url(http" not in html


def map_data(figures: Path, name: str = "evidence-map") -> dict:
    html = (figures / f"{name}.html").read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html, re.DOTALL)
    return json.loads(match.group(1))


def counted_studies(dist, level, kind, scope="review") -> set[str]:
    return {r["study"] for r in query_rows("cell-items", dist, level=level, kind=kind, scope=scope)
            if r["study"] and r["counted"]}


@pytest.mark.parametrize("name, scope", [("evidence-map", "review"), ("evidence-map-extended", "all")])
def test_interactive_map_holds_every_counted_coding_of_every_cell(figures, dist, name, scope):
    data = map_data(figures, name)
    gaps = {f"{c['level']}-{c['kind']}": c for c in query_rows("evidence-gaps", dist, scope=scope)}
    assert set(data["cells"]) == set(gaps) and len(gaps) == 12
    for key, cell in gaps.items():
        level, kind = key.split("-", 1)
        listed = {c["study"] for c in data["codings"] if c["cell"] == key}
        assert listed == counted_studies(dist, level, kind, scope), key
        assert len(listed) == cell["studies"], key
        assert data["cells"][key]["state"] == cell["table1_cell"], key
    assert {c["basis"] for c in data["codings"]} == ({"table", "prose"} if scope == "review" else {"table", "prose", "curator"})
    for study in data["studies"].values():
        assert study["href"].startswith("../id/") and study["href"].endswith(".html")
        assert study["name"] and "None" not in study["name"]


def test_both_scopes_share_the_codebooks_axis_order(figures, dist):
    levels = [r["level"] for r in query_rows("studies-per-level", dist)]
    kinds = [r["kind"] for r in query_rows("studies-per-kind", dist)]
    assert levels == ["policy", "network", "organisation"] and kinds == ["media", "practices", "activities", "outcomes"]
    for name in ("evidence-map", "evidence-map-extended"):
        data = map_data(figures, name)
        assert (data["levels"], data["kinds"]) == (levels, kinds), name


def test_extended_map_header_counts_equal_the_graphs(figures, dist):
    from licn.query.engines import oxigraph_store, run_oxigraph
    store = oxigraph_store(dist)
    prefix = "PREFIX licn: <https://w3id.org/licn/ontology#> "
    # a study is on the map when it has a counted coding: Table 1, prose in a cell without Table 1 codings, curator
    counted = (prefix + "SELECT DISTINCT ?s WHERE { ?c licn:basis ?b ; licn:level ?l ; licn:kind ?k ; licn:evidenceFrom ?s . "
               "?s a licn:Study . FILTER(?b = licn:Table1Basis || ?b = licn:CuratorBasis || (?b = licn:ProseBasis && "
               "NOT EXISTS { ?t licn:basis licn:Table1Basis ; licn:level ?l ; licn:kind ?k })) }")
    review_only = counted.replace("?b = licn:CuratorBasis ||", "")
    on_map = {r["s"] for r in run_oxigraph(store, counted).as_dicts()}
    through_review = {r["s"] for r in run_oxigraph(store, review_only).as_dicts()}
    html = (figures / "evidence-map-extended.html").read_text(encoding="utf-8")
    header = re.search(r'<p id="map-counts" data-review="(\d+)" data-added="(\d+)">\s*(.*?)</p>', html, re.DOTALL)
    assert (int(header.group(1)), int(header.group(2))) == (len(through_review), len(on_map - through_review))
    assert header.group(3).startswith(f"{len(on_map)} studies on this map: {len(through_review)} through")
    caption = json.loads((figures / "figures.json").read_text(encoding="utf-8"))[-1]["caption"]
    assert f"{len(on_map)} studies in all" in caption


def test_study_links_resolve_on_the_server_and_in_the_static_site(dist):
    from urllib.parse import urljoin
    href = study_href("https://w3id.org/licn/id/study/ref-95")
    assert href == "../id/study/ref-95.html"
    assert urljoin("http://127.0.0.1:8000/figures/evidence-map.html", href) == "http://127.0.0.1:8000/id/study/ref-95.html"
    site = dist / "site"
    if (site / "figures" / "evidence-map.html").exists():  # the static site copies the figures
        assert (site / "figures" / href).resolve().is_file()


def test_every_link_of_the_map_opens_a_page_on_the_server(figures, server):
    from urllib.parse import urljoin

    import httpx
    page = f"{server}/figures/evidence-map-extended.html"
    data = map_data(figures, "evidence-map-extended")
    hrefs = sorted({s["href"] for s in data["studies"].values()} | {c["href"] for c in data["codings"]})
    assert len(hrefs) > 300
    with httpx.Client(trust_env=False, timeout=30) as client:
        assert client.get(page).status_code == 200
        for href in hrefs:
            response = client.get(urljoin(page, href), headers={"Accept": "text/html"})
            assert response.status_code == 200, href
            assert "text/html" in response.headers["content-type"]


def test_network_view_has_every_coding_as_a_line(figures, dist):
    html = (figures / "mechanism-network.html").read_text(encoding="utf-8")
    rows = query_rows("mechanism-network", dist)
    edges = re.findall(r'<path class="edge[^"]*" data-a="([^"]+)" data-b="([^"]+)"', html)
    study_edges = {(unescape(a), unescape(b)) for a, b in edges if b.startswith("study:")}
    assert study_edges == {(f"mechanism:{r['mechanism']}", f"study:{r['reference']}") for r in rows}
    nodes = re.findall(r'<g class="node (\w+)" data-id="([^"]+)"', html)
    assert len([n for n in nodes if n[0] == "study"]) == len({r["reference"] for r in rows})
    assert len([n for n in nodes if n[0] == "level"]) == 3
    assert 'href="../id/study/ref-95.html"' in html.replace("data-href", "href")


# ------------------------------------------------------------------------------------ browser

def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = chromium_binary()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test installs it as root; "
                                                             "or: apt-get install chromium)")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
                  "--disable-default-apps", "--mute-audio", "--window-size=1400,1000"]


class CellPanel(HTMLParser):
    """The study links inside the details panel of a dumped DOM."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.cell = None
        self.links = []
        self.selected = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "button" and a.get("aria-pressed") == "true" and a.get("id", "").startswith("cell-"):
            self.selected.append(a.get("id"))
        if self.depth:
            self.depth += 1
            if tag == "a" and "study" in (a.get("class") or ""):
                self.links.append(a.get("href"))
        elif tag == "section" and a.get("id") == "details":
            self.depth = 1
            self.cell = a.get("data-cell")

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1


@pytest.mark.browser
@needs_chromium
@pytest.mark.parametrize("key", ["network-activities", "policy-media", "network-outcomes"])
def test_click_named_in_the_url_lists_the_cells_studies(figures, dist, tmp_path, key):
    url = (figures / "evidence-map.html").as_uri() + f"#click={key}"
    done = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           "--virtual-time-budget=3000", "--dump-dom", url],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    panel = CellPanel()
    panel.feed(done.stdout)
    level, kind = key.split("-", 1)
    assert panel.cell == key
    assert panel.selected == [f"cell-{key}"]
    assert set(panel.links) == {study_href(s) for s in counted_studies(dist, level, kind)}
    if key == "network-outcomes":
        assert panel.links == [] and "No study in this cell matches the filters." in done.stdout


class DevTools:
    """Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe): real input events,
    no driver, no network port."""

    def __init__(self, profile: Path):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_fds():  # in the child: the browser reads commands on fd 3 and writes replies on fd 4
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                      "--remote-debugging-pipe", "about:blank"],
                                     pass_fds=(3, 4), preexec_fn=wire_fds,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._id = 0
        self.events = []
        self.session = None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime"):
            self.call(f"{domain}.enable")

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise ConnectionError("Chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, timeout: float = 30, **params) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            event = self._read(max(0.1, deadline - time.monotonic()))
            if event.get("method") == method:
                return event
            self.events.append(event)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def click(self, selector: str) -> None:
        """A real left click (mouse pressed and released) at the centre of the element."""
        box = self.evaluate(f"""(() => {{ const el = document.querySelector({json.dumps(selector)});
            el.scrollIntoView({{block: "center"}}); const r = el.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2]; }})()""")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def close(self) -> None:
        try:
            self.session = None
            self.call("Browser.close", timeout=5)
        except (OSError, RuntimeError, TimeoutError, ConnectionError):
            pass  # the browser may already be gone; it is killed below if not
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture
def browser(tmp_path):
    tools = DevTools(tmp_path / "profile")
    yield tools
    tools.close()


@pytest.mark.browser
@needs_chromium
def test_a_mouse_click_on_a_cell_lists_its_mechanisms_and_studies(figures, dist, browser):
    browser.navigate((figures / "evidence-map.html").as_uri())
    assert browser.evaluate("document.querySelectorAll('#details a.study').length") == 0
    for key in ("organisation-media", "network-practices"):
        browser.click(f"#cell-{key}")
        level, kind = key.split("-", 1)
        items = [r for r in query_rows("cell-items", dist, level=level, kind=kind) if r["counted"] and r["study"]]
        shown = browser.evaluate("""({cell: document.getElementById('details').dataset.cell,
            heading: document.querySelector('#details h2').textContent,
            mechanisms: [...document.querySelectorAll('#details h3.mechanism')].map(h => h.textContent),
            links: [...document.querySelectorAll('#details a.study')].map(a => a.getAttribute('href')),
            badges: [...document.querySelectorAll('#details a.badge')].map(a => a.textContent),
            selected: [...document.querySelectorAll('#map-grid button[aria-pressed=true]')].map(b => b.id)})""")
        assert shown["cell"] == key
        assert shown["selected"] == [f"cell-{key}"]
        assert {m.lower() for m in shown["mechanisms"]} == {r["mechanism"].lower() for r in items}
        assert set(shown["links"]) == {study_href(r["study"]) for r in items}
        assert set(shown["badges"]) <= {"Table 1", "prose"} and shown["badges"]
        assert shown["heading"].lower().startswith(level)
    # the list view (for narrow screens) selects a cell as well
    browser.evaluate("document.querySelector('#cell-list button[data-cell=\"policy-activities\"]').click()")
    assert browser.evaluate("document.getElementById('details').dataset.cell") == "policy-activities"
    assert not [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]


@pytest.mark.browser
@needs_chromium
def test_a_click_on_a_study_in_the_network_lists_its_mechanisms(figures, dist, browser):
    browser.navigate((figures / "mechanism-network.html").as_uri())
    browser.click('g.node[data-id="study:95"] circle')
    mechanisms = {r["mechanism"] for r in query_rows("mechanism-network", dist) if r["reference"] == 95}
    shown = browser.evaluate("""({items: [...document.querySelectorAll('#info li')].map(li => li.textContent),
        link: (document.querySelector('#info a') || {}).textContent,
        on: document.querySelectorAll('#network .edge.on').length})""")
    assert {item.split(" (")[0] for item in shown["items"]} == mechanisms
    assert shown["on"] == len(mechanisms)
    assert shown["link"] == "Open the study page"
    assert not [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]


@pytest.mark.browser
@needs_chromium
def test_from_a_served_map_a_click_leads_to_the_study_page(server, browser):
    browser.navigate(f"{server}/figures/evidence-map.html")
    browser.click("#cell-network-activities")
    href = browser.evaluate("document.querySelector('#details a.study').getAttribute('href')")
    browser.events.clear()
    browser.click("#details a.study")
    browser.wait_for("Page.loadEventFired")
    assert browser.evaluate("location.pathname") == href.removeprefix("..")
    assert browser.evaluate("document.contentType") == "text/html"
