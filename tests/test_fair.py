"""What catalogues and FAIR checkers read: DCAT distributions with IANA media-type IRIs and access
URLs, a schema.org Dataset with dates, publisher, version and identifier, FAIR Signposting Link headers
that a maintained client parses, text sent compressed, and the VoID description queryable at /sparql.
(DCAT-AP 3 validation: test_dcat_ap.py; the RO-Crate: test_crate.py; CITATION.cff and the deposit
metadata: test_citation.py.)"""
from __future__ import annotations

import json
import re

import httpx
import signposting
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

from licn.dumps import VOID_GRAPH
from licn.serve.app import create_app, serving
from loaders.vocab import DCAT, LAYERS, LICENCE, VOID

SD = "http://www.w3.org/ns/sparql-service-description#"
JSON = {"Accept": "application/sparql-results+json"}


def test_dcat_distributions_name_iana_media_types_and_access_urls(dist):
    g = Graph().parse(dist / "void.ttl", format="turtle")
    distributions = set(g.objects(None, DCAT.distribution))
    assert len(distributions) == 5
    for d in distributions:
        media = g.value(d, DCAT.mediaType)
        assert isinstance(media, URIRef) and str(media).startswith("https://www.iana.org/assignments/media-types/")
        assert g.value(d, DCAT.accessURL) is not None and g.value(d, DCAT.downloadURL) is not None


def test_the_landing_page_describes_the_dataset_for_search_engines(dist):
    page = (dist / "site" / "index.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    for field in ("name", "description", "identifier", "license", "version", "datePublished", "dateModified",
                  "creator", "publisher", "distribution"):
        assert data.get(field), field


def test_signposting_headers_parse_with_a_maintained_client(dist):
    with serving(create_app(dist)) as url, httpx.Client(base_url=url, trust_env=False, timeout=30) as c:
        landing = c.get("/", headers={"Accept": "text/html"})
        found = signposting.find_signposting_http_link([landing.headers["link"]], url + "/")
        assert str(found.citeAs.target) == "https://w3id.org/licn/id/dataset/licn-kg"
        assert str(found.license.target) == str(LICENCE)
        assert {str(t.target) for t in found.types} == {"https://schema.org/Dataset"}
        items = {str(i.target).rsplit("/", 1)[-1] for i in found.items}
        assert {"licn.nq", "licn.trig", "licn.nt", "licn.ttl", "licn.jsonld", "void.ttl"} <= items
        assert all(i.type for i in found.items)
        assert [str(d.target) for d in found.describedBy] == [url + "/.well-known/void"]
        for suffix in ("html", "ttl", "jsonld"):
            document = c.get(f"/id/study/ref-58.{suffix}")
            found = signposting.find_signposting_http_link([document.headers["link"]], url + "/")
            assert str(found.citeAs.target) == "https://w3id.org/licn/id/study/ref-58"
            assert str(found.license.target) == str(LICENCE)
            assert [str(d.target) for d in found.describedBy] == [url + "/id/study/ref-58.ttl"]


def test_text_is_sent_compressed_to_clients_that_ask(dist):
    with serving(create_app(dist)) as url, httpx.Client(base_url=url, trust_env=False, timeout=30) as c:
        for path in ("/studies.html", "/dumps/licn.ttl", "/style.css"):
            response = c.get(path, headers={"Accept-Encoding": "gzip"})
            assert response.status_code == 200 and response.headers.get("content-encoding") == "gzip", path
        plain = c.get("/studies.html", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers


def test_the_void_description_is_a_named_graph_of_the_sparql_endpoint(dist):
    """The VoID description is the named graph https://w3id.org/licn/graph/void of the endpoint, and
    not part of its default graph. The default graph is the union of the ten layers, which is what
    VoID describes and counts (void:triples, the class partitions), what the dumps hold, what `licn
    push` puts into a store and what the stored queries are written for: with VoID in it, a count
    over the default graph would no longer equal VoID's own count of it, the same query would answer
    differently here and on a pushed store, and queries over titles, licences or agents would find
    the description's own. So VoID stands beside the layers, the default graph keeps its documented
    count, graph-statistics (which names the layers it counts) is unchanged, and the service
    description lists the VoID graph among the named graphs, no longer claiming that the default graph
    is the union of all of them."""
    void = Graph().parse(dist / "void.ttl", format="turtle")
    dataset = URIRef("https://w3id.org/licn/id/dataset/licn-kg")
    documented = int(void.value(dataset, VOID.triples))
    with serving(create_app(dist, workers=2)) as url, httpx.Client(base_url=url, trust_env=False, timeout=30) as c:
        def select(query: str) -> list[dict]:
            response = c.get("/sparql", params={"query": query}, headers=JSON)
            assert response.status_code == 200, response.text
            return response.json()["results"]["bindings"]

        rows = select(f"SELECT ?p ?o WHERE {{ GRAPH <{VOID_GRAPH}> {{ ?s ?p ?o }} }}")
        assert len(rows) == len(void)
        triples = select(f"SELECT ?n WHERE {{ GRAPH <{VOID_GRAPH}> {{ <{dataset}> <{VOID.triples}> ?n }} }}")
        assert [int(row["n"]["value"]) for row in triples] == [documented]
        # the default graph: the layers' union, as documented, without the description
        count = select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert int(count[0]["n"]["value"]) == documented
        inside = c.get("/sparql", params={"query": f"ASK {{ <{dataset}> a <{VOID.Dataset}> }}"}, headers=JSON)
        assert inside.json()["boolean"] is False
        # a query that names the graph as its dataset reads it as its default graph
        named = select(f"SELECT (COUNT(*) AS ?n) FROM <{VOID_GRAPH}> WHERE {{ ?s ?p ?o }}")
        assert int(named[0]["n"]["value"]) == len(void)
        statistics = c.get("/queries/graph-statistics.json")
        assert statistics.status_code == 200
        graphs = [row["graph"]["value"] for row in statistics.json()["results"]["bindings"]]
        assert graphs == sorted(LAYERS)
        described = Graph().parse(data=c.get("/sparql", headers={"Accept": "text/turtle"}).text, format="turtle")
    sizes = {str(described.value(g, URIRef(SD + "name"))):
             described.value(described.value(g, URIRef(SD + "graph")), VOID.triples)
             for g in described.subjects(RDF.type, URIRef(SD + "NamedGraph"))}
    assert sizes[str(VOID_GRAPH)] == Literal(len(void)) and len(sizes) == len(LAYERS) + 1
    assert (None, URIRef(SD + "feature"), URIRef(SD + "UnionDefaultGraph")) not in described
