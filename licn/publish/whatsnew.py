"""What changed in each release: the graph as every release published it is kept in data/releases/VERSION.nq.gz
(written by `licn release VERSION`), and the site's What's new page and its Atom feed are `licn diff` between
consecutive releases, and between the latest release and this build. The baseline is data, not the previous
build on disk, so the same data gives the same page and feed."""
from __future__ import annotations

import gzip
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..diff import Diff, diff

VERSION_RE = re.compile(r"\d{4}-\d{2}-\d{2}(\.\d+)?")


@dataclass
class Release:
    version: str
    path: Path

    @property
    def date(self) -> str:
        return self.version[:10]


@dataclass
class Entry:
    """One entry of the page and the feed: what changed from one release (or none) to the next."""
    key: str
    title: str
    date: str
    since: str | None
    changes: Diff | None


def releases(data_dir: Path = paths.DATA) -> list[Release]:
    """The recorded releases, oldest first."""
    found = [Release(p.name.removesuffix(".nq.gz"), p) for p in (Path(data_dir) / "releases").glob("*.nq.gz")
             if VERSION_RE.fullmatch(p.name.removesuffix(".nq.gz"))]
    return sorted(found, key=lambda r: tuple(int(n) for n in re.split(r"[-.]", r.version)))


def entries(dist: Path, data_dir: Path = paths.DATA, today: str = "") -> list[Entry]:
    """Newest first: this build against the latest release (when it differs), then every release against the
    one before it; the first release has no changes to list."""
    recorded = releases(data_dir)
    found = []
    for before, release in zip([None, *recorded], recorded):
        changes = diff(before.path, release.path) if before else None
        found.append(Entry(f"release-{release.version}", f"Release {release.version}", release.date,
                           before.version if before else None, changes))
    current = diff(recorded[-1].path, Path(dist) / "licn.nq") if recorded else None
    if current:
        found.append(Entry("unreleased", f"Since release {recorded[-1].version} (not yet released)",
                           max(today, recorded[-1].date), recorded[-1].version, current))
    return found[::-1]


def atom_feed(items: list[Entry], base: str, site_url: str, title: str) -> bytes:
    """The entries as an Atom feed (feedgen), with fixed dates so that the bytes depend on the data only."""
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(base + "whats-new")
    feed.title(f"{title}: what's new")
    feed.author({"name": "LICN-KG team"})
    feed.link(href=site_url + "whats-new.atom", rel="self", type="application/atom+xml")
    feed.link(href=site_url + "whats-new.html", rel="alternate", type="text/html")
    feed.generator("LICN-KG")
    feed.language("en")
    feed.updated(f"{max((e.date for e in items), default='2026-01-01')}T00:00:00Z")
    for item in reversed(items):  # feedgen puts the entry added last first
        entry = feed.add_entry()
        entry.id(f"{base}whats-new#{item.key}")
        entry.title(item.title)
        entry.updated(f"{item.date}T00:00:00Z")
        entry.link(href=f"{site_url}whats-new.html#{item.key}", rel="alternate", type="text/html")
        entry.content("\n".join(summary(item)), type="text")
    return feed.atom_str(pretty=True)


def summary(item: Entry) -> list[str]:
    """The changes of an entry in words, one line each."""
    if item.changes is None:
        return ["The first recorded release: the baseline of later changes."]
    if not item.changes:
        return [f"No change since release {item.since}."]
    d = item.changes
    lines = []
    for what, changes in (("study", d.studies), ("coding", d.codings)):
        for verb, iris in (("added", changes.added), ("removed", changes.removed), ("changed", changes.changed)):
            if iris:
                plural = "studies" if what == "study" and len(iris) > 1 else what + ("s" if len(iris) > 1 else "")
                lines.append(f"{len(iris)} {plural} {verb}" + (": " + "; ".join(d.labels.get(i, i) for i in iris)
                                                                if what == "study" else ""))
    lines += [f"Map cell {level} × {kind} (as extended): {before} → {after} studies"
              for (level, kind), (before, after) in d.cells.items()]
    lines += [f"Layer {layer}: {added} statements added, {removed} removed" for layer, (added, removed) in d.layers.items()]
    return lines


def write_release(dist: Path, version: str, data_dir: Path = paths.DATA) -> Path:
    """Keep dist/licn.nq as release VERSION (gzip without a timestamp, so the same dump gives the same file)."""
    if not VERSION_RE.fullmatch(version):
        raise ValueError(f"a release version is a date with an optional number, e.g. 2026-12-06 or 2026-12-06.2, "
                         f"not '{version}'")
    source = Path(dist) / "licn.nq"
    if not source.is_file():
        raise FileNotFoundError(f"{source} does not exist: build first (licn build)")
    target = Path(data_dir) / "releases" / f"{version}.nq.gz"
    if target.exists():
        raise FileExistsError(f"{target} exists already: a release is never overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with source.open("rb") as read, partial.open("wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as write:
        shutil.copyfileobj(read, write)
    partial.rename(target)
    return target


def cmd_release(args) -> int:
    try:
        target = write_release(Path(args.dist), args.version)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"licn release: {exc}", file=sys.stderr)
        return 2
    print(f"kept {args.dist}/licn.nq as release {args.version}: {target}")
    return 0
