"""The command line as a user runs it: exit codes, messages, formats."""
import csv
import io
import json
import os
import shutil
import subprocess
import sys

import pytest

from licn import paths

LICN = [sys.executable, "-m", "licn.cli"]


def licn(*args, env=None):
    return subprocess.run(LICN + list(args), capture_output=True, text=True, env=env)


def test_queries_lists_the_catalogue():
    run = licn("queries")
    assert run.returncode == 0
    names = [line.split()[0] for line in run.stdout.splitlines()]
    assert len(names) >= 20 and "table1-matrix" in names
    assert "cell-items" in run.stdout and "level=network" in run.stdout


def test_query_csv_header_is_the_variable_names(dist):
    run = licn("query", "table1-matrix", "--format", "csv", "--dist", str(dist))
    assert run.returncode == 0
    table = list(csv.reader(io.StringIO(run.stdout)))
    assert table[0] == ["level", "kind", "occurrences", "studies", "source"]
    assert ["organisation", "media", "8", "8", "table"] in table


def test_query_json_md_and_table_formats(dist):
    data = json.loads(licn("query", "double-counts", "--format", "json", "--dist", str(dist)).stdout)
    assert data[0]["reference"] == 95 and data[0]["occurrences"] == 2
    md = licn("query", "double-counts", "--format", "md", "--dist", str(dist)).stdout
    assert md.splitlines()[0] == "| reference | occurrences | cells | items |"
    table = licn("query", "double-counts", "--dist", str(dist)).stdout
    assert "Nurturing linkages" in table and "1 row(s)" in table


def test_query_with_parameters_and_engine(dist):
    run = licn("query", "cell-items", "--param", "level=organisation", "--param", "kind=practices",
               "--engine", "rdflib", "--format", "csv", "--dist", str(dist))
    assert run.returncode == 0
    assert "Hospital ownership" in run.stdout and "Nurturing linkages" not in run.stdout


def test_unknown_query_and_parameter_exit_2(dist):
    run = licn("query", "no-such-query", "--dist", str(dist))
    assert run.returncode == 2 and "unknown query 'no-such-query'" in run.stderr
    run = licn("query", "title-search", "--param", "colour=red", "--dist", str(dist))
    assert run.returncode == 2 and "has no parameter colour" in run.stderr
    run = licn("query", "title-search", "--param", "text", "--dist", str(dist))
    assert run.returncode == 2 and "NAME=VALUE" in run.stderr


def test_query_before_any_build_says_what_to_do(tmp_path):
    run = licn("query", "coverage", "--dist", str(tmp_path / "nothing"))
    assert run.returncode == 2 and "run 'licn build' first" in run.stderr


def test_validate_conforming_dist_exits_0(dist):
    run = licn("validate", "--dist", str(dist))
    assert run.returncode == 0 and run.stdout.startswith("conforms")


def test_validate_reports_violations_in_plain_words_and_exits_1(tmp_path, dist):
    bad = tmp_path / "bad.ttl"
    text = (dist / "licn.ttl").read_text(encoding="utf-8")
    bad.write_text(text + '\n<https://w3id.org/licn/id/study/ref-8> <http://purl.org/ontology/bibo/doi> "ijic.649" .\n', encoding="utf-8")
    run = licn("validate", str(bad))
    assert run.returncode == 1
    assert "focus node: <https://w3id.org/licn/id/study/ref-8>" in run.stdout
    assert "path: bibo:doi" in run.stdout
    assert "message: A DOI has the form 10.NNNN/suffix." in run.stdout


def test_validate_missing_or_unparsable_file_exits_2(tmp_path):
    assert licn("validate", str(tmp_path / "missing.ttl")).returncode == 2
    broken = tmp_path / "broken.ttl"
    broken.write_text("<a> <b> .", encoding="utf-8")
    run = licn("validate", str(broken))
    assert run.returncode == 2 and "does not parse" in run.stderr


def test_build_ok_and_build_with_a_bad_row_exits_1_naming_file_line_field(tmp_path):
    out = tmp_path / "dist"
    ok = licn("build", "--out", str(out))
    assert ok.returncode == 0
    assert "(73 reviewed)" in ok.stdout and "SHACL: conforms" in ok.stdout
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    home = tmp_path / "home"
    for folder in ("data", "ontology", "queries"):
        shutil.copytree(paths.ROOT / folder, home / folder)
    table1 = home / "data" / "table1.csv"
    lines = table1.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("Exertion of influence by governments and health departments", "", 1)
    table1.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = licn("build", "--out", str(out), env=dict(os.environ, LICN_HOME=str(home)))
    assert bad.returncode == 1
    assert "table1.csv:3: label: required value is empty" in bad.stderr
    assert "was left as it was" in bad.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("name", ["licn.nq", *(pytest.param(n, marks=pytest.mark.slow)
                                              for n in ("licn.trig", "licn.nt", "licn.ttl", "licn.jsonld"))])
def test_validate_reads_every_quad_of_each_format(tmp_path, dist, name):
    """The default file and every dump format: all graphs are validated, and a damaged copy fails
    naming the focus node."""
    assert licn("validate", str(dist / name)).returncode == 0
    import pyoxigraph as ox
    formats = {"licn.nq": ox.RdfFormat.N_QUADS, "licn.trig": ox.RdfFormat.TRIG, "licn.nt": ox.RdfFormat.N_TRIPLES,
               "licn.ttl": ox.RdfFormat.TURTLE, "licn.jsonld": ox.RdfFormat.JSON_LD}
    doi = "http://purl.org/ontology/bibo/doi"
    quads = [q for q in ox.parse(path=str(dist / name), format=formats[name])]
    damaged = [q for q in quads if not (q.predicate.value == doi and q.subject.value.endswith("/study/ref-58"))]
    bad = ox.Quad(ox.NamedNode("https://w3id.org/licn/id/study/ref-58"), ox.NamedNode(doi), ox.Literal("not a doi"),
                  quads[0].graph_name)
    damaged.append(bad if name in ("licn.nq", "licn.trig") else ox.Quad(bad.subject, bad.predicate, bad.object))
    copy = tmp_path / name
    copy.write_bytes(ox.serialize(damaged if name in ("licn.nq", "licn.trig") else [q.triple for q in damaged],
                                  format=formats[name]))
    run = licn("validate", str(copy))
    assert run.returncode == 1, run.stdout
    assert "focus node: <https://w3id.org/licn/id/study/ref-58>" in run.stdout
