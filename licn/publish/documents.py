"""What each published document contains: one place for `licn serve` and the static site.

The graph is read once into an index by subject and by object; a document is the description of
one resource (its own statements, the statements that point at it, and the labels of its
neighbours) as HTML from a Jinja2 template or as RDF from pyoxigraph's serialisers. Links between
HTML documents are relative (`../reference/58.html`), so the same files work from a server, from a
static host and from disk."""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from loaders import vocab
from loaders.vocab import BASE, PREFIXES

from .. import __version__, paths
from ..dumps import DUMPS
from ..query.catalogue import QueryError, bind
from ..query.results import format_result
from .exports import EXPORTS
from .incremental import Recorded

TEMPLATES = Path(__file__).with_name("templates")

# Document formats: suffix -> (media type sent, pyoxigraph format or None for HTML).
FORMATS = {
    "html": ("text/html; charset=utf-8", None),
    "ttl": ("text/turtle; charset=utf-8", ox.RdfFormat.TURTLE),
    "jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD),
    "nt": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    "rdf": ("application/rdf+xml", ox.RdfFormat.RDF_XML),
}
FORMAT_NAMES = {"html": "HTML", "ttl": "Turtle", "jsonld": "JSON-LD", "nt": "N-Triples", "rdf": "RDF/XML"}
# Media types a client may send in Accept, in the server's order of preference for ties.
ACCEPT = [("text/html", "html"), ("text/turtle", "ttl"), ("application/ld+json", "jsonld"),
          ("application/json", "jsonld"), ("application/n-triples", "nt"), ("application/rdf+xml", "rdf"),
          ("application/xhtml+xml", "html"), ("application/x-turtle", "ttl")]

# IRIs compared with the values of pyoxigraph terms, which are plain strings.
LICENCE = str(vocab.LICENCE)
TYPE = str(vocab.RDF.type)
PLAIN_TYPES = {str(vocab.XSD[t]) for t in ("string", "integer", "decimal", "double", "boolean")}
# Where a resource's label comes from, best first.
LABELS = [str(p) for p in (vocab.SKOS.prefLabel, vocab.RDFS.label, vocab.DCTERMS.title, vocab.FOAF.name,
                           vocab.SKOS.notation)]
PROVENANCE = ("sourceNote", "locator", "evidenceStatus", "confidence", "kindStatus", "placementStatus",
              "inferredField", "unverifiedLead")
# What a list page shows beside each resource's label: (column, path of predicates separated by
# spaces), a predicate being an ontology term's name or an IRI.
BIBLIOGRAPHIC_COLUMNS = [("Authors", "authors"), ("Year", vocab.FABIO.hasPublicationYear), ("Venue", "venue")]
LEVEL_AND_KIND_COLUMNS = [("Level", "level"), ("Kind", "kind")]
LIST_COLUMNS = {
    "study": [("No.", "studyEntry referenceNumber"), *BIBLIOGRAPHIC_COLUMNS],
    "work": BIBLIOGRAPHIC_COLUMNS,
    "reference": [("No.", "referenceNumber"), ("Work", vocab.BIRO.references)],
    "coding": [*LEVEL_AND_KIND_COLUMNS, ("Mechanism", "mechanism"), ("Status", "evidenceStatus"),
               ("Confidence", "confidence")],
    "item": LEVEL_AND_KIND_COLUMNS,
    "claim": LEVEL_AND_KIND_COLUMNS,
    "source": [("Address", vocab.FOAF.page)],
    "figure": [("Value", vocab.RDF.value), ("Status", "evidenceStatus")],
}
KIND_TITLES = {
    "study": "Reviewed studies", "reference": "Reference entries",
    "work": "Works (cited by the review, or studies found since)", "coding": "Codings",
    "item": "Table 1 items", "claim": "Prose claims", "cell": "Table 1 cells", "figure": "Reported figures",
    "source": "Source records", "identification": "Identifications", "setting": "Setting statements",
    "avenue": "Research avenues", "gap": "Knowledge gaps", "method": "Method facts", "query": "Stored queries",
    "review": "The review", "person": "People", "dataset": "Dataset description",
    # the kinds of the curation, listed after those above
    "agent": "Curators", "agreement": "Agreement between the coding passes", "coding-pass": "Coding passes",
    "criterion": "Eligibility criteria", "pass-coding": "Codings of the two passes",
    "reconciliation": "Reconciliations of the coding passes", "screening": "Screening decisions",
    "search": "Searches", "search-source": "Search sources",
}
EXAMPLE_QUERY = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("licn", "dcterms", "skos")) + """
# Studies coded for a mechanism at the network level
SELECT ?number ?title ?mechanism WHERE {
  ?coding a licn:Coding ; licn:level ?level ; licn:mechanism/skos:prefLabel ?mechanism ; licn:citesEntry ?entry .
  ?level skos:notation "network" .
  ?entry licn:referenceNumber ?number .
  OPTIONAL { ?study licn:studyEntry ?entry ; dcterms:title ?title }
}
ORDER BY ?number
LIMIT 50
"""

LANDING_COUNTS = [("ReviewedStudy", "reviewed studies", "study"),
                  ("Study", "studies in all (the review's and later ones)", "studies"),
                  ("ReferenceEntry", "reference entries", "reference"),
                  ("Coding", "codings", "coding"), ("Table1Item", "Table 1 items", "item"),
                  ("ProseClaim", "prose claims", "claim"), ("Mechanism", "leadership mechanisms", None),
                  ("ReportedFigure", "reported figures", "figure"), ("ResearchAvenue", "research avenues", "avenue"),
                  ("KnowledgeGap", "recorded knowledge gaps", "gap"), ("Source", "source records", "source")]
# A coding's basis as the badge a codings table shows: (CSS class, text).
BASIS_BADGES = {"Table1Basis": ("table", "Table 1"), "ProseBasis": ("prose", "prose"), "CuratorBasis": ("curator", "curator")}
# The studies table: after the study itself (its title, with authors, year and reference number under
# it), one column per column of the `studies` query that a reader may show: (key, heading, shown
# before the reader chooses).
STUDY_COLUMNS = (("venue", "Venue", True), ("cells", "Level × kind", True), ("mechanisms", "Mechanisms", True),
                 ("countries", "Countries", True), ("bases", "Basis", True), ("reference", "No.", False),
                 ("year", "Year", False), ("levels", "Levels", False), ("kinds", "Kinds", False),
                 ("settings", "Care settings", False), ("designs", "Designs", False), ("doi", "DOI", False),
                 ("reports", "Reports", False), ("identified", "Identified", False), ("reviewed", "Reviewed", False))
STUDY_LISTS = ("levels", "kinds", "cells", "mechanisms", "countries", "settings", "designs", "bases")
LEVEL_ORDER = ("policy", "network", "organisation")
KIND_ORDER = ("media", "practices", "activities", "outcomes")
# A basis as a filter offers it, and as a cell shows it.
BASIS_NAMES = {"table": ("the review's Table 1", "Table 1"), "prose": ("the review's prose", "prose"),
               "curator": ("a curator", "curator")}
# The review's search was open up to June 2019 (data/review.yaml); the update search takes what was
# published from July 2019 (data/eligibility.yaml). By year, "2019 or later" is the closest filter.
SINCE_YEAR = 2019


def dump_list(dist: Path) -> list[dict]:
    """The dumps in dist/ that the landing and download pages offer, with their sizes."""
    found = []
    offered = sorted((d.name, d.media) for d in DUMPS) + [("void.ttl", "text/turtle")] + sorted(EXPORTS.items())
    for name, media in offered:
        if (path := Path(dist) / name).exists():
            size = path.stat().st_size
            found.append({"name": name, "media": media, "bytes": size,
                          "size": f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"})
    return found


def natural_key(text: str):
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part]


def term_key(term):
    if isinstance(term, ox.Literal):
        return (2, term.value, term.language or "", term.datatype.value if term.datatype else "")
    return (0 if isinstance(term, ox.NamedNode) else 1, term.value, "", "")


def triple_key(t):
    return (term_key(t.subject), term_key(t.predicate), term_key(t.object))


def best_type(accept: str | None, offers: list[tuple[str, str]] = ACCEPT) -> str | None:
    """The offered format a client's Accept header prefers (q-values honoured, ties by offer order);
    None when it accepts none. No header, or */*, gets the first offer."""
    if not accept or not accept.strip():
        return offers[0][1]
    ranges = {}  # media range -> q; the first of repeated ranges counts
    for part in accept.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for name, _, value in (param.partition("=") for param in params):
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        if media:
            ranges.setdefault(media.lower(), q)
    best, best_q = None, 0.0
    for media, key in offers:
        # The most specific range naming the offer gives its q: the type itself, type/*, */*.
        q = next((ranges[r] for r in (media, media.split("/")[0] + "/*", "*/*") if r in ranges), 0.0)
        if q > best_q:
            best, best_q = key, q
    return best


@dataclass(frozen=True)
class View:
    """A term as a page shows it."""
    kind: str  # iri, bnode, literal
    value: str
    label: str
    href: str | None = None
    note: str = ""  # a literal's datatype or language, shown as a tooltip (never beside the value)
    external: bool = False


def readable(name: str) -> str:
    """A vocabulary term's local name in words: JournalArticle -> Journal article, hasPublicationYear ->
    has publication year."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", name) or [name]
    return " ".join([words[0], *(w if w.isupper() and len(w) > 1 else w.lower() for w in words[1:])])


def render_term(v: View | None) -> Markup:
    """A term as inline HTML: a link to its document, or the literal (its datatype or language, if
    any, in a tooltip: people read "2016", not "2016"^^xsd:gYear)."""
    if v is None:
        return Markup('<span class="none">–</span>')
    if v.kind == "literal":
        title = f' title="{escape(v.note)}"' if v.note else ""
        return Markup(f'<pre class="literal"{title}>{escape(v.value)}</pre>' if "\n" in v.value
                      else f'<span class="literal"{title}>{escape(v.value)}</span>')
    if v.kind == "bnode":
        return Markup(f'<span class="bnode">{escape(v.label)}</span>')
    if v.href:
        external = ' class="external"' if v.external else ""
        return Markup(f'<a href="{escape(v.href)}"{external} title="{escape(v.value)}">{escape(v.label)}</a>')
    return Markup(f'<span class="iri" title="{escape(v.value)}">{escape(v.label)}</span>')


def render_terms(views) -> Markup:
    views = list(views or [])
    return Markup("; ").join(render_term(v) for v in views) if views else render_term(None)


class Documents:
    """The published documents of one graph under one canonical base IRI."""

    def __init__(self, quads, base: str = BASE, extra=(), catalogue=None):
        quads, extra = list(quads), list(extra)
        self.base = base if base.endswith("/") else base + "/"
        self.ont = self.base + "ontology"
        self.cb = self.base + "codebook"
        self.catalogue = catalogue if catalogue is not None else {}
        self.out = defaultdict(list)  # subject -> [(predicate, object, graph label)]
        self.inc = defaultdict(list)  # object IRI -> [(subject, predicate, graph label)]
        # named graph IRI -> number of triples
        self.graph_sizes = Counter(q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode))
        graphs = self.base + "graph/"
        statements = [(q.subject, q.predicate, q.object, q.graph_name.value.removeprefix(graphs)
                       if isinstance(q.graph_name, ox.NamedNode) else "default graph") for q in quads]
        statements += [(q.subject, q.predicate, q.object, "void.ttl") for q in extra]
        for subject, predicate, obj, graph in dict.fromkeys(statements):  # each statement once per graph
            self.out[subject].append((predicate, obj, graph))
            if not isinstance(obj, ox.Literal):
                self.inc[obj].append((subject, predicate, graph))
        self.triple_count = len({(q.subject, q.predicate, q.object) for q in quads})
        for index in (self.out, self.inc):
            for values in index.values():
                values.sort(key=lambda v: (term_key(v[0]), term_key(v[1]), v[2]))
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                               keep_trailing_newline=True)
        self.env.globals.update(term=render_term, terms=render_terms)
        self.prefixes = {k: str(v) for k, v in PREFIXES.items() if not str(v).startswith(BASE)}
        self.prefixes.update({"licn": self.ont + "#", "cb": self.cb + "#"})
        self._views = {}  # (term, root) -> View: pages show the same terms many times
        self.reads = None  # what rendering read of the graph, once record_reads is called

    @classmethod
    def from_dist(cls, dist: Path, base: str = BASE, catalogue=None) -> Documents:
        quads = ox.parse(path=str(Path(dist) / "licn.nq"), format=ox.RdfFormat.N_QUADS)
        void = Path(dist) / "void.ttl"
        extra = ox.parse(path=str(void), format=ox.RdfFormat.TURTLE) if void.exists() else []
        return cls(quads, base, extra, catalogue)

    def record_reads(self, reads: set) -> None:
        """From now on, note in reads what rendering reads of the graph (licn.publish.incremental):
        ("out", term) for a term's statements, ("in", term) for those pointing at it, ("seen", term)
        for what a link to it shows, ("label", term) and ("types", term) for the label and the types
        computed from its statements, ("labels", term) for its label statements, ("value", name) for
        an attribute computed from the whole graph, ("all", "") for the whole graph."""
        self.kinds, self._review_sources  # noqa: B018 -- computed now, from the whole graph
        self._types, self._labels = Recorded(self._types, self, "types"), Recorded(self._labels, self, "label")
        self._label_triples = Recorded(self._label_triples, self, "labels")
        self.out, self.inc = Recorded(self.out, self, "out"), Recorded(self.inc, self, "in")
        self.reads = reads

    def part(self, part: str, term) -> list:
        """What a part of the graph named by record_reads holds, read without being noted."""
        if part in ("label", "types", "seen"):
            label, types = (dict.get(self._labels, term),), tuple(sorted(dict.get(self._types, term, ())))
            return {"label": [label], "types": [types],
                    "seen": [label, types, (dict.__contains__(self.out, term),)]}[part]  # what view() reads
        index = {"out": self.out, "in": self.inc, "labels": self._label_triples}[part]
        return dict.get(index, term, [])

    def _shared(self, name: str):
        """An attribute computed from the whole graph, noted as read."""
        if self.reads is not None:
            self.reads.add(("value", name))
        return getattr(self, name)

    # -- looking things up ------------------------------------------------------------------

    def iri(self, name: str) -> ox.NamedNode:
        """A full IRI as it is, or an ontology term by its name such as 'Study'."""
        return ox.NamedNode(name if "://" in name else f"{self.ont}#{name}")

    def values(self, subject, predicate: str) -> list:
        p = self.iri(predicate)
        return [o for (pp, o, _) in self.out.get(subject, ()) if pp == p]

    def value(self, subject, predicate: str):
        return next(iter(self.values(subject, predicate)), None)

    def text(self, subject, predicate: str) -> str:
        """The first value of predicate as text, or "" if there is none."""
        found = self.value(subject, predicate)
        return found.value if found is not None else ""

    def path_values(self, subject, path: str) -> list:
        """The values at the end of a path of predicates separated by spaces."""
        nodes = [subject]
        for predicate in path.split():
            nodes = [o for n in nodes for o in self.values(n, predicate)]
        return nodes

    def subjects(self, predicate: str, obj) -> list:
        p = self.iri(predicate)
        return sorted({s for (s, pp, _) in self.inc.get(obj, ()) if pp == p}, key=term_key)

    def named_under(self, prefix: str) -> list[ox.NamedNode]:
        return [s for s in self.out if isinstance(s, ox.NamedNode) and s.value.startswith(prefix)]

    def types(self, subject) -> frozenset[str]:
        return self._types.get(subject, frozenset())

    def is_a(self, subject, cls: str) -> bool:
        return self.iri(cls).value in self.types(subject)

    @cached_property
    def _types(self) -> dict:
        return {subject: frozenset(o.value for p, o, _ in values if p.value == TYPE and isinstance(o, ox.NamedNode))
                for subject, values in self.out.items()}

    def instances(self, cls: str) -> list:
        return self.subjects(TYPE, self.iri(cls))

    @cached_property
    def _labels(self) -> dict:
        labels = {}
        for subject, values in self.out.items():
            for predicate in LABELS:
                found = [o for (p, o, _) in values if p.value == predicate and isinstance(o, ox.Literal)]
                if found:
                    english = [o for o in found if o.language in (None, "en")]
                    labels[subject] = min(english or found, key=term_key).value
                    break
        return labels

    def curie(self, iri: str) -> str:
        """iri as prefix:name with the longest namespace it can, or as it is."""
        names = [(len(ns), f"{prefix}:{iri[len(ns):]}") for prefix, ns in self.prefixes.items()
                 if iri.startswith(ns) and re.fullmatch(r"[\w.-]*", iri[len(ns):])]
        return max(names, key=lambda n: n[0])[1] if names else iri

    def label(self, term) -> str:
        """What a page calls a term: its label; a vocabulary term without one by its name in words
        (fabio:JournalArticle as "Journal article"); any other IRI as it is."""
        if isinstance(term, ox.Literal):
            return term.value
        found = self._labels.get(term)
        if found or not isinstance(term, ox.NamedNode):
            return found or "_:" + term.value
        curie = self.curie(term.value)
        name = curie.split(":", 1)[1] if curie != term.value else ""
        return readable(name) if re.fullmatch(r"[A-Za-z]+", name) else curie  # wd:Q35 stays as it is

    # -- documents and their paths ------------------------------------------------------------

    def doc_path(self, iri: str) -> str | None:
        """The path (under the base, without suffix) of the document describing iri, if published."""
        if iri.startswith(self.base + "id/") and ox.NamedNode(iri) in self.out:
            return iri[len(self.base):]
        if iri == self.ont or iri.startswith(self.ont + "#"):
            return "ontology"
        if iri == self.cb:
            return "codebook"
        if iri.startswith(self.cb + "#") and ox.NamedNode(iri) in self.out:
            return "codebook/" + iri[len(self.cb) + 1:]
        return None

    def href(self, iri: str, root: str) -> str | None:
        """Where a page links for iri: a relative link to its HTML document, or the IRI itself."""
        if iri.startswith(self.ont + "#"):
            return f"{root}ontology.html#{iri[len(self.ont) + 1:]}"
        if iri.startswith(self.cb + "#") and self.is_a(ox.NamedNode(iri), vocab.SKOS.ConceptScheme):
            return f"{root}codebook.html#{iri[len(self.cb) + 1:]}"  # a scheme is a section of the codebook
        path = self.doc_path(iri)
        if path is not None:
            return f"{root}{path}.html"
        return iri if iri.startswith(("http://", "https://")) and not iri.startswith(self.base) else None

    @cached_property
    def resource_paths(self) -> list[str]:
        """Every document with RDF serialisations, sorted."""
        found = (self.doc_path(subject.value) for subject in self.named_under(""))
        return sorted({"ontology", "codebook", *filter(None, found)}, key=natural_key)

    @cached_property
    def kinds(self) -> list[str]:
        """The kinds of instance (id/KIND/...) there are list pages for, in the order of KIND_TITLES."""
        order = list(KIND_TITLES)
        found = {p.split("/")[1] for p in self.resource_paths if p.startswith("id/")}
        return sorted(found, key=lambda k: (order.index(k) if k in order else len(order), k))

    def topic(self, path: str) -> ox.NamedNode:
        if path.startswith("codebook/"):
            return ox.NamedNode(self.cb + "#" + path.removeprefix("codebook/"))
        return ox.NamedNode(self.base + path)

    def triples(self, path: str) -> list:
        """The RDF content of a document: for ontology and codebook every statement about their
        terms; for one resource its statements, those pointing at it and its neighbours' labels."""
        if path in ("ontology", "codebook"):
            ns = self.ont if path == "ontology" else self.cb + "#"
            return sorted({ox.Triple(s, p, o) for s in self.named_under(ns) for p, o, _ in self.out[s]}, key=triple_key)
        topic = self.topic(path)
        found = {ox.Triple(topic, p, o) for p, o, _ in self.out.get(topic, ())}
        found.update(ox.Triple(s, p, topic) for s, p, _ in self.inc.get(topic, ()))
        neighbours = {term for t in found for term in (t.subject, t.predicate, t.object)} - {topic}
        for node in neighbours:
            found.update(self._label_triples.get(node, ()))
        found.update([ox.Triple(topic, ox.NamedNode(vocab.VOID.inDataset), self.dataset),
                      ox.Triple(self.dataset, ox.NamedNode(vocab.DCTERMS.license), ox.NamedNode(LICENCE))])
        return sorted(found, key=lambda t: (t.subject != topic, triple_key(t)))

    @cached_property
    def _label_triples(self) -> dict:
        """node -> its rdfs:label and skos:prefLabel statements (what a document says of its neighbours)."""
        labels = {str(vocab.RDFS.label), str(vocab.SKOS.prefLabel)}
        return {s: [ox.Triple(s, p, o) for p, o, _ in values if p.value in labels] for s, values in self.out.items()}

    def rdf(self, path: str, fmt: str, triples: list | None = None, prefixes: dict | None = None) -> bytes:
        """The document at path in an RDF format (a suffix of FORMATS); its triples and their prefixes
        if already known."""
        triples = self.triples(path) if triples is None else triples
        rdf_format = FORMATS[fmt][1]
        if rdf_format not in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML):  # pyoxigraph writes JSON-LD expanded
            prefixes = None
        elif prefixes is None:
            prefixes = self.prefixes_of(triples)
        return ox.serialize(triples, format=rdf_format, prefixes=prefixes) or b""

    def rdf_documents(self, path: str) -> dict[str, bytes]:
        """The document at path in every RDF format, by suffix."""
        triples = self.triples(path)
        prefixes = self.prefixes_of(triples)
        return {suffix: self.rdf(path, suffix, triples, prefixes) for suffix, (_, f) in FORMATS.items() if f is not None}

    def prefixes_of(self, triples) -> dict[str, str]:
        """The project's prefixes of the namespaces (to the last # or /) the triples use."""
        terms = (term for triple in triples for term in (triple.subject, triple.predicate, triple.object))
        iris = (term.datatype if isinstance(term, ox.Literal) else term for term in terms)
        used = {i.value[:max(map(i.value.rfind, "#/")) + 1] for i in iris if isinstance(i, ox.NamedNode)}
        by_namespace = {ns: prefix for prefix, ns in self.prefixes.items()}
        return dict(sorted((by_namespace[ns], ns) for ns in used if ns in by_namespace))

    # -- views for templates -----------------------------------------------------------------

    def view(self, term, root: str) -> View | None:
        """A term as a page shows it, with links relative to root; None for no term."""
        key = (term, root)
        if term is None:
            return None
        if self.reads is not None and not isinstance(term, ox.Literal):
            self.reads.add(("seen", term))
        if key not in self._views:
            reads, self.reads = self.reads, None  # what _view reads is ("seen", term)
            try:
                self._views[key] = self._view(term, root)
            finally:
                self.reads = reads
        return self._views[key]

    def views(self, subject, predicate: str, root: str) -> list[View]:
        return [self.view(v, root) for v in self.values(subject, predicate)]

    def _view(self, term, root: str) -> View:
        if isinstance(term, ox.Literal):
            note = (f"language: {term.language}" if term.language
                    else "" if term.datatype.value in PLAIN_TYPES else f"datatype: {self.curie(term.datatype.value)}")
            return View("literal", term.value, term.value, note=note)
        if isinstance(term, ox.BlankNode):
            return View("bnode", term.value, "_:" + term.value)
        href = self.href(term.value, root)
        return View("iri", term.value, self.label(term), href, external=href is not None and href == term.value)

    def provenance(self, subject, heading: str, root: str) -> dict | None:
        """A block on where subject's statements come from (its sources and PROVENANCE fields), or
        None when it has neither."""
        sources = [{"view": self.view(source, root), "page": self.text(source, vocab.FOAF.page) or None}
                   for source in self.values(subject, vocab.PROV.wasDerivedFrom)]
        fields = {name: self.views(subject, name, root) for name in PROVENANCE}
        if not sources and not any(fields.values()):
            return None
        return {"heading": heading, "sources": sources, "search": None, "reason": [], **fields}

    def provenance_blocks(self, topic, kind: str, root: str) -> list[dict]:
        """Where each part of a resource comes from. For a study or work: first where its
        bibliographic record was seen, then why it is a study of the review (or how a search found
        it). Its codings, each with its basis, come before these blocks, in their own table."""
        if kind not in ("study", "work"):
            own = self.provenance(topic, "Where this comes from", root)
            return [own] if own else []
        blocks = [self.provenance(identification, "Where its bibliographic record was seen", root)
                  for identification in self.subjects("identifiedWork", topic)]
        blocks.append(self.provenance(topic, "Why it counts as one of the review's studies", root))
        blocks += [{"heading": "How a search beyond the review found it", "sources": [],
                    "search": self.view(self.value(decision, "search"), root),
                    "reason": self.views(decision, "reason", root), **{name: [] for name in PROVENANCE}}
                   for decision in self.subjects("screenedWork", topic)]
        return [block for block in blocks if block]

    def grouped(self, statements, root: str) -> list[dict]:
        """(predicate, term, graph) statements as table rows: one per predicate, with each of its
        terms once and the graphs it stands in."""
        first = {TYPE: 0, str(vocab.RDFS.label): 1, str(vocab.SKOS.prefLabel): 1, str(vocab.DCTERMS.title): 2}
        graphs = defaultdict(lambda: defaultdict(list))  # predicate -> term -> graphs
        for predicate, term, graph in statements:
            graphs[predicate][term].append(graph)
        rows = []
        for predicate in sorted(graphs, key=lambda p: (first.get(p.value, 3), self.label(p).lower(), p.value)):
            values = [{"view": self.view(t, root), "graphs": sorted(set(g))} for t, g in graphs[predicate].items()]
            values.sort(key=lambda v: (natural_key(v["view"].label.lower()), v["view"].value))
            # the predicate's CURIE stands beside its label, unless it is the label
            view = self.view(predicate, root)
            curie = self.curie(predicate.value)
            rows.append({"predicate": replace(view, note=curie if curie != view.label else ""), "values": values})
        return rows

    def codings(self, subject, root: str) -> list[dict]:
        """The codings related to a resource: those pointing at it, and those citing its reference
        entries (itself, its study entry, the entries citing it). A coding's own page shows its row."""
        if self.is_a(subject, "Coding"):
            return [self.coding_row(subject, root)]
        entries = {*self.values(subject, "studyEntry"), *self.subjects(vocab.BIRO.references, subject)}
        if self.is_a(subject, "ReferenceEntry"):
            entries.add(subject)
        related = [s for s, _, _ in self.inc.get(subject, ())]
        related += [s for entry in entries for s in self.subjects("citesEntry", entry)]
        rows = [self.coding_row(coding, root) for coding in {s for s in related if self.is_a(s, "Coding")}]
        return sorted(rows, key=lambda r: (r["number"] if r["number"] is not None else 10**9, r["coding"].value))

    def coding_row(self, coding, root: str) -> dict:
        """One coding as a row of a codings table: what it codes, what it rests on (a badge: Table 1,
        prose or curator), who coded it and when (a curator coding), how sure and where it was seen."""
        # A coding without an entry (None) finds no number and no study: None has no statements.
        entry = self.value(coding, "citesEntry")
        number = self.value(entry, "referenceNumber")
        study = (self.values(coding, "evidenceFrom") or self.subjects("studyEntry", entry)
                 or self.values(entry, vocab.BIRO.references) or [None])[0]
        basis = self.value(coding, "basis")
        badge = BASIS_BADGES.get(basis.value.rsplit("#", 1)[-1]) if basis is not None else None
        fields = {name: self.view(self.value(coding, name), root)
                  for name in ("level", "kind", "mechanism", "claim", "confidence")}
        return {"coding": self.view(coding, root), "study": self.view(study, root),
                "number": int(number.value) if number is not None else None,
                "badge": badge, "basis": self.view(basis, root),
                "by": self.views(coding, vocab.PROV.wasAttributedTo, root),
                "on": self.text(coding, vocab.PROV.generatedAtTime), "from": self.view(self.value(coding, "codedFrom"), root),
                "status": self.view(self.value(coding, "evidenceStatus"), root),
                "locator": self.views(coding, "locator", root),
                "sources": self.views(coding, vocab.PROV.wasDerivedFrom, root), **fields}

    @cached_property
    def _review_sources(self) -> frozenset:
        """The source records about the review itself (its article pages, its reference list, the
        curators' notes on it): what the review and its own codings rest on, never a study's abstract."""
        basis = {self.iri(b) for b in ("Table1Basis", "ProseBasis")}
        cited = [*self.instances("Review"), *self.instances("ReviewedStudy"),
                 *(c for c in self.instances("Coding") if self.value(c, "basis") in basis)]
        return frozenset(s for c in cited for s in self.values(c, vocab.PROV.wasDerivedFrom))

    def citation_line(self, work, root: str, link: bool = False) -> dict:
        """A study or work as its citation: authors, year, title ("" when the graph has none), venue,
        DOI, the pages its record and its curators' codings cite (its abstract, its record), and its
        place among the reports of one study. link: the title links to the work's own page."""
        volume, issue, pages = (self.text(work, vocab.BIBO[name]) for name in ("volume", "issue", "pages"))
        numbers = volume + (f"({issue})" if issue else "")
        numbers += (":" if numbers and pages else "") + pages
        venue = " ".join(part for part in (self.text(work, "venue"), numbers) if part)
        cited = [*self.subjects("identifiedWork", work),
                 *(c for c in self.subjects("evidenceFrom", work) if self.is_a(c, "CuratorCoding"))]
        sources = {s for c in cited for s in self.values(c, vocab.PROV.wasDerivedFrom)} - self._shared("_review_sources")
        doi = self.text(work, vocab.BIBO.doi)
        study = self.value(work, "reportOf")
        entry = next(iter(self.values(work, "studyEntry") + self.subjects(vocab.BIRO.references, work)), None)
        number = self.value(entry, "referenceNumber")

        def report(w) -> dict:
            return {"view": self.view(w, root), "year": self.text(w, vocab.FABIO.hasPublicationYear)}
        return {
            "view": self.view(work, root), "link": link,
            "authors": ", ".join(a.strip() for a in self.text(work, "authors").split(";") if a.strip()),
            "year": self.text(work, vocab.FABIO.hasPublicationYear), "title": self.text(work, vocab.DCTERMS.title),
            "venue": venue, "doi": doi, "doi_href": f"https://doi.org/{doi}" if doi else None,
            "sources": sorted(({"label": self.label(s), "href": page} for s in sources
                             if (page := self.text(s, vocab.FOAF.page))), key=lambda p: (p["label"], p["href"])),
            "number": number.value if number is not None else None, "entry": self.view(entry, root),
            "study": report(study) if study is not None else None,
            "siblings": [report(r) for r in self.subjects("reportOf", study) if r != work] if study is not None else [],
            "reports": [report(r) for r in self.subjects("reportOf", work)],
        }

    # -- pages --------------------------------------------------------------------------------

    def render_page(self, template: str, path: str, live: bool = False, **context) -> str:
        return self.env.get_template(template).render(root="../" * path.count("/"), path=path, base=self.base,
                                                      version=__version__, licence=LICENCE, live=live, **context)

    @staticmethod
    def formats_of(name: str) -> list[dict]:
        """Links from an HTML document to its RDF siblings (name.ttl, name.jsonld ...)."""
        return [{"suffix": fmt, "name": FORMAT_NAMES[fmt], "media": FORMATS[fmt][0].split(";")[0],
                 "href": f"{name}.{fmt}"} for fmt in ("ttl", "jsonld", "nt", "rdf")]

    def html(self, path: str, live: bool = False) -> str:
        """The HTML document at path (a resource path, or list/KIND)."""
        if path in ("ontology", "codebook"):
            context = self.ontology_context() if path == "ontology" else self.codebook_context()
            return self.render_page(f"{path}.html", path, live=live, **context)
        if path.startswith("list/"):
            return self.render_page("list.html", path, live=live, **self.list_context(path))
        return self.render_page("resource.html", path, live=live, **self.resource_context(path))

    def resource_context(self, path: str) -> dict:
        root = "../" * path.count("/")
        topic = self.topic(path)
        kind = path.split("/")[1] if path.startswith("id/") else "concept"
        types = sorted((self.view(ox.NamedNode(t), root) for t in self.types(topic)), key=lambda v: (v.label.lower(), v.value))
        types = [replace(v, label=v.label[:1].upper() + v.label[1:]) for v in types]  # a list of names, each capitalised
        query_name = self.text(topic, "queryName") if kind == "query" else None
        # the work a page cites first: a study or work itself, or the study a coding is evidence from
        cited = topic if kind in ("study", "work") else None
        if kind in ("coding", "pass-coding"):
            cited = self.value(topic, "evidenceFrom") or self.value(topic, "codedStudy")
        return {
            "title": self.label(topic), "iri": topic.value, "kind": kind, "types": types,
            "citation": self.citation_line(cited, root, link=cited != topic) if cited is not None else None,
            "formats": self.formats_of(path.rsplit("/", 1)[-1]), "codings": self.codings(topic, root),
            "provenance": self.provenance_blocks(topic, kind, root),
            "statements": self.grouped(self.out.get(topic, ()), root),
            "referenced_by": self.grouped(((p, s, graph) for s, p, graph in self.inc.get(topic, ())), root),
            "query_page": f"{root}queries/{query_name}.html" if query_name in self.catalogue else None,
            "show_study": kind not in ("study", "work", "reference", "coding"),
            "list_href": (f"{root}list/{kind}.html" if kind in self._shared("kinds")
                          else f"{root}codebook.html" if kind == "concept" else None),
            "list_title": "Codebook" if kind == "concept" else KIND_TITLES.get(kind, kind),
        }

    def list_paths(self) -> list[str]:
        return [f"list/{kind}" for kind in self.kinds]

    def list_context(self, path: str) -> dict:
        kind = path.split("/", 1)[1]
        root = "../"
        prefix = self.base + f"id/{kind}/"
        members = sorted(self.named_under(prefix), key=lambda s: natural_key(s.value[len(prefix):]))
        columns = LIST_COLUMNS.get(kind, [])
        rows = [{"view": self.view(member, root), "key": member.value[len(prefix):],
                 "cells": [[self.view(v, root) for v in sorted(self.path_values(member, path), key=term_key)]
                           for _, path in columns]}
                for member in members]
        return {"title": KIND_TITLES.get(kind, kind), "kind": kind, "columns": [c for c, _ in columns], "rows": rows}

    def ontology_context(self) -> dict:
        root = ""
        ns = self.ont + "#"
        head = ox.NamedNode(self.ont)
        # A term goes in the section of the first of these classes it has.
        sections = [(vocab.OWL.Class, "Classes"), (vocab.OWL.ObjectProperty, "Object properties"),
                    (vocab.OWL.DatatypeProperty, "Datatype properties"), (None, "Individuals and other terms")]
        groups = {name: [] for _, name in sections}
        # How often the data uses a term: as a predicate, or as a type.
        uses = Counter(p for values in self.out.values() for p, _, _ in values)
        uses.update(o for values in self.out.values() for p, o, _ in values if p.value == TYPE)
        for subject in sorted(self.named_under(ns), key=lambda s: s.value.lower()):
            group = next(name for cls, name in sections if cls is None or self.is_a(subject, cls))
            groups[group].append({
                "name": subject.value[len(ns):], "iri": subject.value, "label": self.label(subject),
                "definition": " ".join(v.value for v in self.values(subject, vocab.SKOS.definition)),
                "parents": self.views(subject, vocab.RDFS.subClassOf, root),
                "domain": self.views(subject, vocab.RDFS.domain, root),
                "range": self.views(subject, vocab.RDFS.range, root),
                "types": [self.view(ox.NamedNode(t), root) for t in sorted(self.types(subject))],
                "uses": uses[subject],
            })
        header = {str(p): self.views(head, p, root) for p in (vocab.DCTERMS.title, vocab.DCTERMS.description,
                  vocab.OWL.versionInfo, vocab.OWL.versionIRI, vocab.DCTERMS.license, vocab.RDFS.seeAlso)}
        return {"title": self.label(head) if head in self.out else "Ontology", "iri": self.ont, "header": header,
                "groups": [(name, terms) for name, terms in groups.items() if terms],
                "formats": self.formats_of("ontology")}

    def codebook_context(self) -> dict:
        root = ""
        ns = self.cb + "#"
        terms = self.named_under(ns)
        schemes = {s.value[len(ns):]: s for s in terms if self.is_a(s, vocab.SKOS.ConceptScheme)}
        members = defaultdict(list)  # scheme -> its concepts
        for concept in terms:
            for scheme in self.values(concept, vocab.SKOS.inScheme):
                members[scheme].append(concept)

        def position(concept):
            pos = self.text(concept, "position")
            return (int(pos) if pos.isdigit() else 10**6, self.label(concept).lower())
        order = ["levels", "kinds", "mechanisms", "theories", "tensions", "countries", "care-settings", "confidence"]
        result = []
        for key in sorted(schemes, key=lambda k: (order.index(k) if k in order else len(order), k)):
            scheme = schemes[key]
            concepts = [{
                "key": concept.value[len(ns):], "view": self.view(concept, root),
                "notation": self.text(concept, vocab.SKOS.notation),
                "definition": " ".join(v.value for v in self.values(concept, vocab.SKOS.definition)),
                "broader": self.views(concept, vocab.SKOS.broader, root),
                "matches": self.views(concept, vocab.SKOS.exactMatch, root),
                "codings": len(self.codings(concept, root)),
            } for concept in sorted(members[scheme], key=position)]
            result.append({"key": key, "view": self.view(scheme, root), "concepts": concepts})
        return {"title": "Codebook", "iri": self.cb, "schemes": result, "formats": self.formats_of("codebook")}

    # -- landing page and dataset description -------------------------------------------------

    @cached_property
    def dataset(self) -> ox.NamedNode:
        return ox.NamedNode(self.base + "id/dataset/licn-kg")

    def citation(self) -> dict:
        """The review as the landing page cites it; {} when the graph has no review."""
        review = next(iter(self.instances("Review")), None)
        if review is None:
            return {}
        return {"authors": ", ".join(self.label(c) for c in self.values(review, vocab.DCTERMS.creator)),
                "year": self.text(review, vocab.DCTERMS.issued)[:4], "title": self.text(review, vocab.DCTERMS.title),
                **{name: self.text(review, vocab.BIBO[name]) for name in ("volume", "issue", "number", "doi")},
                "venue": "International Journal of Integrated Care"}

    def _agent_name(self, subject, predicate: str) -> str:
        agent = self.value(subject, predicate)
        return self.label(agent) if agent is not None else "LICN-KG team"

    def dataset_jsonld(self, downloads: list[dict], citation: dict) -> str:
        """schema.org Dataset markup for dataset search engines."""
        d = self.dataset
        data = {
            "@context": "https://schema.org/", "@type": "Dataset", "@id": d.value,
            "name": self.text(d, vocab.DCTERMS.title) or "LICN-KG",
            "description": self.text(d, vocab.DCTERMS.description), "url": self.base, "identifier": d.value,
            "license": LICENCE, "version": __version__, "isAccessibleForFree": True,
            "keywords": ["integrated care", "integrated care networks", "leadership", "literature review",
                         "evidence map", "knowledge graph", "linked data"],
            "creator": {"@type": "Organization", "name": self._agent_name(d, vocab.DCTERMS.creator)},
            "publisher": {"@type": "Organization", "name": self._agent_name(d, vocab.DCTERMS.publisher)},
            "datePublished": self.text(d, vocab.DCTERMS.issued) or None,
            "dateModified": self.text(d, vocab.DCTERMS.modified) or None,
            "isBasedOn": f"https://doi.org/{citation['doi']}" if citation.get("doi") else None,
            "citation": ("{authors} ({year}). {title}. {venue}, {volume}({issue}):{number}. "
                         "https://doi.org/{doi}".format(**citation)) if citation else None,
            "distribution": [{"@type": "DataDownload", "encodingFormat": item["media"],
                              "contentUrl": self.base + "dumps/" + item["name"]} for item in downloads],
        }
        text = json.dumps({k: v for k, v in data.items() if v is not None}, indent=1, ensure_ascii=False)
        # Escaped so that nothing in it can end the <script> element it stands in.
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

    def landing(self, downloads: list[dict], evidence_map: bool, live: bool = False) -> str:
        citation = self.citation()
        counts = [{"n": len(self.instances(cls)), "what": what,
                   "href": (f"list/{kind}.html" if kind in self.kinds else "studies.html" if kind == "studies"
                            else "codebook.html#mechanisms" if cls == "Mechanism" else None)}
                  for cls, what, kind in LANDING_COUNTS]
        return self.render_page("index.html", "", live=live, title="LICN-KG",
                                description=self.text(self.dataset, vocab.DCTERMS.description),
                                triples=self.triple_count, counts=counts, citation=citation, downloads=downloads,
                                evidence_map=evidence_map, kinds=[(k, KIND_TITLES.get(k, k)) for k in self.kinds],
                                dataset_jsonld=self.dataset_jsonld(downloads, citation), queries=len(self.catalogue))

    def error_page(self, status: int, message: str, path: str = "", live: bool = False) -> str:
        """A 404 or 400 answer for people: the site's frame, what went wrong, where to go instead."""
        title = {404: "Not found", 400: "This request cannot be answered"}.get(status, "Error")
        return self.render_page("error.html", path, live=live, title=title, message=message)

    def dumps_page(self, downloads: list[dict], live: bool = False) -> str:
        return self.render_page("dumps.html", "dumps/index", live=live, title="Downloads", downloads=downloads)

    def search_page(self, live: bool = False) -> str:
        return self.render_page("search.html", "search", live=live, title="Search")

    def prefixes_json(self) -> str:
        """The project's prefixes in the form the SPARQL editor's prefix completion reads (prefix -> IRI)."""
        return json.dumps(dict(sorted(self.prefixes.items())), indent=1) + "\n"

    def sparql_page(self, time_limit: float, cap: int, live: bool = False) -> str:
        """The SPARQL editor (YASGUI, when its assets are installed) or a plain form. The editor gets
        what it shows results with (the prefixes, which IRIs have a page here) and the stored queries
        as examples, each with its parameters' default values, as its page runs it."""
        editor = all((paths.VENDOR / path).is_file() for path in paths.VENDORED.values())
        examples = self.editor_examples()
        data = None
        if editor:
            folders, links = self.editor_pages
            data = {"live": live, "base": self.base, "prefixes_url": "prefixes.json", "example": EXAMPLE_QUERY,
                    # the instance namespace as a prefix for showing results, not among prefixes.json:
                    # its local names (study/ref-7) are no prefixed names a query can use
                    "prefixes": dict(sorted({**self.prefixes, "id": self.base + "id/"}.items())),
                    "folders": folders, "links": links,
                    "examples": {e["name"]: {"text": e["text"], "description": e["description"]} for e in examples}}
        return self.render_page("sparql.html", "sparql", live=live, title="SPARQL endpoint",
                                time_limit=f"{time_limit:g}", cap=cap, example=EXAMPLE_QUERY, editor=editor,
                                examples=examples, editor_data=data)

    def editor_examples(self) -> list[dict]:
        """The stored queries as the editor offers them, by title: name, title, description and text."""
        examples = []
        for query in self.catalogue.values():
            try:
                text = bind(query)
            except QueryError:
                continue
            examples.append({"name": query.name, "title": query.title, "description": query.description, "text": text})
        return sorted(examples, key=lambda e: (e["title"].lower(), e["name"]))

    @cached_property
    def editor_pages(self) -> tuple[dict[str, list[str]], dict[str, str]]:
        """Where the editor links an IRI under the base, relative to the site's root (where the editor
        is): folder -> keys of the documents at folder/key.html (id/study/ -> [ref-1, ...]), and the
        other pages by the IRI's path under the base (ontology#Coding -> ontology.html#Coding). An IRI
        under the base with neither (a named graph) keeps its own link."""
        iris = {term.value for term in (*self.out, *self.inc) if isinstance(term, ox.NamedNode)}
        iris.update(p.value for values in self.out.values() for p, _, _ in values)
        folders, links = defaultdict(list), {"": "index.html", "sparql": "sparql.html", "dumps/": "dumps/index.html"}
        for iri in sorted(i for i in iris if i.startswith(self.base)):
            href = self.href(iri, "")
            if href is None or href == iri:
                continue
            rest = iri[len(self.base):]
            folder, _, key = rest.rpartition("/")
            if folder and href == rest + ".html":
                folders[folder + "/"].append(key)
            else:
                links[rest] = href
        return {folder: sorted(keys, key=natural_key) for folder, keys in sorted(folders.items())}, links

    # -- the studies table and the query catalogue ---------------------------------------------

    def studies_page(self, table, live: bool = False) -> str:
        """The studies table (the `studies` stored query, every study, every coding). The page embeds each
        row as /studies.csv writes it (the same query result through the same CSV writer), so that its
        export of the rows shown is those lines of /studies.csv under the same header."""
        header = format_result(replace(table, rows=[], terms=None), "csv")
        records = [format_result(replace(table, rows=[row], terms=None), "csv")[len(header):] for row in table.rows]
        pairs = [f"{level}-{kind}" for level in LEVEL_ORDER for kind in KIND_ORDER]
        orders = {"levels": LEVEL_ORDER, "kinds": KIND_ORDER, "cells": pairs, "bases": tuple(BASIS_NAMES)}

        def ordered(values, column: str) -> list[str]:
            """Distinct values of a column, in the codebook's order where it has one, else alphabetically."""
            order = orders.get(column, ())
            return sorted(set(values) - {""}, key=lambda v: (order.index(v) if v in order else len(order), v))

        def pair_name(key: str) -> str:
            level, _, kind = key.partition("-")
            return f"{level.capitalize()} × {kind}"

        rows = []
        for values in table.as_dicts():
            data = {k: "true" if v is True else "false" if v is False else "" if v is None else str(v)
                    for k, v in values.items()}
            shown = {k: data[k] for k in ("venue", "reference", "year", "doi", "reports")}
            shown |= {k: ordered(data[k].split(", "), k) for k in STUDY_LISTS}
            shown["cells"] = [pair_name(key) for key in shown["cells"]]
            shown["bases"] = [BASIS_NAMES.get(key, (key, key))[1] for key in shown["bases"]]
            shown |= {k: "yes" if values[k] else "no" for k in ("identified", "reviewed")}
            rows.append({"data": data, "shown": shown, "href": self.href(data["study"], "")})
        # The filters' values, as the data has them: levels from policy to organisation, kinds from media to outcomes.
        present = {k: ordered((v for r in rows for v in r["data"][k].split(", ")), k) for k in ("levels", "kinds", "bases")}
        return self.render_page("studies.html", "studies", live=live, title="Studies", rows=rows,
                                reviewed=sum(r["data"]["reviewed"] == "true" for r in rows),
                                columns=[{"key": k, "label": label, "shown": on} for k, label, on in STUDY_COLUMNS],
                                levels=present["levels"], kinds=present["kinds"],
                                bases=[(key, BASIS_NAMES.get(key, (key, key))[0]) for key in present["bases"]],
                                since=SINCE_YEAR, export={"header": header, "records": records})

    def catalogue_page(self, live: bool = False) -> str:
        return self.render_page("queries.html", "queries", live=live, title="Stored queries",
                                queries=list(self.catalogue.values()))

    def query_page(self, name: str, values: dict, text: str | None, table, error: str | None,
                   live: bool = False) -> str:
        query = self.catalogue[name]
        root = "../"
        rows = [[self.view(cell, root) for cell in row] for row in table.terms] if table is not None else []
        return self.render_page("query.html", f"queries/{name}", live=live, title=query.title, query=query,
                                values={p.name: values.get(p.name, p.default) for p in query.params},
                                text=text, columns=table.columns if table is not None else [], rows=rows,
                                truncated=bool(table is not None and table.truncated), error=error,
                                resource=self.href(self.base + f"id/query/{name}", root),
                                query_string="&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(values.items())),
                                sparql_href=f"{root}sparql?query={quote(text)}" if text else None,
                                editor_href=f"{root}sparql.html#query={quote(text)}" if text else None)
