"""sources.csv: the source records every fact points to."""
import re

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDFS

from .common import Context, Problem, Row, check_url, label, too_long, typed
from .vocab import LICN, source_iri

REQUIRED = ("key", "title")
OPTIONAL = ("url", "document", "note")


def load_sources(rows: list[Row], ctx: Context) -> tuple[list[tuple], list[Problem]]:
    triples, problems = [], []
    lowered: dict[str, str] = {}
    for row in rows:
        key = row.get("key")
        if not re.fullmatch(r"[A-Za-z0-9-]+", key):
            problems.append(row.problem("key", f"'{key}' is not a source key (letters, digits, '-')"))
            continue
        if too_long(row, "key", problems):
            continue
        if key.lower() in lowered:  # the page of a source is named by its key in lower case
            problems.append(row.problem("key", f"duplicate source key '{key}'" + (
                "" if key == lowered[key.lower()] else f" (written '{lowered[key.lower()]}' before)")))
            continue
        lowered[key.lower()] = key
        if not row.get("url") and not row.get("document"):
            problems.append(row.problem("url", "a source needs a url or a document"))
        url, document = check_url(row, "url", problems), row.get("document")
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
