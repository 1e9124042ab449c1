"""The site's search: an index of studies, works and codebook concepts built with lunr (the Python
implementation of lunr.js) and read in the browser by lunr.js, so that search works offline."""
from __future__ import annotations

import json

from lunr import lunr

from loaders.vocab import PREFIXES

from ..query.engines import run_text

DOCUMENTS = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("licn", "skos", "rdfs", "dcterms", "fabio")) + """\
SELECT ?iri ?kind ?title ?authors ?body WHERE {
  {
    ?iri a fabio:Work ; rdfs:label ?l .
    OPTIONAL { ?iri dcterms:title ?t }
    OPTIONAL { ?iri licn:authors ?a }
    OPTIONAL { ?iri licn:venue ?v }
    OPTIONAL { SELECT ?iri (GROUP_CONCAT(DISTINCT ?ml; separator=" ") AS ?mechanisms) WHERE {
        ?c licn:evidenceFrom ?iri ; licn:mechanism/skos:prefLabel ?ml } GROUP BY ?iri }
    BIND(IF(EXISTS { ?iri a licn:Study }, "study", "work") AS ?kind)
    BIND(STR(COALESCE(?t, ?l)) AS ?title)
    BIND(COALESCE(STR(?a), "") AS ?authors)
    BIND(CONCAT(COALESCE(STR(?v), ""), " ", COALESCE(?mechanisms, "")) AS ?body)
  } UNION {
    ?iri a skos:Concept ; skos:prefLabel ?p .
    OPTIONAL { ?iri skos:definition ?d }
    BIND("concept" AS ?kind)
    BIND(STR(?p) AS ?title)
    BIND("" AS ?authors)
    BIND(COALESCE(STR(?d), "") AS ?body)
  }
}
ORDER BY ?iri"""


def search_documents(store) -> list[dict]:
    return [{"id": r["iri"], "kind": r["kind"], "title": r["title"], "authors": r["authors"], "body": r["body"]}
            for r in run_text(DOCUMENTS, store=store).as_dicts()]


def search_index(documents: list[dict]) -> str:
    """The lunr.js index of the documents and what a result shows (title and kind per IRI)."""
    index = lunr(ref="id", fields=[{"field_name": "title", "boost": 5}, {"field_name": "authors", "boost": 2}, "body"],
                 documents=documents)
    shown = {d["id"]: {"title": d["title"], "kind": d["kind"]} for d in documents}
    return json.dumps({"index": index.serialize(), "documents": shown}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))
