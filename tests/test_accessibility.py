"""Accessibility and small screens, in headless Chromium against `licn serve` on loopback: axe-core (from npm,
read from node_modules and run inside the page, so nothing is fetched) finds no serious or critical violation on
any kind of page, and at 400 px no text page scrolls sideways."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from licn.serve.app import create_app, serving

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
try:
    import selenium  # noqa: F401
except ImportError:
    selenium = None

if not (CHROMIUM and CHROMEDRIVER and selenium and AXE.is_file()):
    pytest.skip("needs Debian's chromium and chromium-driver, selenium and axe-core (`make test` installs them)",
                allow_module_level=True)

ARTIFACTS = Path(__file__).parent / "artifacts"


def first_page(dist: Path, folder: str, prefix: str = "") -> str:
    pages = sorted((dist / "site" / "id" / folder).glob(f"{prefix}*.html"))
    assert pages, (folder, prefix)
    return f"/id/{folder}/{pages[0].name}"


@pytest.fixture(scope="module")
def pages(dist) -> dict[str, str]:
    """One page of every kind a person reads."""
    return {
        "landing": "/",
        "evidence map": "/figures/evidence-map.html",
        "extended map with an open cell": "/figures/evidence-map-extended.html#cell=network-media",
        "studies table": "/studies.html",
        "reviewed study": "/id/study/ref-7.html",
        "added study": first_page(dist, "work"),
        "coding": first_page(dist, "coding", "curator-"),
        "stored query": "/queries/cell-items",
        "editor": "/sparql.html",
        "codebook": "/codebook.html",
        "figures": "/figures/index.html",
        "downloads": "/dumps/index.html",
        "what's new": "/whats-new.html",
    }


@pytest.fixture(scope="module")
def server(dist):
    with serving(create_app(dist, workers=1)) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--window-size=1400,1000", f"--user-data-dir={tmp_path_factory.mktemp('chromium-a11y')}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


def settle(browser) -> None:
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    browser.execute_async_script("const done = arguments[0]; requestAnimationFrame(() => setTimeout(done, 300));")


def test_no_serious_or_critical_accessibility_violation(browser, server, pages):
    axe = AXE.read_text(encoding="utf-8")
    found = {}
    for name, path in pages.items():
        browser.get(server + path)
        settle(browser)
        browser.execute_script(axe)
        violations = browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            axe.run(document, {resultTypes: ["violations"]}).then(r => done(r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))));
        """)
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        if bad:
            found[name] = bad
    assert not found, "\n".join(f"{page}: {v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
                                 for page, bad in found.items() for v in bad)


def test_no_text_page_scrolls_sideways_at_400_px(browser, server, pages):
    browser.set_window_size(400, 900)
    try:
        wide = {}
        for name, path in pages.items():
            browser.get(server + path)
            settle(browser)
            width = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
            if width[0] > width[1]:
                wide[name] = width
            if name in ("evidence map", "reviewed study", "studies table"):
                browser.save_screenshot(str(ARTIFACTS / f"phone-{name.replace(' ', '-')}.png"))
        assert not wide, wide
    finally:
        browser.set_window_size(1400, 1000)
