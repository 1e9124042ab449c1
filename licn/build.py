"""licn build: load, validate, write dumps, check, draw figures, write the site; atomically, or not at all."""
from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from loaders.common import DataError
from loaders.vocab import LICN

from . import paths
from .catalogue import catalogue_triples
from .checks import run_checks
from .dataset import BuiltGraph, load_layers, ontology_triples
from .dumps import void_graph, write_dumps
from .endpoint import load_store
from .figures import write_figures
from .site import finish_site, write_site_documents
from .validate import Violation, validate_graph


class BuildError(Exception):
    """A build that must not produce output; the message is the readable report."""


@dataclass
class BuildResult:
    out: Path
    triples: int
    studies: int
    codings: int
    conforms: bool
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)


def _replace_dir(staging: Path, out: Path) -> None:
    """Move a finished staging folder into place; the old one is removed only afterwards."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{staging.name}")
        out.rename(old)
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old)


def build(out: Path = paths.DIST, data_dir: Path = paths.DATA, site: bool = True) -> BuildResult:
    """Build into out/; without site, only the data (dumps, VoID, checks): no figures, no static site."""
    start = time.perf_counter()
    phases = {}
    try:
        layers = load_layers(data_dir)
    except DataError as exc:
        raise BuildError(f"the data has {len(exc.problems)} problem(s):\n{exc}") from None
    layers["ontology"] = ontology_triples()
    layers["catalogue"] = catalogue_triples()
    data = BuiltGraph(layers)
    del layers
    phases["load"] = time.perf_counter() - start

    t = time.perf_counter()
    conforms, violations = validate_graph(data)
    if not conforms:
        raise BuildError(_violation_report(violations))
    phases["validate"] = time.perf_counter() - t
    triples = len(data.union)
    members = data.instances(LICN.Study, LICN.Coding)
    studies, codings = len(members[LICN.Study]), len(members[LICN.Coding])

    t = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-", dir=out.parent))
    staging.chmod(0o755)
    try:
        write_dumps(data, staging)
        void = void_graph(data, staging)
        (staging / "void.ttl").write_text(void.serialize(format="turtle"), encoding="utf-8")
        del data, void  # what follows reads the dumps; at scale the memory is needed for the check store
        phases["serialise"] = time.perf_counter() - t
        t = time.perf_counter()
        failures = run_checks(load_store(staging / "licn.nq"))
        if failures:
            raise BuildError("the violation checks found problems:\n" + "\n".join(failures))
        phases["checks"] = time.perf_counter() - t
        if site:
            _publish(staging, phases)
        _replace_dir(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildResult(
        out=out, triples=triples, studies=studies, codings=codings, conforms=conforms,
        seconds=time.perf_counter() - start, phases=phases)


def _publish(staging: Path, phases: dict) -> None:
    """Figures and the static site, from the dumps in staging. The figures (mostly matplotlib) are
    drawn in a second process while this one writes the site's documents, so their phases overlap."""
    t = time.perf_counter()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as background:
        figures = background.submit(_timed, write_figures, staging, staging / "figures")
        docs = write_site_documents(staging)
        phases["figures"] = figures.result()
    finish_site(docs, staging)
    phases["site"] = time.perf_counter() - t


def _timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def _violation_report(violations: list[Violation]) -> str:
    lines = [f"the graph does not conform to the shapes ({len(violations)} violation(s)):"]
    lines += [f"  {v}" for v in violations]
    return "\n".join(lines)
