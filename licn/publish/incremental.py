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


def _file_digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "blake2b").hexdigest()


def setting_digest(docs) -> str:
    """What every document depends on besides the graph: the code, the libraries' versions, the base
    IRI and the stored queries."""
    code = [(f"{folder.name}/{p.relative_to(folder)}", p) for folder in CODE for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts]
    return _digest(docs.base, *(f"{name} {version(name)}" for name in LIBRARIES),
                   *(part for name, p in code for part in (name, p.read_bytes())),
                   *(part for name, query in sorted(docs.catalogue.items()) for part in (name, query.text)))


class Pages:
    """The resources of a site being written: which of them can be linked from the previous site, and
    the record of what each one's documents read."""

    def __init__(self, docs, setting: str, graph_files: list[Path], previous: Path | None):
        self.docs, self.setting, self.previous = docs, setting, previous
        self.graph_files = graph_files
        self.terms = {part: {str(term): term for term in dict.keys(index)}
                      for part, index in (("out", docs.out), ("in", docs.inc))}
        self._digests: dict[tuple[str, str], str] = {}
        self._folders: set[str] = set()  # those link() made

    def digest(self, part: str, key: str) -> str:
        """The digest of one part of this build's graph, by its name in a record."""
        found = self._digests.get((part, key))
        if found is None:
            if part == "all":  # read only when a document read the whole graph
                found = _digest(*(_file_digest(f) for f in self.graph_files))
            elif part == "value":
                value = getattr(self.docs, key)
                found = _digest(*sorted(map(str, value)) if isinstance(value, (set, frozenset)) else map(str, value))
            else:
                term = self.terms["in" if part == "in" else "out"].get(key)
                values = self.docs.part(part, term) if term is not None else ()
                found = _digest(*("\t".join(map(str, value)) for value in values))
            self._digests[(part, key)] = found
        return found

    @staticmethod
    def named(reads: set) -> list[tuple[str, str]]:
        """What a resource's documents read (noted by Documents.record_reads), by the names of the parts."""
        return sorted({(part, key if part in ("all", "value") else str(key)) for part, key in reads})

    def unchanged(self, resources: list[str]) -> dict[str, list[tuple[str, str]]]:
        """The resources whose documents in the previous site are still right (the parts they read
        hold what they held), with what they read."""
        parts, pages = _read_manifest(self.previous, self.setting)
        changed = {i for i, (part, key, digest) in enumerate(parts) if self.digest(part, key) != digest}
        return {path: [parts[i][:2] for i in read] for path, read in pages.items()
                if path in resources and changed.isdisjoint(read)}

    def link(self, path: str, site: Path, suffixes) -> bool:
        """The resource's documents linked in from the previous site; False if one is missing there."""
        folder = os.path.join(site, os.path.dirname(path))
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        source, target = os.path.join(self.previous, site.name, path), os.path.join(site, path)
        linked = []
        try:
            for suffix in suffixes:
                os.link(f"{source}.{suffix}", f"{target}.{suffix}")
                linked.append(f"{target}.{suffix}")
        except FileNotFoundError:
            for name in linked:  # the previous files are never written through a link
                os.unlink(name)
            return False
        return True

    def write(self, out: Path, records: dict[str, list[tuple[str, str]]]) -> None:
        """The manifest: every part read, with its digest in this build, and each resource's parts."""
        parts = sorted({tuple(read) for reads in records.values() for read in reads})
        index = {part: i for i, part in enumerate(parts)}
        manifest = {"setting": self.setting, "parts": [[*part, self.digest(*part)] for part in parts],
                    "pages": {path: [index[tuple(read)] for read in reads] for path, reads in sorted(records.items())}}
        (Path(out) / MANIFEST).write_text(json.dumps(manifest, separators=(",", ":")) + "\n", encoding="utf-8")


def _read_manifest(previous: Path | None, setting: str) -> tuple[list, dict[str, list[int]]]:
    """The previous build's parts (part, key, digest) and pages (path -> indices of its parts), if it
    was rendered with the same setting; nothing otherwise, or if the record cannot be read."""
    path = Path(previous) / MANIFEST if previous is not None else None
    if path is None or not path.is_file():
        return [], {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest["setting"] != setting:
            return [], {}
        parts = [(str(part), str(key), str(digest)) for part, key, digest in manifest["parts"]]
        pages = {str(page): [int(i) for i in read] for page, read in manifest["pages"].items()}
        if any(i < 0 or i >= len(parts) for read in pages.values() for i in read):
            return [], {}
        return parts, pages
    except (ValueError, KeyError, IndexError, TypeError):
        return [], {}
