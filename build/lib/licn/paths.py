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
