"""Every stored query, with every parameter value the data has, is SPARQL 1.1 that Jena ARQ (a strict
third engine, Debian's libapache-jena-java) accepts, and gives there the rows pyoxigraph gives on the
same dataset: the layers as named graphs and their union as the default graph.

Cells are compared as terms: IRIs by IRI, blank nodes as blank nodes, literals by lexical form,
datatype and language, numbers by value; the columns a query declares `# unordered:` (GROUP_CONCAT
lists) as sorted lists of their items; rows in order where the query has ORDER BY, as multisets
otherwise. `make test` installs Java and Jena (`make system-deps`); without them the module is skipped."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib.plugins.sparql import parser as rdflib_parser
from test_query_parameters import CATALOGUE, combinations, data_values  # noqa: F401 (a fixture)

from licn.query.catalogue import bind
from licn.query.engines import load_dataset, run_oxigraph

JAVA = shutil.which("java")
JENA_PACKAGE = "libapache-jena-java"
RUNNER = Path(__file__).parent / "jena" / "RunQueries.java"
# Debian's jena-core keeps xerces' classes under `xerces.*` but their message bundles under this
# folder, while xerces looks them up under `xerces/impl/...`: without a copy there, Jena 4.5 fails
# on start, as it sets up its XSD datatypes.
XERCES_BUNDLES = "org/apache/jena/ext/"
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + t for t in ("integer", "decimal", "float", "double", "nonPositiveInteger", "negativeInteger",
                             "long", "int", "short", "byte", "nonNegativeInteger", "unsignedLong",
                             "unsignedInt", "unsignedShort", "unsignedByte", "positiveInteger")}
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
LIST_SEPARATORS = re.compile(r", | \| ")  # as in test_query_parameters


def _dpkg(*args: str) -> str | None:
    try:
        done = subprocess.run(["dpkg-query", *args], capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        return None
    return done.stdout if done.returncode == 0 else None


def _installed(package: str) -> bool:
    return (_dpkg("-W", "-f", "${Status}", package) or "").endswith(" installed")


pytestmark = pytest.mark.skipif(
    JAVA is None or not _installed(JENA_PACKAGE),
    reason=f"Java or Jena is missing: apt-get install default-jre-headless {JENA_PACKAGE} "
           "(make system-deps does, as root)")


def _logging_clash(jar: Path) -> bool:
    """SLF4J's bridges and its bindings other than slf4j-simple: together on one class path they
    loop (log4j-over-slf4j with slf4j-log4j12) or compete for the binding."""
    artifact = re.sub(r"-[0-9][0-9.]*\.jar$", ".jar", jar.name)  # slf4j-api-1.7.32.jar -> slf4j-api.jar
    return ((artifact.startswith("slf4j-") and artifact not in ("slf4j-api.jar", "slf4j-simple.jar"))
            or artifact.endswith("-slf4j.jar"))


def jena_jars() -> list[Path]:
    """The jars of Debian's Jena package and of the installed packages it depends on, recursively
    (from their file lists), each jar file once, without the logging jars that clash."""
    jars: set[Path] = set()
    seen: set[str] = set()
    todo = [JENA_PACKAGE]
    while todo:
        package = todo.pop()
        if package in seen or not _installed(package):
            continue
        seen.add(package)
        depends = _dpkg("-W", "-f", "${Depends}", package) or ""
        todo += [alternative.split()[0].split(":")[0]
                 for dependency in depends.split(",") if dependency.strip()
                 for alternative in dependency.split("|")]
        for line in (_dpkg("-L", package) or "").splitlines():
            path = Path(line)
            if path.parent == Path("/usr/share/java") and path.suffix == ".jar":
                jar = path.resolve()  # a versioned file and its unversioned link are one jar
                if not _logging_clash(jar):
                    jars.add(jar)
    return sorted(jars)


@pytest.fixture(scope="module")
def classpath(tmp_path_factory) -> str:
    """A jar with xerces' message bundles where xerces looks for them, first; then Jena's jars."""
    jars = jena_jars()
    core = next(jar for jar in jars if jar.name == "jena-core.jar")
    bundles = tmp_path_factory.mktemp("jena") / "xerces-messages.jar"
    with zipfile.ZipFile(core) as source, zipfile.ZipFile(bundles, "w") as target:
        for name in source.namelist():
            if name.startswith(XERCES_BUNDLES + "xerces/impl/") and name.endswith(".properties"):
                target.writestr(name[len(XERCES_BUNDLES):], source.read(name))
    return os.pathsep.join(map(str, [bundles, *jars]))


@pytest.fixture(scope="module")
def store(dist) -> ox.Store:
    return load_dataset(str(dist / "licn.nq"))


@pytest.fixture(scope="module")
def dataset(store, tmp_path_factory) -> Path:
    """The dataset licn queries, as N-Quads: its default graph (the union of the layers) and the layers."""
    path = tmp_path_factory.mktemp("jena-data") / "dataset.nq"
    store.dump(str(path), format=ox.RdfFormat.N_QUADS)
    return path


@pytest.fixture(scope="module")
def jena(classpath, dataset, data_values, tmp_path_factory):  # noqa: F811
    """Every stored query with every combination of parameter values, run on Jena in one JVM:
    {name: [(params, query text, Jena's answer as JSON results or its error message)]}."""
    folder = tmp_path_factory.mktemp("jena-queries")
    runs: dict[str, list] = {}
    for name, query in CATALOGUE.items():
        for i, params in enumerate(combinations(query, data_values)):
            text = bind(query, params)
            stem = f"{name}.{i:04d}"
            (folder / f"{stem}.rq").write_text(text, encoding="utf-8")
            runs.setdefault(name, []).append((params, text, stem))
    done = subprocess.run([JAVA, "-cp", classpath, str(RUNNER), str(dataset), str(folder)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    answers = {}
    for name, items in runs.items():
        answers[name] = []
        for params, text, stem in items:
            error = folder / f"{stem}.err"
            answer = error.read_text(encoding="utf-8") if error.exists() else \
                json.loads((folder / f"{stem}.srj").read_text(encoding="utf-8"))
            answers[name].append((params, text, answer))
    return answers


def _literal(value: str, datatype: str, language: str | None):
    """Numbers by value, to 12 significant digits (a sum of doubles may differ in its last bits by
    the order the engine adds them in); other literals by lexical form, datatype and language."""
    if datatype in NUMERIC:
        return ("number", float(f"{float(value):.12g}"))
    return ("literal", value, datatype, language.lower() if language else None)


def oxigraph_cell(term):
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode",)
    return _literal(term.value, term.datatype.value, term.language)


def json_cell(cell: dict | None):
    """A cell of SPARQL 1.1 JSON results (https://www.w3.org/TR/sparql11-results-json/)."""
    if cell is None:
        return None
    if cell["type"] == "uri":
        return ("iri", cell["value"])
    if cell["type"] == "bnode":
        return ("bnode",)
    language = cell.get("xml:lang")
    return _literal(cell["value"], cell.get("datatype") or (LANG_STRING if language else XSD + "string"), language)


def table(columns: list[str], rows: list[list], unordered: tuple[str, ...]) -> list[tuple]:
    """Rows of cells, with each unordered column's list as its sorted items."""
    lists = [columns.index(c) for c in unordered if c in columns]
    out = []
    for row in rows:
        row = list(row)
        for i in lists:
            if row[i] is not None and row[i][0] == "literal":
                row[i] = ("list", tuple(sorted(LIST_SEPARATORS.split(row[i][1]))))
        out.append(tuple(row))
    return out


def ordered(text: str) -> bool:
    """Whether the query (not a sub-select) has ORDER BY."""
    return "orderby" in rdflib_parser.parseQuery(text)[1]


def differences(store, query, text: str, answer, in_order: bool) -> str | None:
    """What differs between pyoxigraph's rows and Jena's (compared in order when in_order), in
    words; None when nothing does."""
    if isinstance(answer, str):
        return f"Jena refuses or fails: {answer.strip()}"
    mine = run_oxigraph(store, text, terms=True, union=False)
    if "boolean" in answer:
        return None if [[answer["boolean"]]] == mine.rows else f"ASK: Jena {answer['boolean']}, pyoxigraph {mine.rows}"
    columns = answer["head"]["vars"]
    if columns != mine.columns:
        return f"columns: Jena {columns}, pyoxigraph {mine.columns}"
    theirs = table(columns, [[json_cell(b.get(c)) for c in columns] for b in answer["results"]["bindings"]],
                   query.unordered)
    ours = table(columns, [[oxigraph_cell(t) for t in row] for row in mine.terms], query.unordered)
    if in_order:
        if theirs == ours:
            return None
        first = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
        return (f"{len(ours)} rows on pyoxigraph, {len(theirs)} on Jena; first difference at row {first}: "
                f"pyoxigraph {ours[first:first + 1]}, Jena {theirs[first:first + 1]}")
    if Counter(theirs) == Counter(ours):
        return None
    only_ours, only_theirs = Counter(ours) - Counter(theirs), Counter(theirs) - Counter(ours)
    return (f"{len(ours)} rows on pyoxigraph, {len(theirs)} on Jena; only on pyoxigraph: {list(only_ours)[:3]}; "
            f"only on Jena: {list(only_theirs)[:3]}")


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_query_with_every_value_in_the_data_gives_the_same_rows_on_jena(name, jena, store):
    query = CATALOGUE[name]
    assert jena[name], "no run"
    in_order = ordered(bind(query))  # parameter values are literals: they cannot add or take away an ORDER BY
    problems = [(params, problem) for params, text, answer in jena[name]
                if (problem := differences(store, query, text, answer, in_order))]
    assert problems == [], f"{len(problems)} of {len(jena[name])} runs differ; the first: {problems[0]}"


def test_the_batch_runner_answers_as_arq_sparql_does(classpath, dataset, store, tmp_path, jena):
    """The runner stands for Jena's own command: one query through `arq.sparql` gives the same rows."""
    name = "table1-matrix"
    (tmp_path / "q.rq").write_text(bind(CATALOGUE[name]), encoding="utf-8")
    done = subprocess.run([JAVA, "-cp", classpath, "arq.sparql", "--strict", "--syntax", "SPARQL_11",
                           "--data", str(dataset), "--query", str(tmp_path / "q.rq"), "--results", "json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (_, text, batch), = jena[name]
    assert json.loads(done.stdout) == batch
    assert batch["results"]["bindings"] and differences(store, CATALOGUE[name], text, batch, True) is None


def test_what_pyoxigraph_runs_and_sparql_forbids_is_reported(classpath, dataset, store, tmp_path):
    """The check has teeth: SPARQL 1.1 (section 18.2.1) forbids `AS ?v` where ?v is already in scope;
    pyoxigraph runs such a query, the runner writes Jena's refusal and the comparison reports it."""
    text = 'SELECT (COUNT(*) AS ?n) ("x" AS ?m) WHERE { ?s ?p ?m }'
    assert [m for _, m in run_oxigraph(store, text, union=False).rows] == ["x"]
    (tmp_path / "bound-twice.rq").write_text(text, encoding="utf-8")
    done = subprocess.run([JAVA, "-cp", classpath, str(RUNNER), str(dataset), str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (tmp_path / "bound-twice.srj").exists()
    refusal = (tmp_path / "bound-twice.err").read_text(encoding="utf-8")
    assert "already in-scope: ?m" in refusal
    assert differences(store, CATALOGUE["table1-matrix"], text, refusal, False) == f"Jena refuses or fails: {refusal}"
