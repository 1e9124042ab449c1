"""The static site: every resource as HTML and RDF files, for publishing without Python."""
from __future__ import annotations

from pathlib import Path

from rdflib import Dataset


def write_site(ds: Dataset, out: Path) -> None:
    """Write out/site/ from the dataset."""
