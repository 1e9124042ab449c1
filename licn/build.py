"""licn build: load, validate, check, write dumps, figures and the site; publish atomically, or not at all.

Each build writes a new version folder beside the output and then points the output (a symbolic
link) at it with one rename, so a reader sees the old version or the new one, never a mix or
nothing. Builds of the same output take turns (a lock file); what a killed build left behind is
removed by the next one."""
from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from loaders.common import DataError, read_yaml
from loaders.dataset import check_about
from loaders.vocab import LICN

from . import paths
from .citation import CITATION, citation_problems, write_deposit
from .crate import write_crate
from .dumps import the_review, void_graph, write_dumps
from .graph import build_store, collect_layers, ontology_triples, shared_triples
from .lease import unleased
from .processes import end_with_parent
from .progress import Quiet
from .publish.exports import write_exports
from .publish.incremental import MANIFEST
from .query.catalogue import catalogue_triples
from .query.checks import run_checks
from .validate import validate_store

KEEP_VERSIONS = 2  # the published one and the one before, which a reader may still be reading


class BuildError(Exception):
    """A build that must not produce output; the message is the readable report."""


@dataclass
class BuildResult:
    out: Path
    triples: int
    studies: int
    reviewed: int
    codings: int
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    agreement: dict[str, dict[str, float]] = field(default_factory=dict)  # dimension -> statistic -> value


def versions_dir(out: Path) -> Path:
    return out.with_name(f".{out.name}.versions")


@contextlib.contextmanager
def build_lock(out: Path):
    """One build of an output at a time; the next waits for the lock."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_name(f".{out.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def published(out: Path) -> Path | None:
    """The version folder the output points at, if any."""
    return out.resolve() if out.is_symlink() and out.resolve().is_dir() else None


def _tidy(out: Path) -> None:
    """Remove unfinished versions (of killed builds) and all but the newest published ones, except
    those a running server holds a lease on (licn.lease)."""
    folder = versions_dir(out)
    if not folder.is_dir():
        return
    current = published(out)
    finished = sorted((p for p in folder.iterdir() if p.name.startswith("v-")), key=lambda p: p.name)
    keep = {p for p in finished[-KEEP_VERSIONS:]} | ({current} if current else set())
    for path in folder.iterdir():
        if path in keep:
            continue
        if not path.is_dir():
            path.unlink(missing_ok=True)
            continue
        with unleased(path) as free:  # a running server may still serve it
            if free:
                shutil.rmtree(path, ignore_errors=True)


def _publish_version(staging: Path, out: Path) -> None:
    """Rename the finished staging folder to a version and point the output at it in one rename."""
    version = staging.with_name(f"v-{time.time_ns():020d}")
    staging.rename(version)
    link = out.with_name(f".{out.name}.link-{os.getpid()}")
    link.unlink(missing_ok=True)
    link.symlink_to(os.path.relpath(version, out.parent))
    if out.exists() and not out.is_symlink():  # a dist/ folder from before versioned builds
        shutil.rmtree(out)
    os.replace(link, out)


def dataset_about(data_dir: Path) -> dict:
    """data/dataset.yaml: what the VoID/DCAT description says of the dataset itself; the project's
    CITATION.cff (beside data/), where there is one, must say the same of the release."""
    path = Path(data_dir) / "dataset.yaml"
    if not path.exists():
        raise BuildError("dataset.yaml:0: (file): file is missing")
    about, problems = read_yaml(path)
    problems = problems or check_about(about, "dataset.yaml")
    citation = Path(data_dir).resolve().parent / CITATION
    if not problems and citation.is_file():
        problems = citation_problems(citation, about)
    if problems:
        raise BuildError(f"the data has {len(problems)} problem(s):\n" + "\n".join(map(str, problems)))
    return about


def build(out: Path = paths.DIST, data_dir: Path = paths.DATA, site: bool = True, progress=None) -> BuildResult:
    """Build into out/; without site, only the data (dumps, VoID, checks), keeping the previous
    build's figures and site as they were. progress: a licn.progress.Stages to report the stages to."""
    out = Path(out)
    start = time.perf_counter()
    phases: dict[str, float] = {}
    stages = progress or Quiet()
    with build_lock(out):
        stages.next("reading data/ into the graph")
        _tidy(out)
        problems: list[str] = []
        about = dataset_about(data_dir)
        layers, found = collect_layers(data_dir)
        if found:
            problems.append(f"the data has {len(found)} problem(s):\n" + "\n".join(str(p) for p in DataError(found).problems))
        layers["ontology"] = ontology_triples()
        layers["catalogue"] = catalogue_triples()
        try:
            store = build_store(layers)
        except ValueError:  # a term the loaders already reported as malformed
            raise BuildError("\n".join(problems)) from None
        del layers
        phases["load"] = time.perf_counter() - start

        folder = versions_dir(out)
        folder.mkdir(exist_ok=True)
        # on the other core, while this one goes on; its scratch files are tidied if it is killed
        with beside(validate_store, store, scratch=folder) as shacl:
            t = time.perf_counter()
            stages.next("violation checks (SHACL beside them)")
            failures = run_checks(store)
            if failures:
                problems.append("the violation checks found problems:\n" + "\n".join(failures))
            phases["checks"] = time.perf_counter() - t
            counts = {cls: _count_instances(store, cls) for cls in (LICN.Study, LICN.ReviewedStudy, LICN.Coding)}
            agreement = _agreement(store)
            triples = len(store)
            staging = Path(tempfile.mkdtemp(prefix="build-", dir=folder))
            staging.chmod(0o755)
            kept = []
            try:
                t = time.perf_counter()
                stages.next("dumps, VoID and exports")
                # licn.nt holds each triple once: fewer than the store's statements means that some
                # stand in more than one layer. The query that names them runs only then (or when the
                # build fails anyway, so that its report is complete).
                if problems or write_dumps(store, staging) != triples:
                    shared = shared_triples(store)
                    if shared:
                        problems.append(f"{len(shared)} statement(s) stand in more than one layer:\n"
                                        + "\n".join(f"  {s}" for s in shared))
                review = the_review(store)
                if not problems:
                    void = void_graph(store, staging, about)
                    (staging / "void.ttl").write_text(void.serialize(format="turtle"), encoding="utf-8")
                    write_exports(store, staging)
                    write_deposit(staging, about, review["doi"])
                    phases["serialise"] = time.perf_counter() - t
                del store
                t = time.perf_counter()
                stages.next("waiting for SHACL")
                conforms, violations = shacl()
                phases["SHACL, after the dumps"] = time.perf_counter() - t
                if not conforms:
                    problems.append(f"the graph does not conform to the shapes ({len(violations)} violation(s)):\n"
                                    + "\n".join(f"  {v}" for v in violations))
                if problems:
                    raise BuildError("\n".join(problems))
                if site:
                    _publish(staging, phases, published(out), data_dir, stages)
                else:
                    kept = _keep_previous_site(out, staging)
                stages.next("RO-Crate, and publishing the new version")
                write_crate(staging, about, review)
                _publish_version(staging, out)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        _tidy(out)
    stages.close()
    return BuildResult(out=out, triples=triples, studies=counts[LICN.Study], reviewed=counts[LICN.ReviewedStudy],
                       codings=counts[LICN.Coding], agreement=agreement,
                       seconds=time.perf_counter() - start, phases=phases, kept=kept)


@contextlib.contextmanager
def beside(function, *args, **kwargs):
    """function(*args, **kwargs) in a forked process (sharing this one's memory as it was), while this
    one goes on; yields a callable that waits for the result. The process is stopped when the block
    is left."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def run():
        end_with_parent()
        # SIGTERM ends it by unwinding, so that the pools it started release what they hold (their
        # semaphores) instead of leaving them for the resource tracker to report.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
        try:
            send.send((True, function(*args, **kwargs)))
        except Exception as exc:  # reported by the parent, in one line
            send.send((False, f"{type(exc).__name__}: {exc}"))

    child = context.Process(target=run)  # not a daemon: it starts a process of its own to validate in parts
    child.start()
    send.close()

    def result():
        try:
            ok, value = receive.recv()
        except EOFError:
            raise BuildError(f"{function.__name__} stopped (exit code {child.join() or child.exitcode})") from None
        if not ok:
            raise BuildError(f"{function.__name__} failed: {value}")
        return value
    try:
        yield result
    finally:
        if child.is_alive():
            child.terminate()
            child.join(10)
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()


def _count_instances(store, cls) -> int:
    rows = store.query(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{cls}> }}", use_default_graph_as_union=True)
    return int(next(iter(rows))["n"].value)


def _agreement(store) -> dict[str, dict[str, float]]:
    """The agreement between the coding passes that the build computed (licn:codingDimension)."""
    rows = store.query("""PREFIX dqv: <http://www.w3.org/ns/dqv#> PREFIX licn: <https://w3id.org/licn/ontology#>
        SELECT ?dimension ?metric ?value WHERE { ?m dqv:isMeasurementOf ?metric ; dqv:value ?value ;
        licn:codingDimension ?dimension }""", use_default_graph_as_union=True)
    found: dict[str, dict[str, float]] = {}
    for row in rows:
        statistic = "kappa" if row["metric"].value.endswith("Kappa") else "alpha"
        found.setdefault(row["dimension"].value.rsplit("#", 1)[-1], {})[statistic] = float(row["value"].value)
    return dict(sorted(found.items()))


def _keep_previous_site(out: Path, staging: Path) -> list[str]:
    """The figures and site of the published build, and the record of what its documents were made
    of, linked into the new version unchanged."""
    previous = published(out)
    kept = []
    for name in ("figures", "site"):
        if previous is not None and (previous / name).is_dir():
            shutil.copytree(previous / name, staging / name, copy_function=os.link)
            kept.append(name)
    if "site" in kept and (previous / MANIFEST).is_file():
        os.link(previous / MANIFEST, staging / MANIFEST)
    return kept


def _publish(staging: Path, phases: dict, previous: Path | None, data_dir: Path, stages) -> None:
    """Figures and the static site, from the dumps in staging; the documents of the previous build
    that are still right are linked in. The figures (mostly matplotlib) are drawn in a second process
    while this one writes the site's documents and the pages that do not show figures."""
    from .publish.figures import write_figures
    from .publish.site import write_figure_pages, write_pages, write_site_documents

    t = time.perf_counter()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"), initializer=end_with_parent) as background:
        figures = background.submit(_timed, write_figures, staging, staging / "figures")
        stages.next("the site's documents (figures beside them)")
        docs = write_site_documents(staging, previous=previous)
        stages.next("the site's pages and stored queries (figures beside them)")
        write_pages(docs, staging, data_dir)
        stages.next("waiting for the figures")
        phases["figures"] = figures.result()
    write_figure_pages(docs, staging)
    phases["site"] = time.perf_counter() - t


def _timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start

