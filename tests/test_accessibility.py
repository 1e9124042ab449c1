"""Accessibility and small screens, in headless Chromium against `licn serve` on loopback: axe-core (from npm,
read from node_modules and run inside the page, so nothing is fetched) finds no serious or critical violation on
any kind of page, and at 400 px no text page scrolls sideways."""
from __future__ import annotations

from pathlib import Path

import pytest
from browsers import AVAILABLE, MISSING, chromium

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
if not (AVAILABLE and AXE.is_file()):
    pytest.skip(MISSING + " and axe-core (npm ci)", allow_module_level=True)

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
def browser(tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium-a11y"), 1400, 1000)
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
