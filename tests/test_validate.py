"""The build validates with pyshacl-turbo; pyshacl is the reference. Both must agree, on every shape
fixture, on the real data and on damaged copies of it: the same verdict, the same focus nodes. A large
graph is validated in parts; on the same inputs cut into many small parts the violations must be
exactly those of one whole-graph call."""
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from licn import paths
from licn.validate import local_shapes, validate_graph, validate_store

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
BASE = FIXTURES / "_base.ttl"


def rdflib_graph(quads) -> Graph:
    """The triples of pyoxigraph quads (every graph together) as an rdflib graph for pyshacl."""
    return Graph().parse(data=ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES), format="nt")


def both(store: ox.Store):
    turbo_conforms, turbo = validate_store(store)
    assert validate_store(store, part_quads=max(1, len(store) // 7)) == (turbo_conforms, turbo)
    reference_conforms, reference = validate_graph(rdflib_graph(store))
    return (turbo_conforms, {v.focus for v in turbo}), (reference_conforms, {v.focus for v in reference})


def fixture_store(path: Path) -> ox.Store:
    store = ox.Store()
    for source in sorted(paths.ONTOLOGY.glob("*.ttl")):
        store.load(path=str(source), format=ox.RdfFormat.TURTLE)
    store.load(path=str(BASE), format=ox.RdfFormat.TURTLE)
    store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    return store


@pytest.mark.parametrize("fixture", sorted(p for p in FIXTURES.glob("*.ttl") if not p.name.startswith("_")),
                         ids=lambda p: p.stem)
def test_the_build_engine_agrees_with_pyshacl_on_every_fixture(fixture):
    turbo, reference = both(fixture_store(fixture))
    assert turbo == reference
    assert turbo[0] == (".valid" in fixture.name)


def test_the_build_engine_agrees_with_pyshacl_on_the_real_data(dist):
    store = ox.Store()
    store.load(path=str(dist / "licn.nq"), format=ox.RdfFormat.N_QUADS)
    turbo, reference = both(store)
    assert turbo == reference == (True, set())


DAMAGE = {  # what is removed from or added to the real data, and the node pyshacl must name
    "a coding loses its level": ("-", "<https://w3id.org/licn/id/coding/prose-network-trust-10>",
                                 "<https://w3id.org/licn/ontology#level>"),
    "a source loses its title": ("-", "<https://w3id.org/licn/id/source/ijic>", "<http://purl.org/dc/terms/title>"),
    "a study gets a second entry": ("+", "<https://w3id.org/licn/id/study/ref-58> "
                                    "<https://w3id.org/licn/ontology#studyEntry> <https://w3id.org/licn/id/reference/59> ."),
    "a curator coding loses its curator": ("-", "<https://w3id.org/licn/id/coding/curator-bell-2022-role-r1>",
                                           "<http://www.w3.org/ns/prov#wasAttributedTo>"),
    "a confidence outside the scheme": ("+", "<https://w3id.org/licn/id/coding/curator-bell-2022-role-r1> "
                                        "<https://w3id.org/licn/ontology#confidence> <https://w3id.org/licn/codebook#level-policy> ."),
    "a DOI that is not one": ("+", "<https://w3id.org/licn/id/study/ref-58> <http://purl.org/ontology/bibo/doi> \"doi 58\" ."),
}


@pytest.mark.parametrize("case", [c if i < 3 else pytest.param(c, marks=pytest.mark.slow)
                                  for i, c in enumerate(sorted(DAMAGE))])
def test_both_engines_reject_the_same_damaged_copies(dist, case):
    action, *parts = DAMAGE[case]
    lines = (dist / "licn.nt").read_text(encoding="utf-8").splitlines(keepends=True)
    if action == "-":
        subject, predicate = parts
        kept = [line for line in lines if not line.startswith(f"{subject} {predicate} ")]
        assert len(kept) < len(lines), case
        lines = kept
    else:
        lines.append(parts[0] + "\n")
    store = ox.Store()
    store.load("".join(lines).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    turbo, reference = both(store)
    assert turbo == reference
    assert turbo[0] is False and turbo[1]



def test_the_project_shapes_allow_validation_in_parts():
    shapes = ox.Store()
    shapes.load(path=str(paths.SHAPES / "licn-shapes.ttl"), format=ox.RdfFormat.TURTLE)
    assert local_shapes(shapes)


PREFIXES = "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .\n"
NON_LOCAL = {  # shapes that read more than a focus node's own statements and its values' types
    "sh:node": "ex:S a sh:NodeShape ; sh:targetClass ex:X ; sh:property [ sh:path ex:p ; sh:node ex:T ] . "
               "ex:T a sh:NodeShape ; sh:property [ sh:path ex:q ; sh:minCount 1 ] .",
    "inverse path": "ex:S a sh:NodeShape ; sh:targetClass ex:Y ; "
                    "sh:property [ sh:path [ sh:inversePath ex:p ] ; sh:minCount 1 ] .",
    "sh:targetObjectsOf": "ex:S a sh:NodeShape ; sh:targetObjectsOf ex:p ; "
                          "sh:property [ sh:path ex:q ; sh:minCount 1 ] .",
    "sequence path": "ex:S a sh:NodeShape ; sh:targetClass ex:X ; sh:property [ sh:path ( ex:p ex:q ) ; "
                     "sh:minCount 1 ] .",
}


@pytest.mark.parametrize("case", sorted(NON_LOCAL))
def test_shapes_that_read_further_are_validated_on_the_whole_graph(tmp_path, case):
    (tmp_path / "shapes.ttl").write_text(PREFIXES + NON_LOCAL[case], encoding="utf-8")
    shapes = ox.Store()
    shapes.load(path=str(tmp_path / "shapes.ttl"), format=ox.RdfFormat.TURTLE)
    assert not local_shapes(shapes)
    store = ox.Store()  # conforms as a whole; cut into one-statement parts, every shape above would fail
    store.load(PREFIXES.encode() + b"ex:x a ex:X ; ex:p ex:y . ex:y a ex:Y ; ex:q ex:z .", format=ox.RdfFormat.TURTLE)
    assert validate_store(store, shapes_dir=tmp_path, part_quads=1) == (True, [])


def test_the_parts_validator_ends_when_the_process_that_started_it_is_killed():
    """A killed build must not leave the process that validates its parts waiting for ever."""
    import signal
    import subprocess
    import sys
    import time
    starter = subprocess.Popen([sys.executable, "-c", (
        "import multiprocessing, os, time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from licn import paths, validate\n"
        "pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('spawn'),\n"
        "                           initializer=validate._start_validator, initargs=(str(paths.SHAPES),))\n"
        "print(pool.submit(os.getpid).result(), flush=True)\n"
        "time.sleep(600)\n")], stdout=subprocess.PIPE, text=True)
    validator = int(starter.stdout.readline())

    def running() -> bool:
        try:
            return Path(f"/proc/{validator}/stat").read_text().split(")")[-1].split()[0] != "Z"
        except OSError:
            return False
    assert running()
    starter.send_signal(signal.SIGKILL)
    starter.wait(10)
    deadline = time.monotonic() + 20
    while running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running()
