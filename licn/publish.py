"""What a build writes beside the dumps: the static site and the figures."""
from __future__ import annotations

from pathlib import Path

from rdflib import Dataset


def write_extras(ds: Dataset, out: Path) -> None:
    """Hook for the static site and the figures; both read the dumps already in out/."""
