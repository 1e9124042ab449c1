"""sources.csv: the source records every fact points to."""
import re

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDFS

from .common import Context, Problem, Row, label, typed, unsafe_iri
from .vocab import LICN, source_iri

REQUIRED = ("key", "title")


def load_sources(rows: list[Row], ctx: Context) -> tuple[list[tuple], list[Problem]]:
    triples, problems = [], []
    for row in rows:
        key = row.get("key")
        if not re.fullmatch(r"[A-Za-z0-9-]+", key):
            problems.append(row.problem("key", f"'{key}' is not a source key (letters, digits, '-')"))
            continue
        if key in ctx.sources:
            problems.append(row.problem("key", f"duplicate source key '{key}'"))
            continue
        url, document = row.get("url"), row.get("document")
        if not url and not document:
            problems.append(row.problem("url", "a source needs a url or a document"))
        if url and not url.startswith(("http://", "https://")):
            problems.append(row.problem("url", f"'{url}' is not an http(s) address"))
            url = ""
        elif url and unsafe_iri(url):
            bad = unsafe_iri(url)
            what = "a space" if bad == " " else f"'{bad}'" if bad.isprintable() else f"U+{ord(bad):04X}"
            problems.append(row.problem("url", f"{what} cannot stand in an address; "
                                               "write it percent-encoded (%20 for a space)"))
            url = ""
        ctx.sources.add(key)
        s = source_iri(key)
        triples += typed(s, LICN.Source)
        triples += [label(s, row.get("title")), (s, DCTERMS.title, Literal(row.get("title"))),
                    (s, DCTERMS.identifier, Literal(key))]
        if url:
            triples.append((s, FOAF.page, URIRef(url)))
        if document:
            triples.append((s, DCTERMS.source, Literal(document)))
        if row.get("note"):
            triples.append((s, RDFS.comment, Literal(row.get("note"), lang="en")))
    return triples, problems
