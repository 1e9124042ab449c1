"""Figures drawn from the built graph (evidence gap map and others)."""
from __future__ import annotations

from pathlib import Path


def write_figures(dist: Path, out: Path) -> None:
    """Write every figure with its CSV into out/, computed from stored queries over dist/."""


def cmd_figures(args) -> int:
    dist = Path(args.dist)
    write_figures(dist, Path(args.out) if args.out else dist / "figures")
    return 0
