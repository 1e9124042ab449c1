"""What each published document contains: one place for `licn serve` and the static site.

The graph is read once into an index by subject and by object; a document is the description of
one resource (its own statements, the statements that point at it, and the labels of its
neighbours) as HTML from a Jinja2 template or as RDF from pyoxigraph's serialisers. Links between
HTML documents are relative (`../reference/58.html`), so the same files work from a server, from a
static host and from disk."""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from loaders.vocab import BASE, PREFIXES
from loaders.vocab import LICENCE as LICENCE_IRI

from .. import __version__, paths
from ..dumps import jsonld

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
ACCEPT = [("text/html", "html"), ("text/turtle", "ttl"), ("application/ld+json", "jsonld"), ("application/json", "jsonld"),
          ("application/n-triples", "nt"), ("application/rdf+xml", "rdf"),
          ("application/xhtml+xml", "html"), ("application/x-turtle", "ttl")]

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
VOID_NS = "http://rdfs.org/ns/void#"
PROV = "http://www.w3.org/ns/prov#"
FOAF = "http://xmlns.com/foaf/0.1/"
XSD = "http://www.w3.org/2001/XMLSchema#"
BIRO = "http://purl.org/spar/biro/"
FABIO = "http://purl.org/spar/fabio/"
BIBO = "http://purl.org/ontology/bibo/"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
LICENCE = str(LICENCE_IRI)

PLAIN_TYPES = {XSD + t for t in ("string", "integer", "decimal", "double", "boolean")}
TYPE = RDF + "type"
LABELS = (SKOS + "prefLabel", RDFS + "label", DCT + "title", FOAF + "name", SKOS + "notation")
PROVENANCE = ("sourceNote", "locator", "evidenceStatus", "confidence", "kindStatus", "placementStatus",
              "inferredField", "unverifiedLead")
# What a list page shows beside each resource's label: (column, path of predicates).
LIST_COLUMNS = {
    "study": [("No.", ("ontology#studyEntry", "ontology#referenceNumber")), ("Authors", ("ontology#authors",)),
              ("Year", (FABIO + "hasPublicationYear",)), ("Venue", ("ontology#venue",))],
    "work": [("Authors", ("ontology#authors",)), ("Year", (FABIO + "hasPublicationYear",)), ("Venue", ("ontology#venue",))],
    "reference": [("No.", ("ontology#referenceNumber",)), ("Work", (BIRO + "references",))],
    "coding": [("Level", ("ontology#level",)), ("Kind", ("ontology#kind",)), ("Mechanism", ("ontology#mechanism",)),
               ("Status", ("ontology#evidenceStatus",)), ("Confidence", ("ontology#confidence",))],
    "item": [("Level", ("ontology#level",)), ("Kind", ("ontology#kind",))],
    "claim": [("Level", ("ontology#level",)), ("Kind", ("ontology#kind",))],
    "source": [("Address", (FOAF + "page",))],
    "figure": [("Value", (RDF + "value",)), ("Status", ("ontology#evidenceStatus",))],
}
KIND_TITLES = {
    "study": "Reviewed studies", "reference": "Reference entries", "work": "Works (cited by the review, or studies found since)", "coding": "Codings",
    "item": "Table 1 items", "claim": "Prose claims", "cell": "Table 1 cells", "figure": "Reported figures",
    "source": "Source records", "identification": "Identifications", "setting": "Setting statements",
    "avenue": "Research avenues", "gap": "Knowledge gaps", "method": "Method facts", "query": "Stored queries",
    "review": "The review", "person": "People", "dataset": "Dataset description",
}
EXAMPLE_QUERY = """PREFIX licn: <https://w3id.org/licn/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>

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
                  ("Study", "studies in all (the review's and later ones)", "study"),
                  ("ReferenceEntry", "reference entries", "reference"),
                  ("Coding", "codings", "coding"), ("Table1Item", "Table 1 items", "item"),
                  ("ProseClaim", "prose claims", "claim"), ("Mechanism", "leadership mechanisms", None),
                  ("ReportedFigure", "reported figures", "figure"), ("ResearchAvenue", "research avenues", "avenue"),
                  ("KnowledgeGap", "recorded knowledge gaps", "gap"), ("Source", "source records", "source")]


def dump_list(dist: Path) -> list[dict]:
    """The dumps in dist/ that the landing and download pages offer, with their sizes."""
    from ..dumps import DUMPS
    from .exports import EXPORTS
    found = []
    for name, media in sorted((d.name, d.media) for d in DUMPS) + [("void.ttl", "text/turtle")] + sorted(EXPORTS.items()):
        path = Path(dist) / name
        if path.exists():
            size = path.stat().st_size
            found.append({"name": name, "media": media, "bytes": size,
                          "size": f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"})
    return found


def natural_key(text: str):
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part]


def term_key(term):
    if isinstance(term, ox.NamedNode):
        return (0, term.value, "", "")
    if isinstance(term, ox.BlankNode):
        return (1, term.value, "", "")
    return (2, term.value, term.language or "", term.datatype.value if term.datatype else "")


def triple_key(t):
    return (term_key(t.subject), term_key(t.predicate), term_key(t.object))


def best_type(accept: str | None, offers: list[tuple[str, str]] = ACCEPT) -> str | None:
    """The offered format a client's Accept header prefers (q-values honoured, ties by offer order);
    None when it accepts none. No header, or */*, gets the first offer."""
    if not accept or not accept.strip():
        return offers[0][1]
    ranges = []
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((media, q))
    best, best_q = None, 0.0
    for media, key in offers:
        kind = media.split("/")[0]
        match_q, specificity = None, -1
        for rng, q in ranges:
            spec = 2 if rng == media else 1 if rng == f"{kind}/*" else 0 if rng == "*/*" else -1
            if spec > specificity:
                match_q, specificity = q, spec
        if match_q is not None and match_q > best_q:
            best, best_q = key, match_q
    return best


@dataclass(frozen=True)
class View:
    """A term as a page shows it."""
    kind: str  # iri, bnode, literal
    value: str
    label: str
    href: str | None = None
    note: str = ""  # language tag or short datatype of a literal
    external: bool = False

    @property
    def multiline(self) -> bool:
        return self.kind == "literal" and "\n" in self.value


def render_term(v: View | None) -> Markup:
    """A term as inline HTML: a link to its document, or the literal with its language or datatype."""
    if v is None:
        return Markup('<span class="none">–</span>')
    if v.kind == "literal":
        html = (f'<pre class="literal">{escape(v.value)}</pre>' if v.multiline
                else f'<span class="literal">{escape(v.value)}</span>')
        return Markup(html + (f' <span class="note">{escape(v.note)}</span>' if v.note else ""))
    if v.kind == "bnode":
        return Markup(f'<span class="bnode">{escape(v.label)}</span>')
    if v.href:
        external = ' class="external"' if v.external else ""
        return Markup(f'<a href="{escape(v.href)}"{external} title="{escape(v.value)}">{escape(v.label)}</a>')
    return Markup(f'<span class="iri" title="{escape(v.value)}">{escape(v.label)}</span>')


def render_terms(views) -> Markup:
    views = list(views or [])
    if not views:
        return render_term(None)
    return Markup("; ").join(render_term(v) for v in views)


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
        self.graph_sizes = defaultdict(int)  # named graph IRI -> number of triples
        for quad in quads:
            if isinstance(quad.graph_name, ox.NamedNode):
                self.graph_sizes[quad.graph_name.value] += 1
        seen = set()
        for quad, graph in [(q, self._graph_label(q.graph_name)) for q in quads] + [(q, "void.ttl") for q in extra]:
            key = (quad.subject, quad.predicate, quad.object, graph)
            if key in seen:
                continue
            seen.add(key)
            self.out[quad.subject].append((quad.predicate, quad.object, graph))
            if not isinstance(quad.object, ox.Literal):
                self.inc[quad.object].append((quad.subject, quad.predicate, graph))
        self.triple_count = len({(q.subject, q.predicate, q.object) for q in quads})
        for values in self.out.values():
            values.sort(key=lambda v: (term_key(v[0]), term_key(v[1]), v[2]))
        for values in self.inc.values():
            values.sort(key=lambda v: (term_key(v[0]), term_key(v[1]), v[2]))
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        self.env.globals.update(term=render_term, terms=render_terms)
        self.prefixes = {k: str(v) for k, v in PREFIXES.items() if not str(v).startswith(BASE)}
        self.prefixes.update({"licn": self.ont + "#", "cb": self.cb + "#"})

    @classmethod
    def from_dist(cls, dist: Path, base: str = BASE, catalogue=None) -> Documents:
        quads = list(ox.parse(path=str(Path(dist) / "licn.nq"), format=ox.RdfFormat.N_QUADS))
        void = Path(dist) / "void.ttl"
        extra = [ox.Quad(t.subject, t.predicate, t.object) for t in ox.parse(path=str(void), format=ox.RdfFormat.TURTLE)] if void.exists() else []
        return cls(quads, base, extra, catalogue)

    def _graph_label(self, graph) -> str:
        if isinstance(graph, ox.NamedNode):
            value = graph.value
            return value.removeprefix(self.base + "graph/")
        return "default graph"

    # -- looking things up ------------------------------------------------------------------

    def iri(self, name: str) -> ox.NamedNode:
        """A full IRI as it is, or a name under the base such as 'ontology#Study'."""
        return ox.NamedNode(name if "://" in name else self.base + name)

    def values(self, subject, predicate: str) -> list:
        p = self.iri(predicate)
        return [o for (pp, o, _) in self.out.get(subject, ()) if pp == p]

    def value(self, subject, predicate: str):
        found = self.values(subject, predicate)
        return found[0] if found else None

    def path_values(self, subject, path) -> list:
        nodes = [subject]
        for predicate in path:
            nodes = [o for n in nodes for o in self.values(n, predicate)]
        return nodes

    def subjects(self, predicate: str, obj) -> list:
        p = self.iri(predicate)
        return sorted({s for (s, pp, _) in self.inc.get(obj, ()) if pp == p}, key=term_key)

    def types(self, subject) -> set[str]:
        return self._types.get(subject, frozenset())

    @cached_property
    def _types(self) -> dict:
        found = defaultdict(set)
        for subject, values in self.out.items():
            for p, o, _ in values:
                if p.value == TYPE and isinstance(o, ox.NamedNode):
                    found[subject].add(o.value)
        return {s: frozenset(t) for s, t in found.items()}

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
        best = ""
        for prefix, ns in self.prefixes.items():
            if iri.startswith(ns) and len(ns) > len(best) and re.fullmatch(r"[\w.-]*", iri[len(ns):]):
                best, name = ns, f"{prefix}:{iri[len(ns):]}"
        return name if best else iri

    def label(self, term) -> str:
        if isinstance(term, ox.Literal):
            return term.value
        found = self._labels.get(term)
        if found:
            return found
        if isinstance(term, ox.NamedNode):
            return self.curie(term.value)
        return "_:" + term.value

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
        if iri.startswith(self.cb + "#") and not self._is_scheme(iri):
            return f"{root}codebook/{iri[len(self.cb) + 1:]}.html" if ox.NamedNode(iri) in self.out else None
        if iri.startswith(self.cb + "#"):
            return f"{root}codebook.html#{iri[len(self.cb) + 1:]}"
        path = self.doc_path(iri)
        if path is not None:
            return f"{root}{path}.html"
        if iri.startswith(self.base):
            return None
        return iri if iri.startswith(("http://", "https://")) else None

    def _is_scheme(self, iri: str) -> bool:
        return SKOS + "ConceptScheme" in self.types(ox.NamedNode(iri))

    @cached_property
    def resource_paths(self) -> list[str]:
        """Every document with RDF serialisations, sorted."""
        paths = {"ontology", "codebook"}
        for subject in self.out:
            if isinstance(subject, ox.NamedNode):
                path = self.doc_path(subject.value)
                if path:
                    paths.add(path)
        return sorted(paths, key=natural_key)

    @cached_property
    def kinds(self) -> list[str]:
        """The kinds of instance (id/KIND/...) there are list pages for, in the order of KIND_TITLES."""
        order = list(KIND_TITLES)
        found = {p.split("/")[1] for p in self.resource_paths if p.startswith("id/")}
        return sorted(found, key=lambda k: (order.index(k) if k in order else len(order), k))

    def topic(self, path: str) -> ox.NamedNode:
        if path.startswith("codebook/"):
            return ox.NamedNode(self.cb + "#" + path[len("codebook/"):])
        return ox.NamedNode(self.base + path)

    def triples(self, path: str) -> list:
        """The RDF content of a document: for ontology and codebook every statement about their
        terms; for one resource its statements, those pointing at it and its neighbours' labels."""
        found = set()
        if path in ("ontology", "codebook"):
            ns = self.ont if path == "ontology" else self.cb + "#"
            for subject, values in self.out.items():
                if isinstance(subject, ox.NamedNode) and subject.value.startswith(ns):
                    found.update(ox.Triple(subject, p, o) for p, o, _ in values)
            return sorted(found, key=triple_key)
        topic = self.topic(path)
        neighbours = set()
        for p, o, _ in self.out.get(topic, ()):
            found.add(ox.Triple(topic, p, o))
            neighbours.update([p, o])
        for s, p, _ in self.inc.get(topic, ()):
            found.add(ox.Triple(s, p, topic))
            neighbours.update([s, p])
        neighbours.discard(topic)
        for node in neighbours:
            found.update(self._label_triples.get(node, ()))
        dataset = ox.NamedNode(self.base + "id/dataset/licn-kg")
        found.update([ox.Triple(topic, ox.NamedNode(VOID_NS + "inDataset"), dataset),
                      ox.Triple(dataset, ox.NamedNode(DCT + "license"), ox.NamedNode(LICENCE))])
        return sorted(found, key=lambda t: (t.subject != topic, triple_key(t)))

    @cached_property
    def _label_triples(self) -> dict:
        """node -> its rdfs:label and skos:prefLabel statements (what a document says of its neighbours)."""
        found = defaultdict(list)
        for subject, values in self.out.items():
            for p, o, _ in values:
                if p.value in (RDFS + "label", SKOS + "prefLabel"):
                    found[subject].append(ox.Triple(subject, p, o))
        return found

    def rdf(self, path: str, fmt: str, triples: list | None = None) -> bytes:
        """The document at path in an RDF format (a suffix of FORMATS); triples if already known."""
        triples = self.triples(path) if triples is None else triples
        rdf_format = FORMATS[fmt][1]
        prefixes = None
        if rdf_format != ox.RdfFormat.N_TRIPLES:
            used = set()
            for triple in triples:
                for term in (triple.subject, triple.predicate, triple.object):
                    iri = term.value if isinstance(term, ox.NamedNode) else term.datatype.value if isinstance(term, ox.Literal) and term.datatype else None
                    if iri:
                        used.add(iri[:max(iri.rfind("#"), iri.rfind("/")) + 1])
            by_namespace = {ns: prefix for prefix, ns in self.prefixes.items()}
            prefixes = dict(sorted((by_namespace[ns], ns) for ns in used if ns in by_namespace))
        if rdf_format == ox.RdfFormat.JSON_LD:  # compacted with the prefixes it uses as its context
            return jsonld(triples, prefixes).encode("utf-8")
        return ox.serialize(triples, format=rdf_format, prefixes=prefixes) or b""

    # -- views for templates -----------------------------------------------------------------

    def view(self, term, root: str) -> View:
        key = (term, root)
        found = self._views.get(key)
        if found is None:
            found = self._views[key] = self._view(term, root)
        return found

    @cached_property
    def _views(self) -> dict:
        return {}

    def _view(self, term, root: str) -> View:
        if isinstance(term, ox.Literal):
            note = f"@{term.language}" if term.language else ""
            if term.datatype and not term.language and term.datatype.value not in PLAIN_TYPES:
                note = self.curie(term.datatype.value)
            return View("literal", term.value, term.value, note=note)
        if isinstance(term, ox.BlankNode):
            return View("bnode", term.value, "_:" + term.value)
        href = self.href(term.value, root)
        external = href is not None and href == term.value
        return View("iri", term.value, self.label(term), href, external=external)

    def predicate_view(self, predicate, root: str) -> View:
        view = self.view(predicate, root)
        label, curie = self.label(predicate), self.curie(predicate.value)
        return View("iri", predicate.value, label, view.href, note=curie if curie != label else "", external=view.external)

    def provenance(self, subject, root: str) -> dict | None:
        sources = []
        for source in self.values(subject, PROV + "wasDerivedFrom"):
            page = self.value(source, FOAF + "page")
            sources.append({"view": self.view(source, root), "page": page.value if page is not None else None,
                            "comment": (self.value(source, RDFS + "comment") or ox.Literal("")).value})
        fields = {}
        for name in PROVENANCE:
            found = self.values(subject, "ontology#" + name)
            if found:
                fields[name] = [self.view(v, root) for v in found]
        if not sources and not fields:
            return None
        return {"sources": sources, **{k: fields.get(k, []) for k in PROVENANCE}}

    def provenance_blocks(self, topic, kind: str, root: str) -> list[dict]:
        """Where each part of a resource comes from. For a study or work: first where its
        bibliographic record was seen, then why it is a study of the review (or how a search found
        it); its codings, each with its basis, follow in their own table."""
        empty = {name: [] for name in PROVENANCE} | {"sources": [], "search": None, "reason": []}
        blocks = []
        if kind in ("study", "work"):
            for identification in sorted(self.subjects("ontology#identifiedWork", topic), key=term_key):
                found = self.provenance(identification, root)
                if found:
                    blocks.append({**empty, "heading": "Where its bibliographic record was seen", **found})
            own = self.provenance(topic, root)
            if own:
                blocks.append({**empty, "heading": "Why it counts as one of the review's studies", **own})
            for decision in sorted(self.subjects("ontology#screenedWork", topic), key=term_key):
                search = self.value(decision, "ontology#search")
                blocks.append({**empty, "heading": "How a search beyond the review found it",
                               "search": self.view(search, root) if search is not None else None,
                               "reason": [self.view(v, root) for v in self.values(decision, "ontology#reason")]})
            return blocks
        own = self.provenance(topic, root)
        return [{**empty, "heading": "Where this comes from", **own}] if own else []

    def statements(self, subject, root: str) -> list[dict]:
        groups = defaultdict(list)
        for predicate, obj, graph in self.out.get(subject, ()):
            groups[predicate].append((obj, graph))
        return self._grouped(groups, root)

    def referenced_by(self, subject, root: str) -> list[dict]:
        groups = defaultdict(list)
        for s, predicate, graph in self.inc.get(subject, ()):
            groups[predicate].append((s, graph))
        return self._grouped(groups, root)

    def _grouped(self, groups, root: str) -> list[dict]:
        def order(predicate):
            first = {TYPE: 0, RDFS + "label": 1, SKOS + "prefLabel": 1, DCT + "title": 2}.get(predicate.value, 3)
            return (first, self.label(predicate).lower(), predicate.value)
        rows = []
        for predicate in sorted(groups, key=order):
            merged = defaultdict(list)
            for term, graph in groups[predicate]:
                merged[term].append(graph)
            values = [{"view": self.view(t, root), "graphs": sorted(set(g))} for t, g in merged.items()]
            values.sort(key=lambda v: (natural_key(v["view"].label.lower()), v["view"].value))
            rows.append({"predicate": self.predicate_view(predicate, root), "values": values})
        return rows

    def entries_of(self, subject) -> set:
        """The reference entries a resource stands for: itself, its study entry, the entries citing it."""
        entries = set(self.values(subject, "ontology#studyEntry")) | set(self.subjects(BIRO + "references", subject))
        if self.ont + "#ReferenceEntry" in self.types(subject):
            entries.add(subject)
        return entries

    def codings(self, subject, root: str) -> list[dict]:
        """The codings related to a resource: those pointing at it, and those citing its entries."""
        coding_type = self.ont + "#Coding"
        found = {s for (s, _, _) in self.inc.get(subject, ()) if coding_type in self.types(s)}
        for entry in self.entries_of(subject):
            found.update(s for s in self.subjects("ontology#citesEntry", entry) if coding_type in self.types(s))
        found.discard(subject)
        rows = []
        for coding in found:
            entry = self.value(coding, "ontology#citesEntry")
            number = self.value(entry, "ontology#referenceNumber") if entry is not None else None
            study = (self.subjects("ontology#studyEntry", entry) or self.values(entry, BIRO + "references") or [None])[0] if entry is not None else None

            def one(predicate, coding=coding):
                value = self.value(coding, predicate)
                return self.view(value, root) if value is not None else None
            rows.append({
                "coding": self.view(coding, root), "number": int(number.value) if number is not None else None,
                "entry": self.view(entry, root) if entry is not None else None,
                "study": self.view(study, root) if study is not None else None,
                "level": one("ontology#level"), "kind": one("ontology#kind"), "mechanism": one("ontology#mechanism"),
                "claim": one("ontology#claim"),
                "basis": one("ontology#basis") if self.value(coding, "ontology#claim") is None else None,
                "status": one("ontology#evidenceStatus"),
                "confidence": one("ontology#confidence"),
                "sources": [self.view(s, root) for s in self.values(coding, PROV + "wasDerivedFrom")],
            })
        rows.sort(key=lambda r: (r["number"] if r["number"] is not None else 10**9, r["coding"].value))
        return rows

    # -- pages --------------------------------------------------------------------------------

    def render_page(self, template: str, path: str, **context) -> str:
        depth = path.count("/")
        root = "../" * depth
        context.setdefault("live", False)
        return self.env.get_template(template).render(
            root=root, path=path, base=self.base, version=__version__, licence=LICENCE, **context)

    @staticmethod
    def formats_of(name: str) -> list[dict]:
        """Links from an HTML document to its RDF siblings (name.ttl, name.jsonld ...)."""
        return [{"suffix": fmt, "name": FORMAT_NAMES[fmt], "media": FORMATS[fmt][0].split(";")[0],
                 "href": f"{name}.{fmt}"} for fmt in ("ttl", "jsonld", "nt", "rdf")]

    def html(self, path: str, live: bool = False) -> str:
        """The HTML document at path (a resource path, or list/KIND)."""
        if path == "ontology":
            return self.render_page("ontology.html", path, live=live, **self.ontology_context())
        if path == "codebook":
            return self.render_page("codebook.html", path, live=live, **self.codebook_context())
        if path.startswith("list/"):
            return self.render_page("list.html", path, live=live, **self.list_context(path))
        return self.render_page("resource.html", path, live=live, **self.resource_context(path))

    def resource_context(self, path: str) -> dict:
        root = "../" * path.count("/")
        topic = self.topic(path)
        name = path.rsplit("/", 1)[-1]
        kind = path.split("/")[1] if path.startswith("id/") else "concept"
        types = sorted((self.view(ox.NamedNode(t), root) for t in self.types(topic)), key=lambda v: v.label.lower())
        query_page = None
        if kind == "query":
            query_name = self.value(topic, "ontology#queryName")
            if query_name is not None and query_name.value in self.catalogue:
                query_page = f"{root}queries/{query_name.value}.html"
        return {
            "title": self.label(topic), "iri": topic.value, "kind": kind, "types": types,
            "formats": self.formats_of(name), "provenance": self.provenance_blocks(topic, kind, root),
            "statements": self.statements(topic, root), "referenced_by": self.referenced_by(topic, root),
            "codings": self.codings(topic, root), "query_page": query_page,
            "show_study": kind not in ("study", "work", "reference"),
            "list_href": f"{root}list/{kind}.html" if kind in self.kinds else f"{root}codebook.html" if kind == "concept" else None,
            "list_title": "Codebook" if kind == "concept" else KIND_TITLES.get(kind, kind),
        }

    def list_paths(self) -> list[str]:
        return [f"list/{kind}" for kind in self.kinds]

    def list_context(self, path: str) -> dict:
        kind = path.split("/", 1)[1]
        root = "../"
        prefix = self.base + f"id/{kind}/"
        members = sorted((s for s in self.out if isinstance(s, ox.NamedNode) and s.value.startswith(prefix)),
                         key=lambda s: natural_key(s.value[len(prefix):]))
        columns = LIST_COLUMNS.get(kind, [])
        rows = []
        for member in members:
            cells = []
            for _, pred_path in columns:
                found = self.path_values(member, pred_path)
                cells.append([self.view(v, root) for v in sorted(found, key=term_key)])
            rows.append({"view": self.view(member, root), "key": member.value[len(prefix):], "cells": cells})
        return {"title": KIND_TITLES.get(kind, kind), "kind": kind, "columns": [c for c, _ in columns], "rows": rows}

    def ontology_context(self) -> dict:
        root = ""
        ns = self.ont + "#"
        head = ox.NamedNode(self.ont)
        groups = {"Classes": [], "Object properties": [], "Datatype properties": [], "Individuals and other terms": []}
        uses = defaultdict(int)
        for values in self.out.values():
            for p, o, _ in values:
                uses[p] += 1
                if p.value == TYPE:
                    uses[o] += 1
        for subject in sorted((s for s in self.out if isinstance(s, ox.NamedNode) and s.value.startswith(ns)), key=lambda s: s.value.lower()):
            types = self.types(subject)
            group = ("Classes" if OWL + "Class" in types else "Object properties" if OWL + "ObjectProperty" in types
                     else "Datatype properties" if OWL + "DatatypeProperty" in types else "Individuals and other terms")
            def views(predicate, subject=subject):
                return [self.view(v, root) for v in self.values(subject, predicate)]
            groups[group].append({
                "name": subject.value[len(ns):], "iri": subject.value, "label": self.label(subject),
                "definition": " ".join(v.value for v in self.values(subject, SKOS + "definition")),
                "parents": views(RDFS + "subClassOf"), "domain": views(RDFS + "domain"), "range": views(RDFS + "range"),
                "types": [self.view(ox.NamedNode(t), root) for t in sorted(types)],
                "uses": uses.get(subject, 0),
            })
        header = {p: [self.view(v, root) for v in self.values(head, p)] for p in
                  (DCT + "title", DCT + "description", OWL + "versionInfo", OWL + "versionIRI", DCT + "license", RDFS + "seeAlso")}
        return {"title": self.label(head) if head in self.out else "Ontology", "iri": self.ont, "header": header,
                "groups": [(name, terms) for name, terms in groups.items() if terms],
                "formats": self.formats_of("ontology")}

    def codebook_context(self) -> dict:
        root = ""
        ns = self.cb + "#"
        schemes = []
        members = defaultdict(list)
        for subject in self.out:
            if not (isinstance(subject, ox.NamedNode) and subject.value.startswith(ns)):
                continue
            if SKOS + "ConceptScheme" in self.types(subject):
                schemes.append(subject)
            for scheme in self.values(subject, SKOS + "inScheme"):
                members[scheme].append(subject)

        def position(concept):
            pos = self.value(concept, "ontology#position")
            return (int(pos.value) if pos is not None and pos.value.isdigit() else 10**6, self.label(concept).lower())
        result = []
        order = ["levels", "kinds", "mechanisms", "theories", "tensions", "countries", "care-settings", "confidence"]
        for scheme in sorted(schemes, key=lambda s: (order.index(s.value[len(ns):]) if s.value[len(ns):] in order else len(order), s.value)):
            concepts = []
            for concept in sorted(members[scheme], key=position):
                concepts.append({
                    "key": concept.value[len(ns):], "view": self.view(concept, root),
                    "notation": (self.value(concept, SKOS + "notation") or ox.Literal("")).value,
                    "definition": " ".join(v.value for v in self.values(concept, SKOS + "definition")),
                    "broader": [self.view(v, root) for v in self.values(concept, SKOS + "broader")],
                    "matches": [self.view(v, root) for v in self.values(concept, SKOS + "exactMatch")],
                    "codings": len(self.codings(concept, root)),
                })
            result.append({"key": scheme.value[len(ns):], "view": self.view(scheme, root), "concepts": concepts})
        return {"title": "Codebook", "iri": self.cb, "schemes": result, "formats": self.formats_of("codebook")}

    # -- landing page and dataset description -------------------------------------------------

    @cached_property
    def dataset(self) -> ox.NamedNode:
        return ox.NamedNode(self.base + "id/dataset/licn-kg")

    @cached_property
    def review(self) -> ox.NamedNode | None:
        found = self.instances("ontology#Review")
        return found[0] if found else None

    def citation(self) -> dict:
        review = self.review
        if review is None:
            return {}
        def text(predicate):
            value = self.value(review, predicate)
            return value.value if value is not None else ""
        creators = [self.label(c) for c in self.values(review, DCT + "creator")]
        issued = text(DCT + "issued")[:4]
        return {"authors": ", ".join(creators), "year": issued, "title": text(DCT + "title"),
                "volume": text(BIBO + "volume"), "issue": text(BIBO + "issue"), "number": text(BIBO + "number"),
                "doi": text(BIBO + "doi"), "venue": "International Journal of Integrated Care",
                "view": self.view(review, "")}

    def counts(self) -> list[dict]:
        rows = []
        for cls, what, kind in LANDING_COUNTS:
            n = len(self.instances("ontology#" + cls))
            rows.append({"n": n, "what": what, "href": f"list/{kind}.html" if kind in self.kinds else
                         ("codebook.html#mechanisms" if cls == "Mechanism" else None)})
        return rows

    def dataset_jsonld(self, downloads: list[dict], citation: dict) -> str:
        """schema.org Dataset markup for dataset search engines."""
        d = self.dataset
        def text(predicate):
            value = self.value(d, predicate)
            return value.value if value is not None else ""
        data = {
            "@context": "https://schema.org/", "@type": "Dataset", "@id": d.value,
            "name": text(DCT + "title") or "LICN-KG", "description": text(DCT + "description"),
            "url": self.base, "identifier": d.value, "license": LICENCE, "version": __version__,
            "isAccessibleForFree": True,
            "keywords": ["integrated care", "integrated care networks", "leadership", "literature review",
                         "evidence map", "knowledge graph", "linked data"],
            "creator": {"@type": "Organization", "name": "LICN-KG team"},
            "isBasedOn": f"https://doi.org/{citation['doi']}" if citation.get("doi") else None,
            "citation": (f"{citation['authors']} ({citation['year']}). {citation['title']}. {citation['venue']}, "
                         f"{citation['volume']}({citation['issue']}):{citation['number']}. https://doi.org/{citation['doi']}") if citation else None,
            "distribution": [{"@type": "DataDownload", "encodingFormat": item["media"], "contentUrl": self.base + "dumps/" + item["name"]}
                             for item in downloads],
        }
        data = {k: v for k, v in data.items() if v is not None}
        return json.dumps(data, indent=1, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

    def landing(self, downloads: list[dict], evidence_map: bool, live: bool = False) -> str:
        citation = self.citation()
        d = self.dataset
        description = self.value(d, DCT + "description")
        return self.render_page("index.html", "", live=live, title="LICN-KG",
                            description=description.value if description is not None else "",
                            triples=self.triple_count, counts=self.counts(), citation=citation, downloads=downloads,
                            evidence_map=evidence_map, kinds=[(k, KIND_TITLES.get(k, k)) for k in self.kinds],
                            dataset_jsonld=self.dataset_jsonld(downloads, citation),
                            queries=len(self.catalogue))

    def dumps_page(self, downloads: list[dict], live: bool = False) -> str:
        return self.render_page("dumps.html", "dumps/index", live=live, title="Downloads", downloads=downloads)

    def search_page(self, live: bool = False) -> str:
        return self.render_page("search.html", "search", live=live, title="Search")

    def prefixes_json(self) -> str:
        """The project's prefixes in the form the SPARQL editor's prefix completion reads (prefix -> IRI)."""
        return json.dumps(dict(sorted(self.prefixes.items())), indent=1) + "\n"

    def sparql_page(self, time_limit: float, cap: int, live: bool = False) -> str:
        """The SPARQL editor (YASGUI, when its assets are installed) or a plain form."""
        editor = all((paths.VENDOR / path).is_file() for path in paths.VENDORED.values())
        return self.render_page("sparql.html", "sparql", live=live, title="SPARQL endpoint", time_limit=f"{time_limit:g}",
                                cap=cap, example=EXAMPLE_QUERY, editor=editor, prefixes=self.prefixes)

    # -- the studies table --------------------------------------------------------------------

    STUDY_COLUMNS = [("reference", "No."), ("label", "Title or label"), ("authors", "Authors"), ("year", "Year"),
                     ("venue", "Venue"), ("levels", "Levels"), ("kinds", "Kinds"), ("mechanisms", "Mechanisms"),
                     ("countries", "Countries"), ("settings", "Care settings"), ("identified", "Identified"),
                     ("reviewed", "Reviewed"), ("bases", "Basis")]

    def studies_page(self, table, live: bool = False) -> str:
        """The studies table (the `studies` stored query, every study, every coding)."""
        root = ""
        rows, levels, kinds = [], set(), set()
        for row in table.as_dicts():
            values = {k: ("yes" if v is True else "no" if v is False else str(v)) for k, v in row.items()}
            levels.update(filter(None, values["levels"].split(", ")))
            kinds.update(filter(None, values["kinds"].split(", ")))
            rows.append({"cells": values, "href": self.href(row["study"], root)})
        order = {"policy": 0, "network": 1, "organisation": 2, "media": 0, "practices": 1, "activities": 2, "outcomes": 3}
        return self.render_page("studies.html", "studies", live=live, title="Studies", rows=rows,
                                reviewed=sum(r["cells"]["reviewed"] == "yes" for r in rows),
                                columns=[{"key": k, "label": label} for k, label in self.STUDY_COLUMNS],
                                levels=sorted(levels, key=order.get), kinds=sorted(kinds, key=order.get))

    # -- query catalogue ----------------------------------------------------------------------

    def catalogue_page(self, live: bool = False) -> str:
        queries = [{"name": q.name, "title": q.title, "description": q.description, "params": q.params,
                    "form": q.form} for q in self.catalogue.values()]
        return self.render_page("queries.html", "queries", live=live, title="Stored queries", queries=queries)

    def query_page(self, name: str, values: dict, text: str | None, table, error: str | None, live: bool = False) -> str:
        query = self.catalogue[name]
        root = "../"
        rows = []
        if table is not None:
            for row in table.terms:
                rows.append([self._plain_view(cell, root) for cell in row])
        from urllib.parse import quote
        return self.render_page("query.html", f"queries/{name}", live=live, title=query.title, query=query,
                            values={p.name: values.get(p.name, p.default) for p in query.params},
                            text=text, columns=table.columns if table is not None else [], rows=rows,
                            truncated=bool(table is not None and table.truncated), error=error,
                            resource=self.href(self.base + f"id/query/{name}", root),
                            query_string="&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(values.items())),
                            sparql_href=f"{root}sparql?query={quote(text)}" if text else None,
                            editor_href=f"{root}sparql.html#query={quote(text)}" if text else None)

    def _plain_view(self, cell, root: str) -> View | None:
        if cell is None:
            return None
        if isinstance(cell, ox.BlankNode):
            return View("bnode", cell.value, "_:" + cell.value)
        return self.view(cell, root)
