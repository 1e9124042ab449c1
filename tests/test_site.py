"""The static site in dist/site/: every document as files, links that resolve on disk, the .htaccess
rules, schema.org markup, and byte-identical output for the same data."""
from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from licn.build import build
from licn.query.catalogue import load_catalogue
from licn.publish.documents import Documents
from licn.publish.site import write_site

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
PidFile {root}/httpd.pid
ErrorLog {root}/error.log
LoadModule mpm_event_module modules/mod_mpm_event.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule rewrite_module modules/mod_rewrite.so
LoadModule mime_module modules/mod_mime.so
LoadModule headers_module modules/mod_headers.so
LoadModule dir_module modules/mod_dir.so
{user}
TypesConfig /etc/mime.types
DocumentRoot {root}/www
<Directory {root}/www>
  AllowOverride All
  Require all granted
</Directory>
"""


@pytest.mark.skipif(not APACHE.exists(), reason="needs Apache httpd (apt-get install apache2) to try the .htaccess rules")
def test_htaccess_under_apache(site):
    """The .htaccess as written (in the site folder) and as set up for w3id.org (redirecting to the
    site's host), under a real Apache on a loopback port."""
    import os
    import shutil
    import socket
    import subprocess
    import tempfile

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    scratch = tempfile.TemporaryDirectory(prefix="licn-apache-")  # outside pytest's 0700 folders: Apache runs as www-data
    root = Path(scratch.name)
    shutil.copytree(site, root / "www" / "licn")
    text = (site / ".htaccess").read_text(encoding="utf-8")
    w3id = re.sub(r"RewriteCond %\{REQUEST_URI\}::\$1 .*\nRewriteRule \^\(\.\*\)\$ - \[E=LICN_SITE:%1\]",
                  f"RewriteRule ^ - [E=LICN_SITE:http://127.0.0.1:{port}/licn/]", text)
    assert w3id != text
    (root / "www" / "w3id" / "licn").mkdir(parents=True)
    (root / "www" / "w3id" / "licn" / ".htaccess").write_text(w3id, encoding="utf-8")
    user = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    conf = root / "httpd.conf"
    conf.write_text(APACHE_CONF.format(port=port, root=root, user=user), encoding="utf-8")
    subprocess.run([str(APACHE), "-f", str(conf), "-k", "start"], check=True, timeout=30)
    try:
        deadline = time.monotonic() + 20
        while not (root / "httpd.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        host = f"http://127.0.0.1:{port}"
        with httpx.Client(trust_env=False, timeout=10) as client:
            for _ in range(50):
                try:
                    client.get(host + "/licn/index.html")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
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
            assert client.get(host + "/licn/.well-known/void").headers["content-type"].startswith("text/turtle")
            assert client.get(host + "/licn/nope").status_code == 404
            assert client.get(host + "/w3id/licn/dumps/licn.nt").headers["location"] == f"{host}/licn/dumps/licn.nt"
    finally:
        subprocess.run([str(APACHE), "-f", str(conf), "-k", "stop"], timeout=30, check=False)
        deadline = time.monotonic() + 20
        while (root / "httpd.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        scratch.cleanup()
