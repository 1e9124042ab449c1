"""`licn query --endpoint`: results as a remote store gives them, read as SPARQL means them.

Virtuoso 7 gives a boolean that a query computes (BIND(BOUND(?x) AS ?b)) as the integer 1 or 0, where
SPARQL gives true or false (ENGINES.md; Virtuoso itself is tested opt-in, tests/test_virtuoso.py).
Here a small HTTP server on the loopback address answers every query with a fixed SPARQL JSON result
written as Virtuoso writes it ("typed-literal", xsd:integer 1 and 0, head links), and the real command
line runs against it."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from licn.query.catalogue import bind, load_catalogue
from licn.query.engines import boolean_columns

LICN_CLI = [sys.executable, "-m", "licn.cli"]
XSD = "http://www.w3.org/2001/XMLSchema#"


def integer(n: int) -> dict:
    return {"type": "typed-literal", "datatype": XSD + "integer", "value": str(n)}


def text(value: str) -> dict:
    return {"type": "literal", "value": value}


@contextlib.contextmanager
def virtuoso_like(answer: dict):
    """An HTTP server on 127.0.0.1 that answers every SPARQL query with answer, as Virtuoso 7 would
    serialise it; yields its URL and the queries it received."""
    received: list[str] = []
    body = json.dumps(answer, indent=1).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the name http.server calls
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode("utf-8"))
            received.extend(form.get("query", []))
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def results(columns: list[str], rows: list[dict]) -> dict:
    return {"head": {"link": [], "vars": columns},
            "results": {"distinct": False, "ordered": True, "bindings": rows}}


def licn_query(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(LICN_CLI + ["query", *args], capture_output=True, text=True, timeout=120, check=False)


def test_the_columns_each_stored_query_computes_as_booleans():
    found = {name: boolean_columns(bind(query, {})) for name, query in load_catalogue().items()}
    assert {name: columns for name, columns in found.items() if columns} == {
        "cell-items": {"counted"}, "coding-disagreements": {"pass_1", "pass_2"},
        "figure-map-codings": {"isReviewed", "reviewed"}, "reported-vs-derived": {"hole", "kindHole", "levelHole"},
        "studies": {"identified", "isReviewed", "reviewed"}, "title-search": {"reviewed"}}


@pytest.mark.parametrize("query, expected", [
    ("SELECT ?b WHERE { BIND(1 < 2 AS ?b) }", {"b"}),
    ("SELECT (BOUND(?x) AS ?b) (COUNT(*) AS ?n) WHERE { OPTIONAL { ?s ?p ?x } } GROUP BY ?x", {"b"}),
    ("SELECT ?c WHERE { BIND(?s IN (<a:b>) AS ?a) BIND(IF(?a, true, false) AS ?c) }", {"a", "c"}),
    ("SELECT ?c WHERE { BIND(!isIRI(?s) AS ?c) }", {"c"}),
    ("SELECT ?n WHERE { BIND(1 AS ?n) BIND(IF(?n = 1, 1, 0) AS ?m) }", set()),  # numbers, not booleans
    ("SELECT ?b WHERE { { BIND(true AS ?b) } UNION { BIND(2 AS ?b) } }", set()),  # not only booleans
    ("SELECT ?x WHERE { ?x <a:p> true }", set()),  # a constant in a pattern binds nothing
    ("not a query", set()),
])
def test_which_columns_a_query_computes_as_booleans(query, expected):
    assert boolean_columns(query) == expected


def test_a_stored_query_s_computed_booleans_from_virtuoso_print_as_true_and_false():
    columns = load_catalogue()["studies"].text.split("SELECT", 1)[1].split("WHERE", 1)[0].replace("?", "").split()
    row = {"study": {"type": "uri", "value": "https://w3id.org/licn/id/study/ref-58"}, "label": text("Study 58"),
           "reference": integer(58), "identified": integer(1), "reviewed": integer(0), "reports": integer(1)}
    other = {**row, "reference": integer(59), "identified": integer(0), "reviewed": integer(1), "reports": integer(0)}
    with virtuoso_like(results(columns, [row, other])) as (url, received):
        run = licn_query("studies", "--endpoint", url, "--format", "csv")
    assert run.returncode == 0, run.stderr
    assert len(received) == 1 and "BOUND(?t) AS ?identified" in received[0]
    table = list(csv.DictReader(io.StringIO(run.stdout)))
    assert [(r["reference"], r["identified"], r["reviewed"], r["reports"]) for r in table] == [
        ("58", "true", "false", "1"), ("59", "false", "true", "0")]  # counts stay numbers


def test_typed_booleans_and_untouched_integers_in_every_output_format(tmp_path):
    query = tmp_path / "flags.rq"
    query.write_text("# title: Flags\n# description: A boolean column, a stored flag and a number.\n"
                     "SELECT ?s ?computed ?stored ?n WHERE { ?s <https://w3id.org/licn/ontology#cellSeen> ?stored "
                     "BIND(STRSTARTS(STR(?s), \"https://\") AS ?computed) BIND(1 AS ?n) }\n", encoding="utf-8")
    answer = results(["s", "computed", "stored", "n"], [
        {"s": {"type": "uri", "value": "https://w3id.org/licn/id/cell/a"}, "computed": integer(1),
         "stored": {"type": "typed-literal", "datatype": XSD + "boolean", "value": "1"}, "n": integer(1)},
        {"s": {"type": "uri", "value": "https://w3id.org/licn/id/cell/b"}, "computed": integer(0),
         "stored": {"type": "typed-literal", "datatype": XSD + "boolean", "value": "0"}, "n": integer(0)}])
    with virtuoso_like(answer) as (url, _):
        as_json = licn_query(str(query), "--endpoint", url, "--format", "json")
        as_table = licn_query(str(query), "--endpoint", url, "--format", "md")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == [
        {"s": "https://w3id.org/licn/id/cell/a", "computed": True, "stored": True, "n": 1},
        {"s": "https://w3id.org/licn/id/cell/b", "computed": False, "stored": False, "n": 0}]
    assert as_table.stdout.splitlines()[2:] == ["| https://w3id.org/licn/id/cell/a | true | true | 1 |",
                                                "| https://w3id.org/licn/id/cell/b | false | false | 0 |"]
