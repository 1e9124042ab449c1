"""What a build writes beside the dumps: the figures, then the static site that shows them."""
from __future__ import annotations

from pathlib import Path

from rdflib import Dataset

from .figures import write_figures
from .site import write_site


def write_extras(ds: Dataset, out: Path) -> None:
    """Both read the dumps already written into out/."""
    write_figures(out, out / "figures")
    write_site(ds, out)
