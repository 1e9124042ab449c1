"""The static site in dist/site/: every document as files, links that resolve on disk, the .htaccess
rules, schema.org markup, and byte-identical output for the same data."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import pytest
import signposting
from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from SPARQLWrapper import JSON, POST, SPARQLWrapper

from licn.build import build
from licn.publish.documents import Documents
from licn.publish.site import write_site
from licn.query.catalogue import load_catalogue
from licn.serve.app import create_app, serving
from loaders.vocab import LICENCE

BASE = "https://w3id.org/licn/"
SUFFIXES = {"html": None, "ttl": "turtle", "jsonld": "json-ld", "nt": "nt", "rdf": "xml"}


@pytest.fixture(scope="module")
def site(dist) -> Path:
    return dist / "site"


def test_every_resource_has_html_and_rdf_files(dist, site):
    g = Graph()
    g.parse(dist / "licn.nt", format="nt")
    subjects = {str(s) for s in g.subjects() if str(s).startswith(BASE + "id/")}
    assert len(subjects) > 500
    for iri in subjects:
        for suffix in SUFFIXES:
            assert (site / f"{iri[len(BASE):]}.{suffix}").is_file(), f"{iri}.{suffix}"
    for name in ("ontology", "codebook"):
        for suffix in SUFFIXES:
            assert (site / f"{name}.{suffix}").is_file()
    concepts = {str(s) for s in g.subjects() if str(s).startswith(BASE + "codebook#")}
    for iri in concepts:
        assert (site / "codebook" / f"{iri.split('#')[1]}.html").is_file()


@pytest.mark.parametrize("path", ["id/study/ref-58", "id/reference/95", "id/source/rw", "ontology", "codebook",
                                  "codebook/mechanism-nurturing-linkages", "id/query/table1-matrix"])
def test_rdf_files_parse_and_describe_their_topic(site, path):
    topic = URIRef(BASE + "ontology#Study" if path == "ontology" else BASE + "codebook#levels" if path == "codebook"
                   else BASE + "codebook#" + path.split("/")[1] if path.startswith("codebook/") else BASE + path)
    graphs = []
    for suffix, fmt in SUFFIXES.items():
        if fmt is None:
            continue
        g = Graph()
        g.parse(site / f"{path}.{suffix}", format=fmt)
        assert (topic, None, None) in g, f"{path}.{suffix}"
        graphs.append(set(g))
    assert all(triples == graphs[0] for triples in graphs), "the RDF formats of one document hold the same triples"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name) and tag in ("a", "link", "img", "script"):
                self.links.append(attrs[name])


def test_relative_links_resolve_on_disk(site):
    """Every link between pages points at a file of the site (and an anchor of it): the site works
    from disk or any static host, without rewriting."""
    pages = sorted(site.rglob("*.html"))
    pages = [p for p in pages if "figures" not in p.relative_to(site).parts]
    anchors, links = {}, {}
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        anchors[page.resolve()] = parser.ids
        links[page] = parser.links
    checked = 0
    for page, found in links.items():
        for link in found:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
            assert target.is_file(), f"{page.relative_to(site)} links to {link}, which is not in the site"
            if parts.fragment.startswith("query="):  # the SPARQL editor reads the query from the fragment
                assert target.name == "sparql.html"
            elif parts.fragment and target.suffix == ".html" and target in anchors:
                assert parts.fragment in anchors[target], f"{page.relative_to(site)} links to {link}: no such anchor"
            checked += 1
    assert checked > 10_000


def test_landing_page_and_schema_org(site, dist):
    page = (site / "index.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL).group(1))
    assert data["@context"] == "https://schema.org/" and data["@type"] == "Dataset"
    for key in ("name", "description", "license", "url", "distribution", "citation", "creator"):
        assert data[key], key
    assert "73</strong> reviewed studies" in page
    if (dist / "figures" / "evidence-map.svg").exists():
        assert 'src="figures/evidence-map.svg"' in page and 'href="figures/evidence-map.html"' in page
        assert (site / "figures" / "evidence-map.svg").is_file()
    for name in ("licn.ttl", "licn.nt", "licn.nq", "licn.trig", "licn.jsonld"):
        assert (site / "dumps" / name).read_bytes() == (dist / name).read_bytes()
    void = Graph()
    void.parse(site / ".well-known" / "void", format="turtle")
    assert (URIRef(BASE + "id/dataset/licn-kg"), RDF.type, URIRef("http://rdfs.org/ns/void#Dataset")) in void


def test_stored_query_pages_show_text_and_result(site):
    catalogue = load_catalogue()
    index = (site / "queries.html").read_text(encoding="utf-8")
    for name, query in catalogue.items():
        assert f'href="queries/{name}.html"' in index
        page = (site / "queries" / f"{name}.html").read_text(encoding="utf-8")
        assert query.title in page and '<table class="result">' in page and 'class="error"' not in page
        assert (site / "queries" / f"{name}.rq").read_text(encoding="utf-8") == query.text
    matrix = (site / "queries" / "table1-matrix.html").read_text(encoding="utf-8")
    assert "9 rows" in matrix


def test_htaccess_rules(site):
    text = (site / ".htaccess").read_text(encoding="utf-8")
    assert "RewriteEngine on" in text and "E=LICN_SITE:" in text
    for suffix, media in (("ttl", "text/turtle"), ("jsonld", r"application/ld\+json"), ("nt", "application/n-triples"),
                          ("rdf", r"application/rdf\+xml")):
        assert f"RewriteCond %{{HTTP_ACCEPT}} {media}" in text
        assert f"RewriteRule ^(id/[^.]+|ontology|codebook)$ %{{ENV:LICN_SITE}}$1.{suffix} [R=303,L]" in text
    assert "RewriteRule ^(id/[^.]+|ontology|codebook)$ %{ENV:LICN_SITE}$1.html [R=303,L]" in text
    assert "Header always merge Vary Accept" in text
    for suffix, media in (("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("nt", "application/n-triples"),
                          ("rdf", "application/rdf+xml")):
        assert f"AddType {media} .{suffix}" in text


def test_pages_render_the_same_documents_as_the_server_code(dist, site):
    docs = Documents.from_dist(dist, catalogue=load_catalogue())
    for path in ("id/study/ref-58", "codebook/level-network", "ontology"):
        assert (site / f"{path}.html").read_text(encoding="utf-8") == docs.html(path)
        assert (site / f"{path}.ttl").read_bytes() == docs.rdf(path, "ttl")


def test_same_data_gives_byte_identical_site(dist, tmp_path):
    """A second build of the same data writes the same bytes (no timestamps, sorted output). The copied
    figures are left out: they are another part of the build."""
    second = tmp_path / "dist"
    build(second)

    def files(root: Path) -> dict:
        return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file() and "figures" not in p.relative_to(root).parts}
    first_files, second_files = files(dist / "site"), files(second / "site")
    assert first_files.keys() == second_files.keys()
    different = [str(p) for p in first_files if first_files[p] != second_files[p]]
    assert not different, different[:10]


def test_site_written_by_several_processes_is_the_same(dist, tmp_path, monkeypatch):
    """At scale the resources are shared out to forked processes; the files must not change."""
    import licn.publish.site

    copy = tmp_path / "dist"
    copy.mkdir()
    for name in ("licn.nq", "licn.nt", "licn.ttl", "licn.trig", "licn.jsonld", "void.ttl",
                 "bibliography.bib", "bibliography.ris", "codings.csv"):
        (copy / name).write_bytes((dist / name).read_bytes())
    (copy / "figures").symlink_to(dist / "figures")
    monkeypatch.setattr(licn.publish.site, "RESOURCES_PER_PROCESS", 100)
    monkeypatch.setattr(licn.publish.site.os, "cpu_count", lambda: 3)
    write_site(copy)
    expected = {p.relative_to(dist / "site"): p.read_bytes() for p in (dist / "site").rglob("*") if p.is_file()}
    written = {p.relative_to(copy / "site"): p.read_bytes() for p in (copy / "site").rglob("*") if p.is_file()}
    assert written.keys() == expected.keys()
    assert [str(p) for p in expected if expected[p] != written[p]] == []


APACHE = Path("/usr/sbin/apache2")
APACHE_CONF = """ServerRoot /usr/lib/apache2
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {root}/httpd-{port}.pid
ErrorLog {root}/error-{port}.log
LoadModule mpm_event_module modules/mod_mpm_event.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule rewrite_module modules/mod_rewrite.so
LoadModule mime_module modules/mod_mime.so
LoadModule headers_module modules/mod_headers.so
LoadModule dir_module modules/mod_dir.so
LoadModule negotiation_module modules/mod_negotiation.so
{user}
TypesConfig /etc/mime.types
DocumentRoot {root}/www
<Directory {root}/www>
  Options FollowSymLinks MultiViews
  AllowOverride {override}
  Require all granted
</Directory>
"""
needs_apache = pytest.mark.skipif(not APACHE.exists(),
                                  reason="needs Apache httpd (apt-get install apache2) to try the .htaccess rules")
QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
# A stored query's files: suffix -> the media type they are sent with.
QUERY_FILES = {"html": "text/html", "rq": "application/sparql-query", "json": "application/sparql-results+json",
               "srx": "application/sparql-results+xml", "csv": "text/csv", "tsv": "text/tab-separated-values"}


def documented_override(htaccess: str) -> str:
    """The AllowOverride line the .htaccess's own comments ask the host for."""
    found = re.findall(r"^#\s+AllowOverride (.+)$", htaccess, re.MULTILINE)
    assert len(found) == 1, found
    return found[0].strip()


def w3id_htaccess(htaccess: str, site_address: str) -> str:
    """The .htaccess set up for the w3id.org repository as its comments say, redirecting to site_address."""
    changed = re.sub(r"RewriteCond %\{REQUEST_URI\}::\$1 .*\nRewriteRule \^\(\.\*\)\$ - \[E=LICN_SITE:%1\]",
                     f"RewriteRule ^ - [E=LICN_SITE:{site_address}]", htaccess)
    assert changed != htaccess
    return changed


def media(response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


@contextlib.contextmanager
def running_apache(root: Path, override: str):
    """Apache on a free loopback port serving root/www with the given AllowOverride; yields its address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    user = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
    conf = root / f"httpd-{port}.conf"
    conf.write_text(APACHE_CONF.format(port=port, root=root, user=user, override=override), encoding="utf-8")
    pid = root / f"httpd-{port}.pid"
    subprocess.run([str(APACHE), "-f", str(conf), "-k", "start"], check=True, timeout=30)
    host = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(host + "/", trust_env=False, timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield host
    finally:
        subprocess.run([str(APACHE), "-f", str(conf), "-k", "stop"], timeout=30, check=False)
        deadline = time.monotonic() + 20
        while pid.exists() and time.monotonic() < deadline:
            time.sleep(0.1)


@dataclass
class Apache:
    host: str  # Apache's address
    site: str  # the site folder with its .htaccess as written
    w3id: str  # a w3id.org-style folder redirecting to site
    w3id_serve: str  # a w3id.org-style folder redirecting to `licn serve`
    serve: str  # `licn serve` on the same build
    override: str  # the AllowOverride Apache runs with
    error_log: Path


@pytest.fixture(scope="module")
def apache(site, dist):
    """The site under a real Apache on a loopback port, allowing exactly the override its .htaccess asks for
    (with MultiViews on for the folder, which the .htaccess turns off), beside two w3id.org-style folders:
    one redirecting to the site, one to `licn serve` on the same build."""
    if not APACHE.exists():
        pytest.skip("needs Apache httpd (apt-get install apache2) to try the .htaccess rules")
    text = (site / ".htaccess").read_text(encoding="utf-8")
    override = documented_override(text)
    # Outside pytest's 0700 folders: Apache's children run as www-data.
    with tempfile.TemporaryDirectory(prefix="licn-apache-") as scratch, serving(create_app(dist)) as serve:
        root = Path(scratch)
        shutil.copytree(site, root / "www" / "licn")
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        with running_apache(root, override) as host:
            for folder, address in (("w3id", f"{host}/licn/"), ("w3id-serve", f"{serve}/")):
                (root / "www" / folder / "licn").mkdir(parents=True)
                htaccess = root / "www" / folder / "licn" / ".htaccess"
                htaccess.write_text(w3id_htaccess(text, address), encoding="utf-8")
                htaccess.chmod(0o644)
                htaccess.parent.chmod(0o755)
                htaccess.parent.parent.chmod(0o755)
            yield Apache(host, f"{host}/licn/", f"{host}/w3id/licn/", f"{host}/w3id-serve/licn/", serve + "/",
                         override, root / f"error-{host.rsplit(':', 1)[1]}.log")


@pytest.fixture
def client():
    with httpx.Client(trust_env=False, timeout=30) as c:
        yield c


@needs_apache
def test_htaccess_under_apache(apache, client):
    """The .htaccess as written (in the site folder) and as set up for w3id.org (redirecting to the
    site's host): 303 to the document Accept asks for, or to the same path on the site."""
    host = apache.host
    for prefix in ("/licn", "/w3id/licn"):
        for accept, suffix in (("text/turtle", "ttl"), ("application/ld+json", "jsonld"),
                               ("application/n-triples", "nt"), ("application/rdf+xml", "rdf"),
                               ("text/html,application/xhtml+xml,*/*;q=0.8", "html"), ("*/*", "html")):
            response = client.get(host + prefix + "/id/study/ref-58", headers={"Accept": accept})
            assert response.status_code == 303, (prefix, accept)
            assert response.headers["location"] == f"{host}/licn/id/study/ref-58.{suffix}"
            assert "Accept" in response.headers["vary"]
            document = client.get(response.headers["location"])
            assert document.status_code == 200
            if suffix != "html":
                g = Graph()
                g.parse(data=document.content, format=SUFFIXES[suffix])
                assert (URIRef(BASE + "id/study/ref-58"), None, None) in g
        ontology = client.get(host + prefix + "/ontology", headers={"Accept": "text/turtle"})
        assert ontology.headers["location"] == f"{host}/licn/ontology.ttl"
    assert media(client.get(host + "/licn/.well-known/void")) == "text/turtle"
    assert client.get(host + "/licn/nope").status_code == 404
    assert client.get(host + "/w3id/licn/dumps/licn.nt").headers["location"] == f"{host}/licn/dumps/licn.nt"


@needs_apache
def test_htaccess_asks_for_exactly_the_override_it_needs(apache, client):
    """Apache runs with the AllowOverride the .htaccess's comments name, not All, and answers without
    complaint; with any part of it missing, it answers 500 (a directive not allowed there)."""
    assert apache.override == "FileInfo Options=MultiViews"
    for path in ("index.html", "id/study/ref-58.ttl", "queries/table1-matrix.json"):
        assert client.get(apache.site + path).status_code == 200, path
    assert "not allowed here" not in apache.error_log.read_text(encoding="utf-8")
    for smaller in apache.override.split():
        with running_apache(apache.error_log.parent, smaller) as host:
            assert client.get(host + "/licn/index.html").status_code == 500, smaller


@needs_apache
def test_apache_answers_application_json_with_json_ld_as_licn_serve_does(apache, client):
    accept = {"Accept": "application/json"}
    served = client.get(apache.serve + "id/study/ref-58", headers=accept)
    assert served.status_code == 303 and served.headers["location"].endswith("/id/study/ref-58.jsonld")
    for start in (apache.site, apache.w3id):
        for path in ("id/study/ref-58", "ontology", "codebook"):
            response = client.get(start + path, headers=accept)
            assert response.status_code == 303, (start, path)
            assert response.headers["location"] == f"{apache.site}{path}.jsonld"
            document = client.get(response.headers["location"], headers=accept)
            assert document.status_code == 200 and media(document) == "application/ld+json"
            assert json.loads(document.content)
    document = client.get(apache.site + "id/study/ref-58.jsonld")
    g = Graph().parse(data=document.content, format="json-ld")
    assert (URIRef(BASE + "id/study/ref-58"), None, None) in g


@needs_apache
def test_apache_sends_stored_query_files_with_their_media_types(apache, client, site):
    """Every file under queries/ goes out with the media type of its kind, a result in JSON as SPARQL's
    JSON results format, the same types `licn serve` sends; other .json files stay application/json."""
    files = sorted(p for p in (site / "queries").iterdir() if p.is_file())
    assert {p.suffix[1:] for p in files} == set(QUERY_FILES)
    for path in files:
        response = client.get(f"{apache.site}queries/{path.name}")
        assert response.status_code == 200, path.name
        assert media(response) == QUERY_FILES[path.suffix[1:]], path.name
        if path.suffix in (".csv", ".tsv"):
            assert "charset=utf-8" in response.headers["content-type"].lower()
    for suffix in ("json", "srx", "csv", "tsv", "rq"):
        served = client.get(f"{apache.serve}queries/table1-matrix.{suffix}")
        assert media(served) == QUERY_FILES[suffix], suffix
    assert media(client.get(apache.site + "prefixes.json")) == "application/json"


@needs_apache
def test_w3id_redirects_sparql_with_307_so_a_post_keeps_its_body(apache, client):
    """A query POSTed to the w3id.org address, as a form or as application/sparql-query, is redirected
    with 307 to the site's endpoint; a client following it posts the same query there and gets its
    result, not the service description."""
    sparql = apache.w3id + "sparql"
    posts = [{"data": {"query": QUERY}},
             {"content": QUERY.encode(), "headers": {"Content-Type": "application/sparql-query"}}]
    for post in posts:
        response = client.post(sparql, **post)
        assert response.status_code == 307
        assert response.headers["location"] == apache.site + "sparql"
    asked = client.get(sparql, params={"query": QUERY})
    assert asked.status_code == 307 and asked.headers["location"].startswith(apache.site + "sparql?query=")
    accept = {"Accept": "application/sparql-results+json"}
    for post in posts:
        post = {**post, "headers": {**post.get("headers", {}), **accept}}
        response = client.post(apache.w3id_serve + "sparql", follow_redirects=True, **post)
        assert [r.status_code for r in response.history] == [307]
        assert str(response.url) == apache.serve + "sparql"
        assert response.status_code == 200 and media(response) == "application/sparql-results+json"
        assert int(response.json()["results"]["bindings"][0]["n"]["value"]) > 10_000
    # SPARQLWrapper (urllib) follows the 307 of a GET; it does not repeat a POST after a redirect, and
    # says so with the 307 instead of reading the service description as results.
    wrapper = SPARQLWrapper(apache.w3id_serve + "sparql", returnFormat=JSON)
    wrapper.setQuery(QUERY)
    assert int(wrapper.queryAndConvert()["results"]["bindings"][0]["n"]["value"]) > 10_000
    wrapper.setMethod(POST)
    with pytest.raises(urllib.error.HTTPError) as refused:
        wrapper.queryAndConvert()
    assert refused.value.code == 307
    # Other paths are documents: 303 as before.
    assert client.post(apache.w3id + "queries", data={"x": "1"}).status_code == 303


def _signposts(response, url: str, root: str) -> set:
    """The Signposting links of a response as (rel, target, type), targets under root made relative."""
    header = ", ".join(response.headers.get_list("link"))
    if not header:
        return set()
    found = signposting.find_signposting_http_link([header], url)
    return {(str(s.rel), str(s.target).removeprefix(root), s.type and str(s.type)) for s in found}


@needs_apache
def test_apache_sends_the_signposting_links_licn_serve_sends(apache, client, site):
    """The landing page and each document of a resource of every kind carry the same FAIR Signposting
    links under Apache as from `licn serve` (cite-as, describedby, license, type; items for the
    dataset), and every item is there with the type it is announced with."""
    landing = client.get(apache.site + "index.html")
    links = _signposts(landing, apache.site + "index.html", apache.site)
    served = client.get(apache.serve, headers={"Accept": "text/html"})
    assert links == _signposts(served, apache.serve, apache.serve)
    assert {rel for rel, _, _ in links} == {"cite-as", "describedby", "license", "type", "item"}
    assert ("cite-as", BASE + "id/dataset/licn-kg", None) in links
    items = [(target, kind) for rel, target, kind in links if rel == "item"]
    assert len(items) >= 6 and all(kind for _, kind in items)
    for target, kind in items:
        item = client.get(apache.site + target)
        assert item.status_code == 200 and media(item) == kind, target

    kinds = sorted(p.name for p in (site / "id").iterdir() if p.is_dir())
    paths = ["ontology", "codebook", "codebook/level-network", "id/dataset/licn-kg/dump/licn.nq"]
    paths += [min(str(p.relative_to(site).with_suffix("")) for p in (site / "id" / kind).rglob("*.ttl"))
              for kind in kinds]
    for path in paths:
        for suffix in SUFFIXES:
            url = f"{apache.site}{path}.{suffix}"
            links = _signposts(client.get(url), url, apache.site)
            served_url = f"{apache.serve}{path}.{suffix}"
            assert links == _signposts(client.get(served_url), served_url, apache.serve), url
            assert links == {("cite-as", BASE + path, None), ("describedby", f"{path}.ttl", "text/turtle"),
                             ("license", str(LICENCE), None), ("type", "https://schema.org/Thing", None)}, url
    for page in ("queries.html", "list/study.html", "studies.html"):
        assert "link" not in client.get(apache.site + page).headers, page
