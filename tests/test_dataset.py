"""The dataset a query reads (SPARQL 1.1 Query 13.2, Protocol 2.1.4): the union of the layers is the
default graph only when neither the query (FROM, FROM NAMED) nor the request (default-graph-uri,
named-graph-uri) names a dataset; otherwise exactly what they name. On the endpoint, the CLI (a
query file) and the Python API. The endpoint holds one named graph more, the VoID description, which
is not part of its default graph (test_fair.py)."""
from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from licn.query.engines import run_text
from licn.serve.app import create_app, serving

AGENDA = "https://w3id.org/licn/graph/agenda"
REVIEW = "https://w3id.org/licn/graph/review"
COUNT = "SELECT (COUNT(*) AS ?n) {from_} WHERE {{ {pattern} }}"
GRAPHS = "SELECT (COUNT(DISTINCT ?g) AS ?n) {from_} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"


def _size(dist, graph: str) -> int:
    """The graph's statements, from the dump: what each case is held against."""
    return sum(1 for line in (dist / "licn.nq").read_text(encoding="utf-8").splitlines() if line.endswith(f"<{graph}> ."))


def cases(dist, endpoint: bool = False) -> list[tuple[str, dict, int]]:
    """(query, protocol parameters, expected count); on the endpoint, the named graphs are the layers
    and the VoID description."""
    total = sum(1 for _ in (dist / "licn.nq").read_text(encoding="utf-8").splitlines())
    layers = len({line.rsplit(" ", 2)[-2] for line in (dist / "licn.nq").read_text(encoding="utf-8").splitlines()})
    agenda, review = _size(dist, AGENDA), _size(dist, REVIEW)
    return [
        (COUNT.format(from_="", pattern="?s ?p ?o"), {}, total),
        (COUNT.format(from_=f"FROM <{AGENDA}>", pattern="?s ?p ?o"), {}, agenda),
        (COUNT.format(from_=f"FROM <{AGENDA}> FROM <{REVIEW}>", pattern="?s ?p ?o"), {}, agenda + review),
        (COUNT.format(from_=f"FROM NAMED <{AGENDA}>", pattern="?s ?p ?o"), {}, 0),
        (GRAPHS.format(from_=f"FROM NAMED <{AGENDA}>"), {}, 1),
        (GRAPHS.format(from_=""), {}, layers + endpoint),
        (COUNT.format(from_="", pattern="?s ?p ?o"), {"default-graph-uri": [AGENDA]}, agenda),
        (COUNT.format(from_="", pattern="?s ?p ?o"), {"named-graph-uri": [AGENDA]}, 0),
        (GRAPHS.format(from_=""), {"named-graph-uri": [AGENDA, REVIEW]}, 2),
        (COUNT.format(from_="", pattern="?s ?p ?o"), {"default-graph-uri": [AGENDA, REVIEW]}, agenda + review),
    ]


def test_the_endpoint_honours_the_dataset_of_the_query_and_of_the_request(dist):
    with serving(create_app(dist)) as url, httpx.Client(base_url=url, trust_env=False, timeout=30) as c:
        for query, params, expected in cases(dist, endpoint=True):
            for send in ("get", "post"):
                response = (c.get("/sparql", params={"query": query, **params}, headers={"Accept": "application/sparql-results+json"})
                            if send == "get" else
                            c.post("/sparql", data={"query": query, **params}, headers={"Accept": "application/sparql-results+json"}))
                assert response.status_code == 200, (query, params, response.text)
                assert int(response.json()["results"]["bindings"][0]["n"]["value"]) == expected, (query, params, send)


def test_the_python_api_and_the_cli_honour_the_querys_dataset(dist, tmp_path):
    for n, (query, params, expected) in enumerate(cases(dist)):
        if params:
            continue  # the protocol's parameters belong to the endpoint
        assert run_text(query, dist=dist).rows == [[expected]], query
        file = tmp_path / f"case-{n}.rq"
        file.write_text(f"# title: dataset case {n}\n# description: a W3C dataset case\n{query}\n", encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "licn.cli", "query", str(file), "--dist", str(dist), "--format", "json"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == [{"n": expected}], query


@pytest.mark.parametrize("query", ["SELECT * WHERE { ?s ?p ?o } LIMIT 1", "ASK { ?s ?p ?o }"])
def test_queries_that_name_no_dataset_read_the_union(dist, query):
    assert run_text(query, dist=dist).rows
