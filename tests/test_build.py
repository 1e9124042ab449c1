"""The build: dumps that parse elsewhere, byte-identical rebuilds, and no half-written dist/."""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from licn import paths
from licn.build import BuildError, build
from loaders.vocab import LICN, VOID

LICN_CLI = [sys.executable, "-m", "licn.cli"]


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def unfinished(out: Path) -> list[str]:
    """Folders of builds that did not finish, beside the output."""
    versions = out.with_name(f".{out.name}.versions")
    return sorted(p.name for p in versions.iterdir() if not p.name.startswith("v-")) if versions.exists() else []


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_writes_the_dumps(dist):
    for name in ("licn.ttl", "licn.nt", "licn.nq", "licn.jsonld", "licn.trig", "void.ttl"):
        assert (dist / name).stat().st_size > 1000, name


def test_dumps_parse_in_an_independent_parser(dist):
    counts = {}
    for name, fmt in (("licn.nt", ox.RdfFormat.N_TRIPLES), ("licn.ttl", ox.RdfFormat.TURTLE),
                      ("licn.jsonld", ox.RdfFormat.JSON_LD), ("licn.nq", ox.RdfFormat.N_QUADS),
                      ("licn.trig", ox.RdfFormat.TRIG)):
        quads = list(ox.parse(path=str(dist / name), format=fmt))
        counts[name] = len({(q.subject, q.predicate, q.object) for q in quads})
    assert len(set(counts.values())) == 1, counts


def test_nt_is_sorted_one_triple_per_line(dist):
    lines = (dist / "licn.nt").read_text(encoding="utf-8").splitlines()
    assert lines == sorted(set(lines))
    assert all(line.endswith(" .") for line in lines)


def test_trig_has_one_named_graph_per_layer(dist):
    graphs = {str(q.graph_name) for q in ox.parse(path=str(dist / "licn.trig"), format=ox.RdfFormat.TRIG)}
    layers = {g.rsplit("/", 1)[1].rstrip(">") for g in graphs}
    assert {"ontology", "codebook", "review", "references", "studies", "codings", "figures", "agenda", "catalogue"} <= layers


def test_void_counts_match_the_data(dist):
    void, data = Graph(), Graph()
    void.parse(dist / "void.ttl")
    data.parse(dist / "licn.nt")
    dataset = URIRef("https://w3id.org/licn/id/dataset/licn-kg")
    assert int(void.value(dataset, VOID.triples)) == len(data)
    assert void.value(dataset, URIRef("http://purl.org/dc/terms/license")) is not None
    assert len(list(void.objects(dataset, URIRef("http://www.w3.org/ns/dcat#distribution")))) >= 5


def test_every_own_ontology_term_has_a_label_and_a_definition(dist):
    g = Graph()
    g.parse(dist / "licn.nt")
    terms = {s for s in g.subjects() if isinstance(s, URIRef) and str(s).startswith(str(LICN))}
    assert len(terms) > 60
    for term in terms:
        assert g.value(term, RDFS.label) is not None, term
        assert g.value(term, SKOS.definition) is not None, term
    ontology = URIRef("https://w3id.org/licn/ontology")
    for prop in (OWL.versionIRI, URIRef("http://purl.org/dc/terms/license"), URIRef("http://purl.org/dc/terms/creator")):
        assert g.value(ontology, prop) is not None, prop


def test_seventy_three_studies_and_every_fact_sourced(dist):
    g = Graph()
    g.parse(dist / "licn.nt")
    assert len(set(g.subjects(RDF.type, LICN.ReviewedStudy))) == 73
    assert set(g.subjects(RDF.type, LICN.ReviewedStudy)) < set(g.subjects(RDF.type, LICN.Study))


@pytest.mark.slow
def test_two_builds_in_separate_processes_are_byte_identical(tmp_path):
    outs = []
    for n, seed in enumerate(("1", "2")):
        out = tmp_path / f"dist{n}"
        env = dict(os.environ, PYTHONHASHSEED=seed)
        subprocess.run(LICN_CLI + ["build", "--out", str(out)], check=True, env=env, capture_output=True)
        outs.append(snapshot(out))
    assert outs[0].keys() == outs[1].keys()
    assert [k for k in outs[0] if outs[0][k] != outs[1][k]] == []
    done = subprocess.run(LICN_CLI + ["diff", str(tmp_path / "dist0"), str(tmp_path / "dist1")], capture_output=True,
                          text=True, timeout=300)
    assert (done.returncode, done.stdout) == (0, "no change: the two releases hold the same statements\n")


def test_a_failed_build_leaves_dist_untouched(tmp_path, dist):
    out = tmp_path / "dist"
    shutil.copytree(dist, out)
    before = snapshot(out)
    data = tmp_path / "data"
    shutil.copytree(paths.DATA, data)
    bib = data / "bibliography.csv"
    bib.write_text(bib.read_text(encoding="utf-8").replace("ref-58,58,journal-article,", "ref-58,58,journal-article-ish,", 1), encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        build(out, data)
    assert "bibliography.csv:" in str(caught.value) and "type: unknown type 'journal-article-ish'" in str(caught.value)
    assert snapshot(out) == before
    assert visible(tmp_path) == ["data", "dist"] and unfinished(out) == []


def build_in_a_project_copy(tmp_path, dist, files: dict[str, str]):
    """`licn build --out` over a copy of dist/, from a project copy (LICN_HOME) with files added."""
    home = tmp_path / "home"
    for folder in ("data", "ontology", "queries"):
        shutil.copytree(paths.ROOT / folder, home / folder)
    for name, text in files.items():
        (home / name).write_text(text, encoding="utf-8")
    out = tmp_path / "dist"
    shutil.copytree(dist, out)
    before = snapshot(out)
    run = subprocess.run(LICN_CLI + ["build", "--out", str(out)], env=dict(os.environ, LICN_HOME=str(home)),
                         capture_output=True, text=True, check=False)
    return run, snapshot(out) == before


STRICT_SHAPE = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix licn: <https://w3id.org/licn/ontology#> .
<urn:test:EveryStudyHasATitle> a sh:NodeShape ; sh:targetClass licn:Study ;
    sh:property [ sh:path <http://purl.org/dc/terms/title> ; sh:minCount 1 ] .
"""


def test_a_build_failing_validation_leaves_dist_untouched(tmp_path, dist):
    """One stricter shape: the real data violates it."""
    run, untouched = build_in_a_project_copy(tmp_path, dist, {"ontology/shapes/strict.ttl": STRICT_SHAPE})
    assert run.returncode == 1
    assert "does not conform" in run.stderr and "ref-13" in run.stderr
    assert untouched


@pytest.mark.parametrize("strict", [False, True])
def test_a_build_validates_a_large_graph_in_parts(tmp_path, monkeypatch, strict):
    """The real data validated in parts of 2,000 statements, as a graph of 10^5 studies is in parts of
    10,000: the build's SHACL process hands them to a process of its own, and a violation is named."""
    import licn.build
    from licn.validate import validate_store
    shapes = tmp_path / "shapes"
    shutil.copytree(paths.SHAPES, shapes)
    if strict:
        (shapes / "strict.ttl").write_text(STRICT_SHAPE, encoding="utf-8")

    def in_small_parts(store, scratch=None):
        return validate_store(store, shapes_dir=shapes, part_quads=2_000, scratch=scratch)
    monkeypatch.setattr(licn.build, "validate_store", in_small_parts)
    out = tmp_path / "dist"
    if strict:
        with pytest.raises(BuildError) as caught:
            build(out, site=False)
        assert "does not conform" in str(caught.value) and "ref-13" in str(caught.value)
    else:
        assert build(out, site=False).triples > 4_000
    assert unfinished(out) == []


def test_a_statement_in_two_layers_fails_the_build(tmp_path, dist):
    """The ontology layer repeats a statement of the studies layer: the build names it and both layers."""
    run, untouched = build_in_a_project_copy(tmp_path, dist, {"ontology/repeated.ttl": (
        "<https://w3id.org/licn/id/study/ref-58> a <https://w3id.org/licn/ontology#ReviewedStudy> .\n")})
    assert run.returncode == 1
    assert ("1 statement(s) stand in more than one layer:\n  <https://w3id.org/licn/id/study/ref-58> "
            "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/licn/ontology#ReviewedStudy> is in "
            "https://w3id.org/licn/graph/ontology https://w3id.org/licn/graph/studies") in run.stderr, run.stderr
    assert untouched


def test_a_build_failing_a_check_leaves_dist_untouched(tmp_path, dist):
    """One more build gate that the real data fails: no output, and no staging folder left."""
    run, untouched = build_in_a_project_copy(tmp_path, dist, {"queries/checks/study-95-violation.rq": (
        "# title: Study 95 exists\n# description: fires on the real data\n"
        "SELECT ?study WHERE { ?study <https://w3id.org/licn/ontology#studyEntry> <https://w3id.org/licn/id/reference/95> }\n")})
    assert run.returncode == 1
    assert "violation checks found problems" in run.stderr and "study-95-violation: Study 95 exists" in run.stderr
    assert untouched
    assert visible(tmp_path) == ["dist", "home"] and unfinished(tmp_path / "dist") == []


def test_a_data_only_build_writes_the_same_dumps_and_no_site(tmp_path, dist):
    out = tmp_path / "dist"
    run = subprocess.run(LICN_CLI + ["build", "--no-site", "--out", str(out)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in dist.iterdir()
                                                          if p.name not in ("site", "figures", "site-pages.json"))
    crate = "ro-crate-metadata.json"  # describes the folder: the same, less the figures and the site
    assert all((out / p.name).read_bytes() == p.read_bytes() for p in dist.iterdir()
               if p.is_file() and p.name not in (crate, "site-pages.json"))
    graph = {e["@id"]: e for e in json.loads((dist / crate).read_text(encoding="utf-8"))["@graph"]}
    data_only = {e["@id"]: e for e in json.loads((out / crate).read_text(encoding="utf-8"))["@graph"]}
    assert set(graph) - set(data_only) == {"figures/", "site/"} | {f"figures/{p.name}" for p in (dist / "figures").iterdir()}
    assert all(data_only[key] == graph[key] for key in data_only if key != "./")


def test_a_data_only_build_keeps_the_previous_site_and_figures(tmp_path):
    out = tmp_path / "dist"
    build(out)
    site, record = snapshot(out / "site"), (out / "site-pages.json").read_bytes()
    result = build(out, site=False)
    assert result.kept == ["figures", "site"]
    assert snapshot(out / "site") == site and (out / "figures" / "evidence-map.svg").exists()
    assert (out / "site-pages.json").read_bytes() == record  # what the kept site's documents were made of


@pytest.mark.slow
def test_a_reader_never_sees_the_output_missing_while_it_is_rebuilt(tmp_path):
    out = tmp_path / "dist"
    build(out, site=False)
    stop, misses, polls = threading.Event(), [], []

    def poll():
        while not stop.is_set():
            polls.append(1)
            try:
                with open(out / "licn.nq", "rb") as f:
                    f.read(64)
            except OSError as exc:
                misses.append(repr(exc))

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        for _ in range(15):
            build(out, site=False)
    finally:
        stop.set()
        reader.join()
    assert misses == [] and len(polls) > 100
    assert unfinished(out) == [] and len(list(out.with_name(".dist.versions").iterdir())) <= 2


@pytest.mark.slow
def test_two_builds_at_once_both_finish(tmp_path):
    out = tmp_path / "dist"
    runs = [subprocess.Popen(LICN_CLI + ["build", "--no-site", "--out", str(out)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(120), run.stderr.read()) for run in runs]
    assert results == [(0, ""), (0, "")]
    assert (out / "licn.nq").is_file() and unfinished(out) == []


def running_in_session(session: int) -> list[str]:
    """The processes of a session that are still running (not zombies), as 'PID COMMAND'."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().rsplit(")", 1)
        except OSError:  # ended meanwhile
            continue
        state, _, _, sid = rest.split()[:4]
        if int(sid) == session and state != "Z":
            found.append(f"{stat.parent.name} {name.split('(', 1)[1]}")
    return found


# When to kill a build: once it has started a process (the SHACL process, first), or once it writes
# the site (the figures are drawn in a pool's worker meanwhile).
KILL_WHEN = {"a-child-runs": lambda build, versions: len(running_in_session(build.pid)) > 1,
             "the-site-is-written": lambda build, versions: any(versions.glob("build-*/site"))}


@pytest.mark.parametrize("moment", sorted(KILL_WHEN))
def test_a_killed_build_leaves_no_process_and_nothing_the_next_build_keeps(tmp_path, moment):
    """A build killed with SIGKILL leaves no process of its own behind (a pool's worker waiting for its
    next task would hold a copy of the build's memory and its lock for ever), and the next build removes
    what it left half written."""
    out = tmp_path / "dist"
    build(out, site=False)
    versions = out.with_name(".dist.versions")
    (versions / "build-killed").mkdir()
    (versions / "build-killed" / "licn.nq").write_text("half", encoding="utf-8")
    (versions / "shacl-killed").mkdir()  # the SHACL parts of a killed build
    (versions / "shacl-killed" / "part-0.nq").write_text("half", encoding="utf-8")
    killed = subprocess.Popen(LICN_CLI + ["build", "--out", str(out)], start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not KILL_WHEN[moment](killed, versions):
            assert killed.poll() is None, f"the build ended before {moment}"
            time.sleep(0.01)
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        deadline = time.monotonic() + 20
        while running_in_session(killed.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert running_in_session(killed.pid) == []
    finally:
        for process in running_in_session(killed.pid):
            os.kill(int(process.split()[0]), signal.SIGKILL)
    build(out, site=False)
    assert unfinished(out) == []


def test_git_ignores_what_builds_leave_beside_the_output():
    # (not dist/licn.nq: git refuses paths beyond a symbolic link, which dist is once built)
    names = [".dist.versions/v-1/licn.nq", ".dist.lock", ".dist.link-123", "dist"]
    run = subprocess.run(["git", "check-ignore", *names], cwd=paths.ROOT, capture_output=True, text=True)
    assert run.stdout.split() == names



def test_void_and_dcat_say_who_when_and_how_big_in_whole_bytes(dist):
    from rdflib.namespace import DCTERMS, XSD
    void = Graph()
    void.parse(dist / "void.ttl")
    dataset = URIRef("https://w3id.org/licn/id/dataset/licn-kg")
    for prop in (DCTERMS.creator, DCTERMS.publisher, DCTERMS.issued, DCTERMS.modified,
                 URIRef("http://www.w3.org/ns/dcat#contactPoint"), DCTERMS.license):
        assert void.value(dataset, prop) is not None, prop
    sizes = list(void.objects(None, URIRef("http://www.w3.org/ns/dcat#byteSize")))
    assert len(sizes) == 5 and all(s.datatype == XSD.nonNegativeInteger and "." not in str(s) for s in sizes)
    for dump in void.objects(dataset, URIRef("http://www.w3.org/ns/dcat#distribution")):
        name = str(void.value(dump, URIRef("http://www.w3.org/ns/dcat#downloadURL"))).rsplit("/", 1)[1]
        assert int(void.value(dump, URIRef("http://www.w3.org/ns/dcat#byteSize"))) == (dist / name).stat().st_size


def test_each_statement_stands_in_exactly_one_layer(dist):
    lines = (dist / "licn.nq").read_text(encoding="utf-8").splitlines()
    triples = [line.rsplit(" <", 1)[0] for line in lines]
    assert len(triples) == len(set(triples))


def test_the_bibliography_and_the_codings_download_for_reference_managers(dist):
    import csv
    import io

    import bibtexparser
    import rispy
    library = bibtexparser.parse_string((dist / "bibliography.bib").read_text(encoding="utf-8"))
    records = rispy.loads((dist / "bibliography.ris").read_text(encoding="utf-8"))
    assert not library.failed_blocks and len(library.entries) == len(records) >= 70
    tsasis = next(e for e in library.entries if e.key == "ref-58")
    assert "Tsasis" in tsasis.fields_dict["author"].value and "Reference 58" in tsasis.fields_dict["note"].value
    codings = list(csv.DictReader(io.StringIO((dist / "codings.csv").read_text(encoding="utf-8"))))
    g = Graph()
    g.parse(dist / "licn.nt")
    assert len(codings) == len(set(g.subjects(RDF.type, LICN.Coding)))
    assert (dist / "site" / "dumps" / "bibliography.ris").read_bytes() == (dist / "bibliography.ris").read_bytes()


def test_a_statement_in_two_layers_is_found_with_both_layers(dist):
    from licn.graph import shared_triples
    store = ox.Store()
    store.load(path=str(dist / "licn.nq"), format=ox.RdfFormat.N_QUADS)
    assert shared_triples(store) == []
    quad = next(q for q in store.quads_for_pattern(None, None, None, ox.NamedNode("https://w3id.org/licn/graph/codings")))
    store.add(ox.Quad(quad.subject, quad.predicate, quad.object, ox.NamedNode("https://w3id.org/licn/graph/studies")))
    assert shared_triples(store) == [f"{quad.subject} {quad.predicate} {quad.object} is in "
                                     "https://w3id.org/licn/graph/codings https://w3id.org/licn/graph/studies"]
