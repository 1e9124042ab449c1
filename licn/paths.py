"""Where the project's folders are: the checkout by default, or LICN_HOME."""
import os
from pathlib import Path

ROOT = Path(os.environ.get("LICN_HOME") or Path(__file__).resolve().parents[1])
DATA = ROOT / "data"
ONTOLOGY = ROOT / "ontology"
SHAPES = ONTOLOGY / "shapes"
QUERIES = ROOT / "queries"
CHECKS = QUERIES / "checks"
DIST = ROOT / "dist"
# Browser libraries installed by npm from package.json (YASGUI, lunr.js), beside the code, not the data.
VENDOR = Path(__file__).resolve().parents[1] / "node_modules"
VENDORED = {"yasgui/yasgui.min.js": "@triply/yasgui/build/yasgui.min.js",
            "yasgui/yasgui.min.css": "@triply/yasgui/build/yasgui.min.css",
            "lunr/lunr.min.js": "lunr/lunr.min.js"}
