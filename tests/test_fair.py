"""What catalogues and FAIR checkers read: DCAT distributions with IANA media-type IRIs and access
URLs, a schema.org Dataset with dates, publisher, version and identifier, FAIR Signposting Link headers
that a maintained client parses, and text sent compressed."""
from __future__ import annotations

import json
import re

import httpx
import signposting
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT

from licn.serve.app import create_app, serving
from loaders.vocab import LICENCE


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
