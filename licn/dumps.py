"""Deterministic serialisations of the dataset and its VoID/DCAT description."""
from __future__ import annotations

import contextlib
import gc
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, XSD
from rdflib.plugins.serializers.nt import _quoteLiteral
from rdflib.plugins.serializers.turtle import TurtleSerializer

from loaders.vocab import BASE, DCAT, GRAPH, ID, PREFIXES, VOID, review_iri

if TYPE_CHECKING:
    from .dataset import BuiltGraph


_RDF_FIRST, _RDF_REST, _RDF_NIL, _RDF_TYPE = RDF.first, RDF.rest, RDF.nil, RDF.type
_RDFS_CLASS, _RDFS_LABEL = RDFS.Class, RDFS.label
LICENCE = URIRef("https://creativecommons.org/licenses/by/4.0/")
DATASET = ID["dataset/licn-kg"]
DUMPS = {
    "licn.ttl": "text/turtle",
    "licn.nt": "application/n-triples",
    "licn.nq": "application/n-quads",
    "licn.trig": "application/trig",
    "licn.jsonld": "application/ld+json",
}


def write_sorted_lines(path: Path, rows: list[str], errors: str) -> None:
    """The rows sorted, each once (sorted in place: at scale there is no room for a copy)."""
    rows.sort()
    with open(path, "w", encoding="utf-8", errors=errors) as f:
        f.writelines(row for i, row in enumerate(rows) if not i or row != rows[i - 1])


@contextlib.contextmanager
def gc_paused():
    """No cyclic garbage collection inside: the writers allocate millions of short strings and
    tuples, and with a large graph in memory every collection walks all of it (at 10^4 studies
    that made the dumps about a quarter slower). Collection resumes, and catches up, afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_dumps(data: BuiltGraph, out: Path) -> None:
    """Write every dump into out/."""
    with gc_paused():
        _write_dumps(data, out)


def _write_dumps(data: BuiltGraph, out: Path) -> None:
    triples = list(data.union)  # listed once and shared by the writers
    n3 = _N3()
    # N-Triples is strict, as rdflib's writer refuses what UTF-8 cannot encode; N-Quads writes '?' as rdflib's does
    write_sorted_lines(out / "licn.nt", ntriple_rows(triples, n3), errors="strict")
    write_sorted_lines(out / "licn.nq", nquad_rows(data, n3), errors="replace")
    del n3
    (out / "licn.ttl").write_text(turtle(data, triples), encoding="utf-8")
    (out / "licn.trig").write_text(trig(data), encoding="utf-8")
    (out / "licn.jsonld").write_text(jsonld(data, triples), encoding="utf-8")


# The writers below give exactly the text rdflib's serialisers give (N-Triples, N-Quads, Turtle,
# JSON-LD), without going through rdflib's store for every term: each term is formatted once and
# the statements are grouped in one pass. Where a graph holds something these writers do not
# handle (blank nodes, RDF lists, prefixes rdflib would have to invent, objects that sort as
# equal), they hand the graph to rdflib itself.

class _N3(dict):
    """term -> its N-Triples form (term.n3()), computed once per term."""

    def __missing__(self, term):
        text = self[term] = term.n3()
        return text


def _replace_unencodable(text: str) -> str:
    """What rdflib's writers do with text UTF-8 cannot encode (lone surrogates): '?'."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def ntriple_rows(triples, n3: _N3 | None = None) -> list[str]:
    """One line per statement, as rdflib's N-Triples writer gives it, in the order given."""
    n3 = n3 if n3 is not None else _N3()
    return [f"{n3[s]} {n3[p]} {_quoteLiteral(o) if isinstance(o, Literal) else n3[o]} .\n" for s, p, o in triples]


def nquad_rows(data: BuiltGraph, n3: _N3 | None = None) -> list[str]:
    """One line per statement of every named graph, as rdflib's N-Quads writer gives it (unsorted)."""
    n3 = n3 if n3 is not None else _N3()
    rows = []
    for name, triples in data.graphs.items():
        g = name.n3()
        rows += [f"{n3[s]} {n3[p]} {_quoteLiteral(o) if isinstance(o, Literal) else n3[o]} {g} .\n"
                 for s, p, o in triples]
    return rows


def turtle(data: BuiltGraph, triples=None) -> str:
    """The union as rdflib's Turtle writer gives it."""
    text = _turtle(triples if triples is not None else data.union, _fresh_prefix_graph())
    return text if text is not None else data.union_graph().serialize(format="turtle")


def _turtle(triples, nsgraph: Graph) -> str | None:
    """rdflib's Turtle for these triples with the prefixes bound in nsgraph, or None where rdflib
    itself must write it. Follows rdflib's TurtleSerializer step by step: subjects ordered by
    (references, term), predicates rdf:type and rdfs:label first then sorted, objects sorted."""
    if nsgraph.base is not None:
        return None
    ser = TurtleSerializer(nsgraph)
    ser.reset()
    get_pname = ser.get_pname
    subjects: dict = {}
    references: dict = {}
    for s, p, o in triples:
        props = subjects.get(s)
        if props is None:
            props = subjects[s] = {}
        objects = props.get(p)
        if objects is None:
            props[p] = [o]
        else:
            objects.append(o)
        references[o] = references.get(o, 0) + 1
    predicates = {p for props in subjects.values() for p in props}
    if any(type(p) is not URIRef for p in predicates):
        return None
    if (_RDF_FIRST in predicates or _RDF_REST in predicates or _RDF_NIL in references or _RDF_NIL in subjects
            or _RDF_NIL in predicates or any(isinstance(t, BNode) for terms in (subjects, predicates, references) for t in terms)):
        return None

    subject_names: dict = {}
    verb_names: dict = {}
    object_names: dict = {}

    def literal_name(node):
        return node._literal_n3(use_plain=True, qname_callback=lambda dt: get_pname(dt, False))

    def name_of(node, cache, gen: bool):
        text = cache.get(node)
        if text is None:
            if isinstance(node, Literal):
                if node.datatype:
                    get_pname(node.datatype, False)
                text = literal_name(node)
            else:
                text = get_pname(node, gen) or node.n3()
            cache[node] = text
        return text

    # Every term's prefixed name, as rdflib's preprocess asks for them (that also records which
    # prefixes are used); a predicate rdflib would invent a prefix for goes to rdflib.
    for s in subjects:
        name_of(s, subject_names, False)
    for o in references:
        name_of(o, object_names, False)
    for p in predicates:
        if p != _RDF_TYPE:
            if get_pname(p, False) is None:
                return None
            verb_names[p] = name_of(p, {}, True)
    verb_names[_RDF_TYPE] = "a"

    out = [f"@prefix {prefix}: <{uri}> .\n" for prefix, uri in sorted(ser.namespaces.items())]
    # rdflib orders terms with Python-level comparisons; two IRIs compare as their strings, so
    # wherever only IRIs are sorted, plain string keys give the same order at C speed.
    all_iris = all(type(t) is URIRef for t in subjects)
    top = [s for s, props in subjects.items() if _RDFS_CLASS in props.get(_RDF_TYPE, ())]
    top.sort(key=str if all_iris else None)
    seen = set(top)
    if all_iris:
        rest = sorted((s for s in subjects if s not in seen), key=lambda s: (references.get(s, 0), str(s)))
    else:
        rest = [item[2] for item in sorted((False, references.get(s, 0), s) for s in subjects if s not in seen)]
    first_predicates = (_RDF_TYPE, _RDFS_LABEL)
    for s in top + rest:
        props = subjects[s]
        order = [p for p in first_predicates if p in props]
        order += sorted(props.keys() - set(order), key=str) if order else sorted(props, key=str)
        parts = ["\n", subject_names[s]]
        for i, p in enumerate(order):
            parts.append(" ;\n    " if i else " ")
            parts.append(verb_names[p])
            objects = props[p]
            if len(objects) == 1:
                parts += (" ", object_names[objects[0]])
            else:
                if all(type(o) is URIRef for o in objects):
                    objects.sort(key=str)  # distinct IRIs never sort as equal
                else:
                    objects.sort()
                    for a, b in zip(objects, objects[1:]):
                        if not a < b:  # objects that sort as equal: rdflib's order would depend on its store
                            return None
                parts += (" ", ",\n        ".join([object_names[o] for o in objects]))
        parts.append(" .\n")
        out.append("".join(parts))
    out.append("\n")
    return _replace_unencodable("".join(out))


def _fresh_prefix_graph() -> Graph:
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True, replace=True)
    return g


def trig(data: BuiltGraph) -> str:
    """TriG with the named graphs in sorted order, each body as rdflib writes its Turtle."""
    head, bodies = set(), []
    nsgraph = _fresh_prefix_graph()
    for name, triples in sorted(data.graphs.items(), key=lambda pair: str(pair[0])):
        if not triples:
            continue
        text = _turtle(triples, nsgraph)
        if text is None:
            g = _fresh_prefix_graph()
            for triple in sorted(triples):
                g.add(triple)
            text = g.serialize(format="turtle")
        lines = text.splitlines()
        head.update(line for line in lines if line.startswith("@prefix"))
        body = [("    " + line) if line else "" for line in lines if not line.startswith("@prefix")]
        bodies.append(f"<{name}> {{\n" + "\n".join(body).strip("\n") + "\n}\n")
    return "\n".join(sorted(head)) + "\n\n" + "\n".join(bodies)


def _normalise(value):
    """JSON-LD with every array in a fixed order (the graph has no ordered lists)."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_normalise(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return value


def jsonld(data: BuiltGraph, triples=None) -> str:
    """The union as JSON-LD with the prefixes as context, as rdflib writes it, arrays sorted."""
    context = {prefix: str(ns) for prefix, ns in sorted(PREFIXES.items())}
    document = _jsonld_data(context, triples if triples is not None else data.union)
    if document is None:
        document = json.loads(data.union_graph().serialize(format="json-ld", context=context))
    text = json.dumps(_normalise(document), sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # rdflib replaces what UTF-8 cannot encode before the arrays are sorted
        document = json.loads(data.union_graph().serialize(format="json-ld", context=context))
        text = json.dumps(_normalise(document), sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    return text


_NATIVE = (str, int, float, bool)


def _jsonld_data(context_data: dict, triples):
    """What json.loads(graph.serialize(format="json-ld", context=context_data)) gives for a graph of
    these triples, up to the
    order of arrays, or None where rdflib itself must write it. Follows rdflib's jsonld.Converter
    for a context of prefixes only: IRIs as compact IRIs, rdf:type as @type, literals as @value
    with @type or @language, booleans, integers, doubles and strings as native values."""
    from rdflib.plugins.serializers.jsonld import PLAIN_LITERAL_TYPES, Converter
    from rdflib.plugins.shared.jsonld.context import UNDEF, Context
    from rdflib.plugins.shared.jsonld.keys import ID, VOCAB

    context = Context(context_data, base=None)
    converter = Converter(context, (False,), False)
    if not context.active or not converter.use_native_types:
        return None
    id_key, type_key, value_key, lang_key = context.id_key, context.type_key, context.value_key, context.lang_key
    find_term, terms, language = context.find_term, context.terms, context.language
    shrunk: dict = {}
    symbols: dict = {}
    keys: dict = {}
    literal_terms: dict = {}

    def shrink(iri):
        text = shrunk.get(iri)
        if text is None:
            text = shrunk[iri] = context.shrink_iri(iri)
        return text

    def symbol(iri):
        text = symbols.get(iri)
        if text is None:
            text = symbols[iri] = context.to_symbol(iri)
        return text

    def key_of(p):
        key = keys.get(p)
        if key is None:
            if any(find_term(str(p), coercion, None) for coercion in (ID, VOCAB, UNDEF)):
                return None
            key = symbol(p)
            key_term = terms.get(key)
            if key_term and (key_term.type or key_term.container):
                key = str(p)
            keys[p] = key
        return key

    nodes: dict = {}
    order_matters = []
    is_bnode = BNode.__instancecheck__
    for s, p, o in triples:
        if is_bnode(s) or is_bnode(o) or not isinstance(s, URIRef) or p == _RDF_FIRST or o == _RDF_NIL:
            return None
        node = nodes.get(s)
        if node is None:
            node = nodes[s] = {id_key: shrink(s)}
        if isinstance(o, Literal):
            datatype = str(o.datatype) if o.datatype else None
            found = literal_terms.get((p, datatype, o.language), 0)
            if found == 0:
                found = literal_terms[(p, datatype, o.language)] = find_term(str(p), datatype, language=o.language)
            if found:
                return None
            key = key_of(p) if p != RDF.type else type_key
            if key is None:
                return None
            if o.datatype in PLAIN_LITERAL_TYPES:
                value = o.toPython()
                if type(value) not in _NATIVE:
                    if isinstance(value, str):
                        value = str(value)
                    else:
                        return None
            elif o.datatype:
                value = {type_key: symbol(o.datatype), value_key: str(o)}
            elif o.language and o.language != language:
                value = {lang_key: o.language, value_key: str(o)}
            elif language and not o.language:
                value = {value_key: str(o)}
            else:
                value = str(o)
        else:
            if p == RDF.type:
                if key_of(p) is None:
                    return None
                key = type_key
                value = symbol(o) if isinstance(o, URIRef) else None
            else:
                key = key_of(p)
                if key is None:
                    return None
                value = None
            if value is None:
                value = {id_key: shrink(o)} if isinstance(o, URIRef) else None
                if value is None:
                    return None
        if key in node:
            held = node[key]
            if not held or not value:
                order_matters.append(s)  # rdflib keeps or drops a falsy value by store order
            if isinstance(held, list):
                held.append(value)
            else:
                node[key] = [held, value]
        else:
            node[key] = value
    if order_matters or len({node[id_key] for node in nodes.values()}) != len(nodes):
        return None
    graph_nodes = list(nodes.values())
    if len(graph_nodes) == 1:
        result = dict(graph_nodes[0])
    else:
        result = {context.graph_key: graph_nodes}
    result["@context"] = context_data
    return result


def void_graph(data: BuiltGraph, out: Path) -> Graph:
    """VoID + DCAT: counts per graph and class, distributions, licence."""
    g = Graph()
    for prefix in ("void", "dcat", "dcterms", "foaf", "rdfs", "xsd"):
        g.bind(prefix, PREFIXES[prefix])
    d = DATASET
    with gc_paused():  # one walk over the graph for every count below
        subjects, predicates, members = set(), set(), {}
        for s, p, o in data.union:
            subjects.add(s)
            predicates.add(p)
            if p == _RDF_TYPE:
                members.setdefault(o, set()).add(s)
    entities = {s for s in subjects if isinstance(s, URIRef) and str(s).startswith(str(ID))}
    g += [(d, RDF.type, VOID.Dataset), (d, RDF.type, DCAT.Dataset),
          (d, DCTERMS.title, Literal("LICN-KG: leadership in integrated care networks", lang="en")),
          (d, DCTERMS.description, Literal("A knowledge graph of the literature review by Mitterlechner (2020, International Journal of Integrated Care 20(3):6): its reference list, the 73 reviewed studies, their codings by level of analysis and kind of leadership mechanism, the figures the review reports, research avenues and tensions; every fact with its source.", lang="en")),
          (d, DCTERMS.license, LICENCE), (d, DCTERMS.source, review_iri()),
          (d, DCTERMS.source, URIRef("https://doi.org/10.5334/ijic.5420")),
          (d, FOAF.homepage, URIRef(BASE)), (d, VOID.uriSpace, Literal(str(ID))),
          (d, VOID.sparqlEndpoint, URIRef(BASE + "sparql")),
          (d, VOID.triples, Literal(len(data.union))), (d, VOID.entities, Literal(len(entities))),
          (d, VOID.distinctSubjects, Literal(len(subjects))),
          (d, VOID.properties, Literal(len(predicates))),
          (d, VOID.classes, Literal(len(members)))]
    for vocabulary in ("licn", "skos", "prov", "fabio", "biro", "cito", "bibo", "dcterms"):
        g.add((d, VOID.vocabulary, URIRef(str(PREFIXES[vocabulary]))))
    for cls in sorted(members):
        part = ID[f"dataset/licn-kg/class/{hashlib.sha1(str(cls).encode()).hexdigest()[:12]}"]
        g += [(d, VOID.classPartition, part), (part, VOID["class"], cls),
              (part, VOID.entities, Literal(len(members[cls])))]
    for name, triples in sorted(data.graphs.items(), key=lambda pair: str(pair[0])):
        if not str(name).startswith(str(GRAPH)):
            continue
        layer = ID[f"dataset/licn-kg/graph/{str(name)[len(str(GRAPH)):]}"]
        g += [(d, VOID.subset, layer), (layer, RDF.type, VOID.Dataset), (layer, RDFS.label, Literal(str(name)[len(str(GRAPH)):])),
              (layer, DCTERMS.identifier, name), (layer, VOID.triples, Literal(len(triples)))]
    for name, media in sorted(DUMPS.items()):
        dist = ID[f"dataset/licn-kg/dump/{name}"]
        g += [(d, DCAT.distribution, dist), (d, VOID.dataDump, URIRef(BASE + "dumps/" + name)),
              (dist, RDF.type, DCAT.Distribution), (dist, DCAT.downloadURL, URIRef(BASE + "dumps/" + name)),
              (dist, DCAT.mediaType, Literal(media)), (dist, DCTERMS.license, LICENCE),
              (dist, DCAT.byteSize, Literal((out / name).stat().st_size, datatype=XSD.decimal))]
    return g
