"""Headless Chromium for the browser tests: Debian's chromium driven by selenium through its chromedriver,
on loopback pages or files only."""
from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
try:
    import selenium  # noqa: F401
    SELENIUM = True
except ImportError:
    SELENIUM = False

AVAILABLE = bool(CHROMIUM and CHROMEDRIVER and SELENIUM)
MISSING = ("the browser tests need Debian's chromium and chromium-driver and the selenium package "
           "(`make test` installs them; or: apt-get install chromium chromium-driver; pip install selenium)")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage")


def chromium(profile: Path, width: int = 1280, height: int = 1600, log_requests: bool = False):
    """A new headless Chromium with its own profile folder; log_requests keeps every request it makes
    (read with driver.get_log("performance"))."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    if log_requests:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    for arg in (*FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver
