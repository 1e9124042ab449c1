"""licn serve against a real uvicorn server on a free loopback port: content negotiation, documents,
pages, the SPARQL 1.1 protocol (also through SPARQLWrapper), and what the endpoint refuses."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
import time
import xml.etree.ElementTree as ET

import httpx
import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF

from licn.query.catalogue import load_catalogue
from licn.serve.app import create_app, serving

BASE = "https://w3id.org/licn/"
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
TIME_LIMIT = 3.0
CAP = 500
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
PARSERS = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/n-triples": "nt",
           "application/rdf+xml": "xml"}
SUFFIX_TYPES = {"html": "text/html", "ttl": "text/turtle", "jsonld": "application/ld+json",
                "nt": "application/n-triples", "rdf": "application/rdf+xml"}


@pytest.fixture(scope="module")
def server(dist):
    app = create_app(dist, time_limit=TIME_LIMIT, result_cap=CAP, workers=2)
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server, trust_env=False, timeout=30, follow_redirects=False) as c:
        yield c


def no_trace(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text and "/work/" not in text


def parse(body: bytes, media: str) -> Graph:
    g = Graph()
    g.parse(data=body, format=PARSERS[media])
    return g


# -- dereferencing: the content-negotiation matrix ----------------------------------------------

RESOURCES = ["id/study/ref-58", "id/reference/58", "id/coding/network-activities-aligning-goals-95",
             "id/item/network-activities-aligning-goals", "id/source/rw", "id/review/mitterlechner-2020",
             "id/query/table1-matrix", "ontology", "codebook"]
TOPICS = {"ontology": BASE + "ontology#Study", "codebook": BASE + "codebook#level-network"}

ACCEPTS = [  # Accept header, expected suffix (None: 406 Not Acceptable)
    ("text/turtle", "ttl"),
    ("application/ld+json", "jsonld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "rdf"),
    ("text/html", "html"),
    (BROWSER_ACCEPT, "html"),
    ("*/*", "html"),
    ("", "html"),
    ("text/turtle;q=0.5, application/ld+json", "jsonld"),
    ("application/rdf+xml;q=0.9, text/turtle;q=0.2, text/html;q=0.1", "rdf"),
    ("text/html;q=0, text/turtle;q=0.3, */*;q=0.1", "ttl"),
    ("application/*", "jsonld"),
    ("image/png", None),
]


@pytest.mark.parametrize("accept,suffix", ACCEPTS)
@pytest.mark.parametrize("path", RESOURCES)
def test_conneg_matrix(client, path, accept, suffix):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/" + path, headers=headers)
    assert "Accept" in response.headers.get("vary", "").split(", ")
    if suffix is None:
        assert response.status_code == 406
        assert "text/turtle" in response.text
        return
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/{path}.{suffix}"
    document = client.get(response.headers["location"], headers=headers)
    assert document.status_code == 200
    media = document.headers["content-type"].split(";")[0]
    assert media == SUFFIX_TYPES[suffix]
    topic = TOPICS.get(path, BASE + path)
    if suffix == "html":
        assert "<!DOCTYPE html>" in document.text
        assert topic.split("#")[0] in document.text
    else:
        g = parse(document.content, media)
        assert (URIRef(topic), None, None) in g, f"{path}.{suffix} does not describe {topic}"


def test_curl_turtle_for_every_study(client, dist):
    """`curl -H 'Accept: text/turtle' -L .../id/study/...` gives Turtle describing that study."""
    g = Graph()
    g.parse(dist / "licn.nt", format="nt")
    studies = sorted(g.subjects(RDF.type, URIRef(BASE + "ontology#Study")))
    assert len(set(g.subjects(RDF.type, URIRef(BASE + "ontology#ReviewedStudy")))) == 73
    assert len(studies) > 73  # with the studies found since the review
    with httpx.Client(base_url=client.base_url, trust_env=False, follow_redirects=True) as follow:
        for study in studies:
            response = follow.get(str(study)[len(BASE) - 1:], headers={"Accept": "text/turtle"})
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/turtle")
            doc = parse(response.content, "text/turtle")
            in_dataset = (study, URIRef("http://rdfs.org/ns/void#inDataset"), URIRef(BASE + "id/dataset/licn-kg"))
            assert in_dataset in doc  # every document links to the dataset (and the dataset to its licence)
            assert set(doc.triples((study, None, None))) - {in_dataset} == set(g.triples((study, None, None)))


@pytest.mark.parametrize("suffix", sorted(SUFFIX_TYPES))
def test_documents_by_suffix(client, suffix):
    response = client.get(f"/id/reference/58.{suffix}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == SUFFIX_TYPES[suffix]
    if suffix != "html":
        g = parse(response.content, SUFFIX_TYPES[suffix])
        study = URIRef(BASE + "id/study/ref-58")
        assert (URIRef(BASE + "id/reference/58"), URIRef("http://purl.org/spar/biro/references"), study) in g


def test_hash_iris_resolve_to_their_documents(client):
    ontology = client.get("/ontology.html")
    assert ontology.status_code == 200
    assert 'id="Study"' in ontology.text and 'id="Coding"' in ontology.text
    codebook = client.get("/codebook.html")
    assert 'id="level-network"' in codebook.text and 'id="mechanisms"' in codebook.text
    # a concept's own page, linked from the codebook
    concept = client.get("/codebook/mechanism-aligning-goals.html")
    assert concept.status_code == 200
    assert "Aligning goals" in concept.text
    assert "../id/coding/network-activities-aligning-goals-95.html" in concept.text


@pytest.mark.parametrize("path", ["/id/study/ref-99999", "/id/nothing", "/id/", "/nope", "/id/study/ref-58.xyz",
                                  "/id/study/ref-58.html/x", "/queries/no-such-query", "/dumps/secret.txt",
                                  "/figures/no-such.svg", "/figures/..%2Flicn.nq", "/codebook/no-such-concept",
                                  "/list/nothing.html", "/ontology.ttl/x"])
def test_unknown_paths_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    no_trace(response.text)
    page = client.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "<nav" in page.text and "Not found" in page.text and "<footer>" in page.text


def test_wrong_method_is_405(client):
    response = client.post("/id/study/ref-58")
    assert response.status_code == 405
    no_trace(response.text)


def test_served_documents_equal_the_static_site(client, dist):
    for path in ["id/study/ref-58.html", "id/study/ref-58.ttl", "id/coding/network-activities-aligning-goals-95.jsonld",
                 "ontology.html", "codebook/level-network.rdf", "list/study.html"]:
        assert client.get("/" + path).content == (dist / "site" / path).read_bytes(), path


# -- pages -------------------------------------------------------------------------------------

def test_landing_page(client, dist):
    response = client.get("/", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    page = response.text
    assert "LICN-KG" in page and "73</strong> reviewed studies" in page
    assert "creativecommons.org/licenses/by/4.0" in page
    assert "10.5334/ijic.5420" in page  # how to cite
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL).group(1))
    assert data["@type"] == "Dataset" and data["license"].startswith("https://creativecommons.org/")
    assert len(data["description"]) >= 50
    assert {d["contentUrl"].rsplit("/", 1)[1] for d in data["distribution"]} >= {"licn.ttl", "licn.nq", "licn.jsonld"}
    for href in re.findall(r'href="(dumps/[^"]+)"', page):
        assert client.head("/" + href).status_code == 200, href
    if (dist / "figures" / "evidence-map.svg").exists():
        assert 'src="figures/evidence-map.svg"' in page
        assert client.get("/figures/evidence-map.svg").headers["content-type"].startswith("image/svg+xml")


def test_void_and_dumps(client):
    void = client.get("/.well-known/void")
    assert void.status_code == 200 and void.headers["content-type"].startswith("text/turtle")
    g = parse(void.content, "text/turtle")
    assert (URIRef(BASE + "id/dataset/licn-kg"), RDF.type, URIRef("http://rdfs.org/ns/void#Dataset")) in g
    dump = client.get("/dumps/licn.nt")
    assert dump.status_code == 200 and dump.headers["content-type"].startswith("application/n-triples")
    assert len(parse(dump.content, "application/n-triples")) > 5000
    assert client.get("/dumps/").status_code == 200
    landing = client.get("/", headers={"Accept": "text/turtle"})
    assert landing.status_code == 303 and landing.headers["location"] == "/.well-known/void"


def test_study_page_links_both_ways_with_provenance(client):
    study = client.get("/id/study/ref-58.html").text
    assert "Reframing the challenges to integrated care" in study
    assert 'href="../../id/reference/58.html"' in study  # study -> its reference entry
    record = study.index("Where its bibliographic record was seen")
    inclusion = study.index("Why it counts as one of the review")
    # the citation first, then the codings, then where the record was seen and why it is a study of the review
    assert study.index('id="citation"') < study.index("Codings (") < record < inclusion
    assert 'href="../../id/source/pmc-tsasis.html"' in study[record:inclusion]
    assert 'href="../../id/source/rw.html"' in study[inclusion:]
    assert "inferred" in study and "Medium" in study
    assert "Codings (" in study and "../../id/coding/" in study
    entry = client.get("/id/reference/58.html").text
    assert 'href="../../id/study/ref-58.html"' in entry  # and back
    coding = client.get("/id/coding/network-activities-aligning-goals-95.html").text
    assert 'href="../../id/reference/95.html"' in coding and "Table 1, network level" in coding


def test_list_pages(client):
    page = client.get("/list/study.html").text
    assert page.count('href="../id/study/ref-') == 73
    assert client.get("/list/study").status_code == 303


def test_query_catalogue_and_stored_query_pages(client):
    catalogue = load_catalogue()
    page = client.get("/queries").text
    for name in catalogue:
        assert f'href="queries/{name}.html"' in page
    for name, query in catalogue.items():
        response = client.get(f"/queries/{name}")
        assert response.status_code == 200, (name, response.text[-500:])
        assert query.title in response.text and "<table class=\"result\">" in response.text
    assert client.get("/queries/table1-matrix.rq").text == catalogue["table1-matrix"].text


def test_stored_query_parameters_in_the_query_string(client):
    default = client.get("/queries/study-codings").text
    chosen = client.get("/queries/study-codings?study=58").text
    assert default != chosen
    cells = re.findall(r"<td><span class=\"literal\">(\d+)</span></td>", chosen)
    assert cells and set(cells) == {"58"}
    bad = client.get("/queries/study-codings?nonsense=1")
    assert bad.status_code == 400 and "has no parameter nonsense" in bad.text


# -- SPARQL 1.1 protocol -------------------------------------------------------------------------

SELECT = ("PREFIX licn: <https://w3id.org/licn/ontology#> SELECT ?n WHERE { ?e a licn:ReferenceEntry ; "
          "licn:referenceNumber ?n FILTER(?n <= 5) } ORDER BY ?n")


def _numbers_json(response):
    return [int(b["n"]["value"]) for b in response.json()["results"]["bindings"]]


@pytest.mark.parametrize("accept,media", [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("*/*", "application/sparql-results+json"),
])
def test_select_in_four_result_formats(client, accept, media):
    response = client.get("/sparql", params={"query": SELECT}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media
    assert "Accept" in response.headers["vary"].split(", ")
    if media.endswith("json"):
        assert _numbers_json(response) == [1, 2, 3, 4, 5]
    elif media.endswith("xml"):
        ns = {"r": "http://www.w3.org/2005/sparql-results#"}
        root = ET.fromstring(response.content)
        assert [int(x.text) for x in root.findall(".//r:binding[@name='n']/r:literal", ns)] == [1, 2, 3, 4, 5]
    elif media == "text/csv":
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows == [["n"], ["1"], ["2"], ["3"], ["4"], ["5"]]
    else:
        lines = response.text.strip().splitlines()
        assert lines[0] == "?n" and len(lines) == 6


def test_post_form_and_post_query(client):
    form = client.post("/sparql", data={"query": SELECT}, headers={"Accept": "application/sparql-results+json"})
    assert form.status_code == 200 and _numbers_json(form) == [1, 2, 3, 4, 5]
    direct = client.post("/sparql", content=SELECT.encode(), headers={
        "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
    assert direct.status_code == 200 and _numbers_json(direct) == [1, 2, 3, 4, 5]
    wrong = client.post("/sparql", content=b"x", headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 415


def test_ask_construct_describe(client):
    ask = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "application/sparql-results+json"})
    assert ask.json()["boolean"] is True
    construct = ("PREFIX licn: <https://w3id.org/licn/ontology#> CONSTRUCT { ?s licn:studyEntry ?e } "
                 "WHERE { ?s licn:studyEntry ?e }")
    for accept in PARSERS:
        response = client.get("/sparql", params={"query": construct}, headers={"Accept": accept})
        assert response.status_code == 200 and response.headers["content-type"].split(";")[0] == accept
        assert len(parse(response.content, accept)) == 73
    describe = client.get("/sparql", params={"query": f"DESCRIBE <{BASE}id/study/ref-58>"}, headers={"Accept": "text/turtle"})
    assert (URIRef(BASE + "id/study/ref-58"), None, None) in parse(describe.content, "text/turtle")
    mismatch = client.get("/sparql", params={"query": SELECT}, headers={"Accept": "text/turtle"})
    assert mismatch.status_code == 406


def test_named_graphs_and_dataset_parameters(client):
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    graphs = {b["g"]["value"] for b in client.get("/sparql", params={"query": query}).json()["results"]["bindings"]}
    assert BASE + "graph/studies" in graphs and BASE + "graph/codings" in graphs
    only = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                          "default-graph-uri": BASE + "graph/ontology"})
    assert 0 < int(only.json()["results"]["bindings"][0]["n"]["value"]) < 1000


def test_count_over_the_default_graph_equals_void(client, dist):
    void = Graph()
    void.parse(dist / "void.ttl")
    triples = int(void.value(URIRef(BASE + "id/dataset/licn-kg"), URIRef("http://rdfs.org/ns/void#triples")))
    answer = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                        headers={"Accept": "application/sparql-results+json"})
    assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) == triples


def test_service_description(client):
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    g = parse(response.content, "text/turtle")
    service = next(g.subjects(RDF.type, SD.Service))
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
    assert str(service) == BASE + "sparql"  # the configured base, never the Host header a client sent
    spoofed = client.get("/sparql", headers={"Accept": "text/turtle", "Host": "evil.example"})
    assert b"evil.example" not in spoofed.content
    form = client.get("/sparql", headers={"Accept": BROWSER_ACCEPT})
    assert "<textarea" in form.text


UPDATES = [
    ("post-update-media-type", lambda c: c.post("/sparql", content=b"INSERT DATA { <a:s> <a:p> <a:o> }",
                                                 headers={"Content-Type": "application/sparql-update"})),
    ("post-form-update", lambda c: c.post("/sparql", data={"update": "INSERT DATA { <a:s> <a:p> <a:o> }"})),
    ("get-update", lambda c: c.get("/sparql", params={"update": "CLEAR ALL"})),
    ("update-as-query", lambda c: c.get("/sparql", params={"query": "DELETE WHERE { ?s ?p ?o }"})),
    ("update-with-prologue", lambda c: c.post("/sparql", data={"query": "PREFIX a: <a:> # x\nINSERT DATA { a:s a:p a:o }"})),
    ("load", lambda c: c.get("/sparql", params={"query": "LOAD <http://127.0.0.1:9/x.ttl>"})),
    ("drop", lambda c: c.post("/sparql", content=b"DROP ALL", headers={"Content-Type": "application/sparql-query"})),
]


@pytest.mark.parametrize("name,send", UPDATES, ids=[u[0] for u in UPDATES])
def test_updates_are_refused(client, name, send):
    before = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}).json()
    response = send(client)
    assert 400 <= response.status_code < 500
    assert "read-only" in response.text or "does not parse" in response.text
    no_trace(response.text)
    after = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}).json()
    assert before == after


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE {\n# a comment }\nSERVICE<http://127.0.0.1:9/>{?s ?p ?o}}",
])
def test_service_is_refused(client, query):
    """The engine tries to call out, the sandbox refuses, and the client is told why."""
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 403
    assert "SERVICE" in response.text
    no_trace(response.text)


def test_service_silent_answers_without_the_service_and_escapes_are_not_keywords(client):
    """SERVICE SILENT ignores a service that fails (SPARQL 1.1 Federated Query 4); outside strings and
    IRIs an escape is no keyword to the engine, so the text does not parse."""
    silent = client.get("/sparql", params={"query": "select * where { service silent <http://127.0.0.1:9/sparql> "
                                                     "{ ?s ?p ?o } }"}, headers={"Accept": "application/sparql-results+json"})
    assert silent.status_code == 200 and silent.json()["results"]["bindings"] == [{}]
    escaped = client.get("/sparql", params={"query": "SELECT * WHERE { SERVIC\\u0045 <http://127.0.0.1:9/s> { ?s ?p ?o } }"})
    assert escaped.status_code == 400 and escaped.text.startswith("the query does not parse at line 1, column")


def test_service_in_a_string_or_name_is_not_federation(client):
    query = 'SELECT ?service WHERE { BIND("SERVICE <http://x/> {}" AS ?service) } # SERVICE'
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200


@pytest.mark.parametrize("query", ["SELEC * WHERE { ?s ?p ?o }", "SELECT * WHERE { ?s ?p }", "SELECT ?x WHERE { ?x <a:b> \"unclosed }",
                                   "PREFIX x <y> SELECT * {}"])
def test_malformed_query_is_400_with_the_parser_message(client, query):
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 400
    assert response.text.startswith("the query does not parse")
    no_trace(response.text)


def test_empty_and_duplicate_queries(client):
    assert client.get("/sparql", params={"query": " "}).status_code == 400
    assert client.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D").status_code == 400


def test_result_cap(client):
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert response.status_code == 200
    assert len(response.json()["results"]["bindings"]) == CAP
    assert response.headers["x-sparql-maxrows"] == str(CAP)
    construct = client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "application/n-triples"})
    assert len(construct.text.strip().splitlines()) == CAP
    small = client.get("/sparql", params={"query": SELECT})
    assert "x-sparql-maxrows" not in small.headers


def test_time_limit(client):
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    start = time.monotonic()
    response = client.get("/sparql", params={"query": slow})
    elapsed = time.monotonic() - start
    assert response.status_code == 503
    assert "time limit" in response.text
    assert elapsed < TIME_LIMIT + 5
    assert client.get("/sparql", params={"query": slow}).status_code == 503  # never taken for a quick one
    # the stopped worker was replaced: the endpoint still answers
    assert _numbers_json(client.get("/sparql", params={"query": SELECT})) == [1, 2, 3, 4, 5]
    page = client.get("/queries/table1-matrix")
    assert page.status_code == 200


def test_sparql_link_on_query_pages_runs(client):
    page = client.get("/queries/coverage").text
    href = re.search(r'href="(\.\./sparql\?query=[^"]+)"', page).group(1)
    response = client.get("/" + href[len("../"):].replace("&amp;", "&"))
    assert response.status_code == 200 and response.json()["head"]["vars"] == ["measure", "value", "total"]


def test_internal_errors_are_plain_500(dist, tmp_path):
    """A dump removed under a running server: a plain message, no trace, no path."""
    copy = tmp_path / "dist"
    shutil.copytree(dist, copy, ignore=shutil.ignore_patterns("site", "figures"))
    app = create_app(copy, workers=1)
    with serving(app) as url:
        (copy / "licn.ttl").unlink()
        response = httpx.get(url + "/dumps/licn.ttl", trust_env=False)
        assert response.status_code == 500
        assert response.text == "internal error: the server could not answer this request\n"


# -- SPARQLWrapper as a client --------------------------------------------------------------------

def test_sparqlwrapper_select_formats(server):
    from SPARQLWrapper import CSV, JSON, TSV, XML, SPARQLWrapper

    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(SELECT)
    client.setReturnFormat(JSON)
    data = client.queryAndConvert()
    assert [int(b["n"]["value"]) for b in data["results"]["bindings"]] == [1, 2, 3, 4, 5]
    client.setReturnFormat(XML)
    doc = client.queryAndConvert()
    assert len(doc.getElementsByTagName("result")) == 5
    client.setReturnFormat(CSV)
    assert client.queryAndConvert().decode().splitlines() == ["n", "1", "2", "3", "4", "5"]
    client.setReturnFormat(TSV)
    assert client.queryAndConvert().decode().splitlines()[0] == "?n"


def test_sparqlwrapper_post_ask_construct(server):
    from SPARQLWrapper import JSON, JSONLD, POST, TURTLE, SPARQLWrapper

    client = SPARQLWrapper(server + "/sparql")
    client.setMethod(POST)
    client.setReturnFormat(JSON)
    client.setQuery("ASK { ?s a <https://w3id.org/licn/ontology#Study> }")
    assert client.queryAndConvert()["boolean"] is True
    client.setQuery(f"CONSTRUCT WHERE {{ <{BASE}id/study/ref-58> ?p ?o }}")
    for fmt in (TURTLE, JSONLD):
        client.setReturnFormat(fmt)
        result = client.query()
        g = Graph()
        g.parse(data=result.response.read(), format="turtle" if fmt == TURTLE else "json-ld")
        assert (URIRef(BASE + "id/study/ref-58"), None, None) in g


def test_sparqlwrapper_update_and_bad_query_fail(server):
    from SPARQLWrapper import JSON, POST, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    client = SPARQLWrapper(server + "/sparql")
    client.setMethod(POST)
    client.setQuery("INSERT DATA { <http://example.org/s> <http://example.org/p> 1 }")
    with pytest.raises(Exception) as refused:
        client.query()
    assert "403" in str(refused.value) or "read-only" in str(refused.value)
    client.setQuery("SELECT * WHERE { ?s ?p }")
    client.setReturnFormat(JSON)
    with pytest.raises(QueryBadFormed) as bad:
        client.query()
    assert "does not parse" in str(bad.value)


def test_cors_header_and_preflight(client):
    origin = {"Origin": "http://localhost:5173"}
    assert client.get("/id/study/ref-58.ttl", headers=origin).headers["access-control-allow-origin"] == "*"
    assert client.get("/sparql", params={"query": "ASK {}"}, headers=origin).headers["access-control-allow-origin"] == "*"
    preflight = client.options("/sparql", headers={**origin, "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "content-type" in preflight.headers["access-control-allow-headers"].lower()


# -- the command line ------------------------------------------------------------------------------

def test_licn_serve_command(dist, tmp_path):
    """`licn serve` as a process: curl -L -H 'Accept: text/turtle' on a study IRI gives its Turtle."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    licn = [sys.executable, "-m", "licn.cli"]
    process = subprocess.Popen([*licn, "serve", "--host", "127.0.0.1", "--port", str(port), "--dist", str(dist)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/id/study/ref-58"
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(url, headers={"Accept": "text/turtle"}, follow_redirects=True, trust_env=False)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "licn serve did not start"
                time.sleep(0.2)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
        assert (URIRef(BASE + "id/study/ref-58"), None, None) in parse(response.content, "text/turtle")
        assert [r.status_code for r in response.history] == [303]
        request = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        for _ in range(20):  # clients that hang up before their answers are written must not stop the server
            with socket.create_connection(("127.0.0.1", port)) as hangup:
                hangup.sendall(request * 5)
        time.sleep(0.5)
        assert process.poll() is None, process.stderr.read() if process.poll() is not None else ""
        assert httpx.get(url, headers={"Accept": "text/turtle"}, follow_redirects=True, trust_env=False).status_code == 200
    finally:
        process.terminate()
        process.wait(30)
    assert "Traceback" not in process.stderr.read()  # hung-up clients are not errors of the server
    missing = subprocess.run([*licn, "serve", "--dist", str(tmp_path / "nothing")], capture_output=True, text=True, timeout=60, check=False)
    assert missing.returncode == 2 and "run 'licn build' first" in missing.stderr


def _server_children(pid: int) -> set[int]:
    """The processes pid started through multiprocessing (not its resource tracker)."""
    from pathlib import Path
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(OSError):
                if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text():
                    found.add(int(child))
    return found


def _wait_for(url: str, process, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            return httpx.get(url, headers={"Accept": "text/turtle"}, follow_redirects=True, trust_env=False)
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, "licn serve did not answer"
            time.sleep(0.2)


def test_several_server_processes_share_the_port_and_are_replaced(dist):
    """--processes 2: both answer on one port; a killed one is replaced; SIGTERM stops them all."""
    import os
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "licn.cli", "serve", "--port", str(port), "--dist", str(dist),
                                "--processes", "2", "--query-workers", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/id/study/ref-58"
        assert _wait_for(url, process).status_code == 200
        servers = _server_children(process.pid)
        assert len(servers) == 2, servers
        killed = min(servers)
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(_server_children(process.pid) - {killed}) < 2:
            assert time.monotonic() < deadline, "the killed server process was not replaced"
            time.sleep(0.2)
        for _ in range(20):
            answer = _wait_for(url + ".ttl", process)
            assert answer.status_code == 200 and b"ref-58" in answer.content
        sparql = httpx.get(f"http://127.0.0.1:{port}/sparql", params={"query": "ASK { ?s ?p ?o }"},
                           headers={"Accept": "application/sparql-results+json"}, trust_env=False)
        assert sparql.json()["boolean"] is True
        everyone = _server_children(process.pid)
    finally:
        process.terminate()
        process.wait(60)
    assert process.returncode == 0, process.stderr.read()
    time.sleep(0.5)
    assert not [p for p in everyone if os.path.exists(f"/proc/{p}") and "licn" in open(f"/proc/{p}/cmdline").read()]


def test_iri_ending_in_a_suffix_still_negotiates(client):
    """The VoID distribution nodes have IRIs like .../dump/licn.ttl: the IRI wins over the suffix."""
    response = client.get("/id/dataset/licn-kg/dump/licn.ttl", headers={"Accept": "text/turtle"})
    assert response.status_code == 303
    assert response.headers["location"] == "/id/dataset/licn-kg/dump/licn.ttl.ttl"
    g = parse(client.get(response.headers["location"]).content, "text/turtle")
    assert (URIRef(BASE + "id/dataset/licn-kg/dump/licn.ttl"), None, None) in g


def test_results_are_what_the_engine_writes(client, dist):
    """The capped results go through one more serialiser; they must come out as pyoxigraph writes them."""
    import pyoxigraph as ox

    store = ox.Store()
    store.bulk_load(path=str(dist / "licn.nq"), format=ox.RdfFormat.N_QUADS)
    query = ("SELECT ?s ?o ?b ?lit ?ctl WHERE { ?s ?p ?o . OPTIONAL { ?o ?q ?b FILTER isBlank(?b) } "
             "BIND(STRLANG(\"x\", \"de\") AS ?lit) BIND(\"a\\u0001\\tb\\\"\u00e9\u2028\\\\\" AS ?ctl) } "
             "ORDER BY ?s ?p ?o LIMIT 300")
    for accept, fmt in (("application/sparql-results+json", ox.QueryResultsFormat.JSON),
                        ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
                        ("text/csv", ox.QueryResultsFormat.CSV), ("text/tab-separated-values", ox.QueryResultsFormat.TSV)):
        expected = store.query(query, use_default_graph_as_union=True).serialize(format=fmt)
        response = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
        assert response.content == expected, accept
    triple = "SELECT (TRIPLE(<http://a/s>, <http://a/p>, <http://a/o>) AS ?t) WHERE {}"  # RDF 1.2: said, not garbled
    quoted = client.get("/sparql", params={"query": triple}, headers={"Accept": "application/sparql-results+json"})
    assert quoted.status_code == 400 and "triple terms" in quoted.text


def test_base_iri_option(dist, caplog):
    """--base-iri names the canonical base that maps onto the server's root; one the graph does not
    use is reported, and then nothing under id/ resolves."""
    same = create_app(dist, "https://w3id.org/licn")  # without the final slash
    assert same.state.base == BASE
    with caplog.at_level("WARNING", logger="licn.serve"):
        other = create_app(dist, "http://example.org/data/")
    assert "built with another base" in caplog.text
    with serving(other) as url:
        response = httpx.get(url + "/id/study/ref-58", trust_env=False)
        assert response.status_code == 404


@pytest.mark.parametrize("how", ["suffix", "parameter"])
def test_stored_query_results_download_in_every_format(client, how):
    for fmt, media in (("csv", "text/csv"), ("tsv", "text/tab-separated-values"),
                       ("json", "application/sparql-results+json"), ("srx", "application/sparql-results+xml")):
        url = "/queries/cell-items." + fmt if how == "suffix" else "/queries/cell-items"
        params = {"level": "organisation", "kind": "practices", **({"format": fmt} if how == "parameter" else {})}
        response = client.get(url, params=params)
        assert response.status_code == 200, (fmt, response.text)
        assert response.headers["content-type"].startswith(media)
        if fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(response.text)))
            assert {r["mechanism"] for r in rows} == {"Multilateral boundary spanning", "Hospital ownership"}
        if fmt == "json":
            assert response.json()["head"]["vars"][0] == "mechanism"
    page = client.get("/queries/cell-items", params={"level": "organisation", "kind": "practices"}).text
    assert 'href="cell-items.csv?kind=practices&amp;level=organisation' in page
    assert client.get("/queries/cell-items.xlsx").status_code == 404
    assert client.get("/queries/cell-items", params={"format": "xlsx"}).status_code == 400
