"""Incremental site builds: a resource's documents are written again only when what they are made of changed.

While the site is written, Documents.record_reads notes which parts of the graph each resource's
documents read: a term's statements, the statements pointing at a term, a value computed from the
whole graph. The build keeps, per resource, those parts and one digest of their contents, of the code
that rendered them and of its settings (site-pages.json beside the site). The next build computes
that digest again from its own graph, for the parts the previous documents read. Rendering reads the
same parts whenever it finds the same contents in them, so an equal digest means equal documents:
the previous files are linked in, and only the others are rendered."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from importlib.metadata import version
from pathlib import Path

MANIFEST = "site-pages.json"
# What rendering reads besides the data: the code (templates included) and the libraries that write.
CODE = [Path(__file__).resolve().parents[1], Path(__file__).resolve().parents[2] / "loaders"]
LIBRARIES = ("pyoxigraph", "jinja2", "markupsafe")
WHOLE = ("all", "")  # a read of the whole graph


class Recorded(dict):
    """A copy of an index of the graph that notes in its owner's reads (while they are not None) each
    key looked up, as (part, key), and WHOLE when it is gone through as a whole."""

    def __init__(self, data: dict, owner, part: str):
        super().__init__(data)
        self.owner, self.part = owner, part

    def _note(self, read) -> None:
        if self.owner.reads is not None:
            self.owner.reads.add(read)

    def get(self, key, default=None):
        self._note((self.part, key))
        return super().get(key, default)

    def __getitem__(self, key):
        self._note((self.part, key))
        return super().__getitem__(key)

    def __contains__(self, key):
        self._note((self.part, key))
        return super().__contains__(key)

    def __iter__(self):
        self._note(WHOLE)
        return super().__iter__()

    def keys(self):
        self._note(WHOLE)
        return super().keys()

    def values(self):
        self._note(WHOLE)
        return super().values()

    def items(self):
        self._note(WHOLE)
        return super().items()


def _digest(*parts: str | bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def setting_digest(docs) -> str:
    """What every document depends on besides the graph: the code, the libraries' versions, the base
    IRI and the stored queries."""
    code = [(f"{folder.name}/{p.relative_to(folder)}", p) for folder in CODE for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts]
    return _digest(docs.base, *(f"{name} {version(name)}" for name in LIBRARIES),
                   *(part for name, p in code for part in (name, p.read_bytes())),
                   *(part for name, query in sorted(docs.catalogue.items()) for part in (name, query.text)))


class Pages:
    """The resources of a site being written: which can be linked from the previous site, and the
    record of what each one's documents read."""

    def __init__(self, docs, setting: str, graph_files: list[Path], previous: Path | None):
        self.docs, self.setting = docs, setting
        self.whole = _digest(*(Path(f).read_bytes() for f in graph_files))
        self.previous = previous
        self.terms = {part: {str(term): term for term in dict.keys(index)}
                      for part, index in (("out", docs.out), ("in", docs.inc))}
        self._parts: dict[tuple[str, str], str] = {}
        self.old = _read_manifest(previous, setting)

    def _part(self, part: str, key: str) -> str:
        """The digest of one part of this build's graph, by its name in a record."""
        found = self._parts.get((part, key))
        if found is None:
            if part in ("out", "in", "seen", "labels"):
                term = self.terms["in" if part == "in" else "out"].get(key)
                values = self.docs.part(part, term) if term is not None else ()
                found = _digest(*("\t".join(map(str, value)) for value in values))
            elif part == "value":
                value = getattr(self.docs, key)
                found = _digest(*sorted(map(str, value)) if isinstance(value, (set, frozenset)) else map(str, value))
            else:
                found = self.whole
            self._parts[(part, key)] = found
        return found

    def fingerprint(self, reads) -> str:
        """The digest of the setting and of the parts of the graph read (as (part, key) names)."""
        return _digest(self.setting, *(f"{part} {key} {self._part(part, key)}" for part, key in sorted(reads)))

    def record(self, path: str, reads: set) -> tuple[str, list]:
        """What a resource's documents read (from Documents.record_reads), as the manifest keeps it."""
        named = sorted({(part, str(key) if part in ("out", "in", "seen", "labels") else key) for part, key in reads})
        return self.fingerprint(named), named

    def unchanged(self, resources: list[str], suffixes) -> dict[str, tuple[str, list]]:
        """The resources whose previous documents are still right, with their records."""
        found = {}
        for path in resources:
            old = self.old.get(path)
            if old and self.fingerprint(old[1]) == old[0] and all(
                    (self.previous / "site" / f"{path}.{suffix}").is_file() for suffix in suffixes):
                found[path] = old
        return found

    def link(self, path: str, site: Path, suffixes) -> None:
        for suffix in suffixes:
            target = site / f"{path}.{suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            source = self.previous / "site" / f"{path}.{suffix}"
            try:
                os.link(source, target)
            except OSError:  # another file system
                shutil.copyfile(source, target)

    def write(self, out: Path, records: dict[str, tuple[str, list]]) -> None:
        keys = sorted({tuple(read) for _, reads in records.values() for read in reads})
        index = {key: i for i, key in enumerate(keys)}
        manifest = {"setting": self.setting, "parts": [list(k) for k in keys],
                    "pages": {path: [fp, [index[tuple(r)] for r in reads]] for path, (fp, reads) in sorted(records.items())}}
        (Path(out) / MANIFEST).write_text(json.dumps(manifest, separators=(",", ":")) + "\n", encoding="utf-8")


def _read_manifest(previous: Path | None, setting: str) -> dict[str, tuple[str, list]]:
    """The previous build's records, if it was rendered with the same setting; {} otherwise."""
    path = Path(previous) / MANIFEST if previous is not None else None
    if path is None or not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("setting") != setting:
            return {}
        parts = [tuple(p) for p in manifest["parts"]]
        return {page: (fp, [parts[i] for i in reads]) for page, (fp, reads) in manifest["pages"].items()}
    except (ValueError, KeyError, IndexError, TypeError):  # a damaged record: render everything
        return {}
