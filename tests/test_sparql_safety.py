"""The endpoint is reachable by strangers: no query may make it open a connection, a query too deep
to parse is a 400, the queue and each worker are bounded, and slow or idle clients are dropped."""
from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest

from licn.serve.app import create_app, serving
import pyoxigraph as ox

from licn.query.engines import oxigraph_store
from licn.query.parse import Rejected, is_lookup, is_point_lookup, lane_of
from licn.serve.pool import Lanes, QueryPool

JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def listener():
    """A loopback TCP listener that records every connection made to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.settimeout(0.2)
    calls: list[float] = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            calls.append(time.time())
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield sock.getsockname()[1], calls
    stop.set()
    thread.join(2)
    sock.close()


@pytest.fixture(scope="module")
def client(dist):
    app = create_app(dist, time_limit=5, workers=2)
    with serving(app) as url:
        with httpx.Client(base_url=url, trust_env=False, timeout=30) as c:
            yield c


def service_corpus(port: int) -> list[str]:
    target = f"http://127.0.0.1:{port}/sparql"
    local = f"127.0.0.1:{port}"
    return [
        f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SeRvIcE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}",
        f"PREFIX ex: <http://a/> SELECT * WHERE {{ VALUES ?v {{ ex:a\\# }} SERVICE <{target}> {{ ?x ?y ?z }} }}",
        f"PREFIX ex: <http://a/> SELECT * WHERE {{ VALUES ?v {{ ex:a\\' }} SERVICE <{target}> {{ ?x ?y ?z }} }}",
        f'SELECT * WHERE {{ BIND("\\u0022" AS ?q) SERVICE <{target}> {{ ?x ?y ?z }} }}',
        f"SELECT * WHERE {{ BIND('\\u0027' AS ?q) SERVICE <{target}> {{ ?x ?y ?z }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ S\\u0045RVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ \\U00000053ERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE <http://\\u0031\\u0032\\u0037.0.0.1:{port}/x> {{ ?s ?p ?o }} }}",
        f"BASE <http://{local}/> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?o }} }}",
        f"PREFIX r: <http://{local}/> SELECT * WHERE {{ SERVICE r:sparql {{ ?s ?p ?o }} }}",
        f"PREFIX r: <http://{local}/> SELECT * WHERE {{ SERVICE r: {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{target}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES ?e {{ <{target}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} }}",
        f"SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} LIMIT 1",
        f"SELECT * WHERE {{ {{ ?a ?b ?c }} UNION {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} LIMIT 1",
        f"SELECT * WHERE {{ ?a ?b ?c MINUS {{ SERVICE <{target}> {{ ?a ?b ?c }} }} }} LIMIT 1",
        f"SELECT * WHERE {{ ?a ?b ?c FILTER EXISTS {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} LIMIT 1",
        f"SELECT * WHERE {{ ?a ?b ?c FILTER NOT EXISTS {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} LIMIT 1",
        f"SELECT * WHERE {{ GRAPH ?g {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }}",
        f"ASK {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"DESCRIBE ?s WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ # a comment }}\n SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE # a comment\n <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE\n\t<{target}>\n{{ ?s ?p ?o }} }}",
        f'SELECT * WHERE {{ BIND("""a "" " """ AS ?x) SERVICE <{target}> {{ ?s ?p ?o }} }}',
        f"SELECT * WHERE {{ BIND('''a '' ' ''' AS ?x) SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f'SELECT * WHERE {{ BIND("{"x" * 20000}" AS ?x) SERVICE <{target}> {{ ?s ?p ?o }} }}',
        f'SELECT * WHERE {{ BIND("\\"" AS ?x) SERVICE <{target}> {{ ?s ?p ?o }} }}',
        f"SELECT * WHERE {{ BIND(<http://a/b#c> AS ?x) SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT (COUNT(*) AS ?n) WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }} GROUP BY ?s",
        f"SELECT * WHERE {{ {{ SERVICE <{target}> {{ ?s ?p ?o }} }} {{ SERVICE <{target}> {{ ?a ?b ?c }} }} }}",
        f"SELECT * WHERE {{ SERVICE <{target}> {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }}",
        f"SELECT * WHERE {{ SERVICE <{target}?query=ASK%7B%7D> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE <http://localhost:{port}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE <http://[::ffff:127.0.0.1]:{port}/sparql> {{ ?s ?p ?o }} }}",
        f"PREFIX : <http://{local}/> SELECT * WHERE {{ SERVICE :sparql {{ ?s ?p ?o }} }}",
        f"SELECT * FROM <{target}> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{target}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    ]


HARMLESS = [
    'SELECT * WHERE { BIND("a"@service AS ?s) }',
    'SELECT * WHERE { BIND("SERVICE <http://127.0.0.1:1/> { ?s ?p ?o }" AS ?x) }',
    "SELECT * WHERE { BIND('service' AS ?x) }",
    'SELECT * WHERE { BIND("""SERVICE""" AS ?x) }',
    "SELECT * WHERE { # SERVICE <http://127.0.0.1:1/> { ?s ?p ?o }\n ?s ?p ?o } LIMIT 1",
    "SELECT * WHERE { BIND(<http://example.org/SERVICE> AS ?x) }",
    "SELECT * WHERE { BIND(<http://service.example/x> AS ?x) }",
    "PREFIX service: <http://a/> SELECT * WHERE { BIND(service:x AS ?x) }",
    "PREFIX ex: <http://a/> SELECT * WHERE { BIND(ex:service AS ?x) }",
    "PREFIX ex: <http://a/> SELECT * WHERE { BIND(ex:SERVICE AS ?x) }",
    "SELECT ?service WHERE { BIND(1 AS ?service) }",
    "SELECT * WHERE { BIND($service AS ?x) }",
    'SELECT * WHERE { BIND("a\\"SERVICE" AS ?x) }',
    "ASK { ?service ?p ?o }",
    "CONSTRUCT { ?s <http://a/service> ?o } WHERE { ?s ?p ?o } LIMIT 1",
]


def test_no_way_of_writing_service_opens_a_connection(client, listener):
    port, calls = listener
    corpus = service_corpus(port)
    assert len(corpus) >= 40
    for query in corpus:
        response = client.get("/sparql", params={"query": query}, headers=JSON)
        assert response.status_code in (200, 400, 403), (query, response.status_code, response.text)
        assert "Traceback" not in response.text
    time.sleep(0.5)
    assert calls == []


def test_the_workers_cannot_open_a_connection_whatever_the_parser_says(dist, listener):
    """Below the parser: a query worker asked to run SERVICE directly cannot reach the listener."""
    from pebble import ProcessPool
    import multiprocessing

    from licn.serve import sparql
    port, calls = listener
    before = len(calls)
    with ProcessPool(1, initializer=sparql.start_worker, initargs=(str(dist / "licn.nq"), 0),
                     context=multiprocessing.get_context("spawn")) as pool:
        reached = pool.schedule(_evaluate_directly, args=(f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/x> {{ ?s ?p ?o }} }}",)).result(30)
        opened = pool.schedule(_connect, args=(port,)).result(30)
    time.sleep(0.3)
    assert "refused by the worker" in opened
    assert "error" in reached.lower()
    assert len(calls) == before


def _evaluate_directly(query: str) -> str:
    try:
        list(sparql._STORE["store"].query(query))
        return "answered"
    except Exception as exc:  # noqa: BLE001 - what pyoxigraph says is the answer here
        return f"error: {exc}"


def _connect(port: int) -> str:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return "connected"
    except OSError as exc:
        return f"refused by the worker: {exc}"


from licn.serve import sparql  # noqa: E402  (used by the functions the worker runs)


@pytest.mark.parametrize("query", HARMLESS)
def test_the_word_service_elsewhere_is_harmless(client, query):
    accept = {"Accept": "text/turtle"} if query.startswith("CONSTRUCT") else JSON
    response = client.get("/sparql", params={"query": query}, headers=accept)
    assert response.status_code == 200, (query, response.text)


def test_three_thousand_nested_groups_are_a_400_and_the_server_goes_on(client):
    deep = "SELECT * WHERE " + "{" * 3000 + " ?s ?p ?o " + "}" * 3000
    response = client.get("/sparql", params={"query": deep}, headers=JSON)
    assert response.status_code == 400
    assert "nested too deeply" in response.text
    ok = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers=JSON)
    assert ok.status_code == 200 and ok.json()["boolean"] is True


def test_updates_are_refused_in_every_form(client):
    for update in ("INSERT DATA { <a:b> <a:c> <a:d> }", "DELETE WHERE { ?s ?p ?o }", "DROP ALL", "LOAD <http://127.0.0.1:1/x>",
                   "CLEAR DEFAULT", "PREFIX ex: <http://a/> INSERT { ex:a ex:b ex:c } WHERE { }"):
        assert client.get("/sparql", params={"query": update}).status_code == 403, update
        assert client.post("/sparql", data={"update": update}).status_code == 403, update
        assert client.post("/sparql", content=update, headers={"Content-Type": "application/sparql-update"}).status_code == 403


HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def test_a_full_queue_answers_503_with_retry_after_and_the_deadline_counts_the_wait(dist):
    async def scenario():
        pool = QueryPool(dist / "licn.nq", workers=1, time_limit=2, max_pending=3)
        try:
            await pool.answer("ASK {}", "json", None)  # the worker is up
            started = time.monotonic()
            results = await asyncio.gather(*[pool.answer(HEAVY, "json", None) for _ in range(5)],
                                           return_exceptions=True)
            elapsed = time.monotonic() - started
            statuses = sorted(r.status for r in results if isinstance(r, Rejected))
            messages = [r.message for r in results if isinstance(r, Rejected)]
            return statuses, messages, elapsed
        finally:
            pool.close()

    statuses, messages, elapsed = asyncio.run(scenario())
    assert statuses == [503] * 5
    assert sum("busy" in m for m in messages) == 2
    assert sum("waiting for a worker included" in m for m in messages) == 3
    assert elapsed < 2 + 1.5  # the waiting ones did not get a time limit of their own after the wait


def test_a_query_whose_client_left_is_dropped(dist):
    async def scenario():
        pool = QueryPool(dist / "licn.nq", workers=1, time_limit=30)
        try:
            await pool.answer("ASK {}", "json", None)
            gone = asyncio.Event()

            async def disconnected():
                return gone.is_set()

            heavy = asyncio.ensure_future(pool.answer(HEAVY, "json", None, disconnected=disconnected))
            await asyncio.sleep(0.5)
            gone.set()
            started = time.monotonic()
            with pytest.raises(Exception) as caught:
                await heavy
            assert type(caught.value).__name__ == "ClientGone"
            light = await pool.answer("ASK { ?s ?p ?o }", "json", None)  # the worker was freed, not left running
            return time.monotonic() - started, light
        finally:
            pool.close()

    seconds, light = asyncio.run(scenario())
    assert seconds < 10 and b"true" in light[1]


def test_a_query_past_its_memory_bound_stops_its_worker_only(dist):
    async def scenario():
        pool = QueryPool(dist / "licn.nq", workers=1, time_limit=30, query_memory=64 << 20)
        try:
            hungry = "SELECT ?a ?b ?c WHERE { ?a ?x ?b . ?c ?y ?d } ORDER BY ?a ?b ?c ?d"
            with pytest.raises(Rejected) as caught:
                await pool.answer(hungry, "json", None)
            after = await pool.answer("ASK { ?s ?p ?o }", "json", None)
            return caught.value, after
        finally:
            pool.close()

    refused, after = asyncio.run(scenario())
    assert refused.status == 503 and "memory" in refused.message
    assert b"true" in after[1]


LOOKUPS = [
    "SELECT ?p ?o WHERE { <https://w3id.org/licn/id/study/ref-58> ?p ?o }",
    "PREFIX licn: <https://w3id.org/licn/ontology#> SELECT * WHERE { <https://w3id.org/licn/id/study/ref-58> "
    "licn:studyEntry ?e . ?e ?p ?o OPTIONAL { ?o <http://www.w3.org/2000/01/rdf-schema#label> ?l } }",
    "PREFIX ex: <http://a/> SELECT * WHERE { ex:s ex:p [ ex:q ?x ] }",
    "DESCRIBE <https://w3id.org/licn/id/study/ref-58>",
    "PREFIX ex: <http://a/> ASK { ex:s a ex:C }",
    "PREFIX ex: <http://a/> CONSTRUCT { ex:s ?p ?o } WHERE { ex:s ?p ?o }",
    "PREFIX ex: <http://a/> SELECT * WHERE { ex:s ex:p ?o . ?o ex:p ex:s }",
]
NOT_LOOKUPS = [
    HEAVY, "SELECT * WHERE { ?s ?p ?o }", "PREFIX ex: <http://a/> SELECT * WHERE { ?s a ex:C }",
    "PREFIX ex: <http://a/> SELECT * WHERE { ex:s ex:p* ?o }", "PREFIX ex: <http://a/> SELECT * WHERE { ex:s ex:p/ex:q ?o }",
    "PREFIX ex: <http://a/> SELECT * WHERE { ex:s ^ex:p ?o }", "PREFIX ex: <http://a/> SELECT * WHERE { ex:s !ex:p ?o }",
    "PREFIX ex: <http://a/> SELECT * WHERE { ex:s ex:p|ex:q ?o }",
    "PREFIX ex: <http://a/> SELECT (COUNT(*) AS ?n) WHERE { ex:s ?p ?o }",
    "PREFIX ex: <http://a/> SELECT * WHERE { ex:s ?p ?o } ORDER BY ?o",
    "PREFIX ex: <http://a/> SELECT * WHERE { ex:s ?p ?o FILTER NOT EXISTS { ?x ?y ?o } }",
    "PREFIX ex: <http://a/> SELECT * WHERE { ex:s ?p ?o . ?a ?b ?c }",
    "PREFIX ex: <http://a/> SELECT * WHERE { VALUES ?s { ex:a } ?s ?p ?o }",
    "PREFIX ex: <http://a/> SELECT * WHERE { { SELECT ?s WHERE { ex:a ?p ?s } } }",
    "SELECT * WHERE { ?s <http://a/p> 'x' }", "SELECT * WHERE { }", "not a query",
]


def test_lookups_are_told_from_the_parse_tree():
    assert [q for q in LOOKUPS if not is_lookup(q)] == []
    assert [q for q in NOT_LOOKUPS if is_lookup(q)] == []


POINT_LOOKUPS = [LOOKUPS[0], LOOKUPS[3],
                 "ASK { <https://w3id.org/licn/id/study/ref-58> a <https://w3id.org/licn/ontology#ReviewedStudy> }",
                 "CONSTRUCT { ?o ?p <https://w3id.org/licn/id/study/ref-58> } "
                 "WHERE { <https://w3id.org/licn/id/study/ref-58> ?p ?o }",
                 "PREFIX licn: <https://w3id.org/licn/ontology#> SELECT DISTINCT ?e WHERE { "
                 "<https://w3id.org/licn/id/study/ref-58> licn:studyEntry ?e } LIMIT 5 OFFSET 0",
                 "DESCRIBE <https://w3id.org/licn/id/study/ref-58> <https://w3id.org/licn/id/reference/58>",
                 "PREFIX s: <https://w3id.org/licn/id/study/> SELECT * WHERE { s:ref-58 ?p ?o }",
                 "PREFIX s: <https://w3id.org/licn/id/study/> SELECT * WHERE { s:ref\\-58 ?p ?o }",
                 "BASE <https://w3id.org/licn/id/> SELECT * WHERE { <study/ref-58> ?p ?o }"]
NOT_POINT_LOOKUPS = [LOOKUPS[1], LOOKUPS[2], LOOKUPS[6], *NOT_LOOKUPS, "CONSTRUCT WHERE { <http://a/s> ?p ?o }", "DESCRIBE ?x", "DESCRIBE * WHERE { ?x ?p ?o }",
                     "SELECT * WHERE { <http://a/s> ?p ?o ; ?q ?r }", "SELECT * WHERE { <http://a/s> ?p ?o , ?r }",
                     "SELECT * WHERE { <http://a/s> ?p ?o FILTER(REGEX(STR(?o), 'x')) }",
                     "SELECT (STRLEN(STR(?o)) AS ?n) WHERE { <http://a/s> ?p ?o }",
                     "SELECT * WHERE { GRAPH ?g { <http://a/s> ?p ?o } }",
                     "SELECT * WHERE { <http://a/s> ?p ?o OPTIONAL { ?o ?q ?r } }",
                     "SELECT * WHERE { { <http://a/s> ?p ?o } UNION { <http://a/t> ?p ?o } }",
                     "SELECT * WHERE { <http://a/s> ?p ?o SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } }",
                     "SELECT * WHERE { <http://a/s> ?p ?o BIND(1 AS ?x) }"]


def test_point_lookups_are_told_from_the_parse_tree():
    assert [q for q in POINT_LOOKUPS if not is_point_lookup(q)] == []
    assert [q for q in NOT_POINT_LOOKUPS if is_point_lookup(q)] == []


def test_a_point_select_knows_its_subject_only_where_the_query_spells_it_out():
    """The subject's statements bound a point SELECT's solutions, so the subject must be the engine's."""
    subjects = {q: lane_of(q).subject for q in POINT_LOOKUPS}
    study = "https://w3id.org/licn/id/study/ref-58"
    assert {q for q, subject in subjects.items() if subject == study} == {
        POINT_LOOKUPS[0], POINT_LOOKUPS[4], POINT_LOOKUPS[6]}
    assert {q for q, subject in subjects.items() if subject is None} == set(POINT_LOOKUPS) - {
        POINT_LOOKUPS[0], POINT_LOOKUPS[4], POINT_LOOKUPS[6]}  # ASK, CONSTRUCT, DESCRIBE, escapes, BASE


RESULT_PARSERS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
                  "tsv": ox.QueryResultsFormat.TSV}


def _answer_set(result_format: str, media: str, body: bytes):
    """An answer as a set: of rows for results, of triples for graphs, the verdict for ASK."""
    if "sparql-results" in media or "tab-separated" in media:
        parsed = ox.parse_query_results(body, format=RESULT_PARSERS[result_format])
        if isinstance(parsed, ox.QueryBoolean):
            return bool(parsed)
        return {tuple(str(row[v]) for v in parsed.variables) for row in parsed}
    return {str(t) for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)}


@pytest.mark.parametrize("cap", [10_000, 3])
@pytest.mark.parametrize("result_format", sorted(RESULT_PARSERS))
def test_point_lookups_in_the_server_answer_as_the_workers_do(dist, cap, result_format):
    """The server process answers point lookups on its own store; a worker gives the same answers,
    whole or cut at the cap."""
    async def both(query: str):
        lanes = Lanes(dist / "licn.nq", oxigraph_store(dist), workers=1, cap=cap)
        workers = QueryPool(dist / "licn.nq", workers=1, cap=cap)
        try:
            return [await pool.answer(query, result_format, "nt") for pool in (lanes, workers)]
        finally:
            lanes.close()
            workers.close()
    cut = []
    for query in POINT_LOOKUPS:
        (media, body, truncated), (worker_media, worker_body, worker_truncated) = asyncio.run(both(query))
        assert (media, truncated) == (worker_media, worker_truncated)
        found = _answer_set(result_format, media, body)
        assert found, query  # each finds something in the real data
        if truncated:
            cut.append(query)
            assert len(found) == cap == len(_answer_set(result_format, worker_media, worker_body))
        else:
            assert found == _answer_set(result_format, worker_media, worker_body)
    assert bool(cut) == (cap == 3)


def test_a_lookup_is_answered_while_heavy_queries_hold_every_general_worker(dist):
    """Heavy queries fill the general worker and its queue; a lookup is answered before any of them."""
    app = create_app(dist, time_limit=4, workers=1, max_pending=4)
    finished: list[str] = []

    def ask(url: str, query: str, label: str, statuses: list):
        with httpx.Client(base_url=url, trust_env=False, timeout=30) as c:
            statuses.append(c.get("/sparql", params={"query": query}, headers=JSON).status_code)
        finished.append(label)

    with serving(app) as url:
        with httpx.Client(base_url=url, trust_env=False, timeout=30) as c:
            assert c.get("/sparql", params={"query": "ASK {}"}, headers=JSON).status_code == 200
        heavy_statuses: list = []
        heavy = [threading.Thread(target=ask, args=(url, HEAVY, "heavy", heavy_statuses)) for _ in range(4)]
        for t in heavy:
            t.start()
        time.sleep(1.0)  # the heavy ones are running or waiting
        lookup_statuses: list = []
        for query in LOOKUPS[:2]:
            ask(url, query, "lookup", lookup_statuses)
        for t in heavy:
            t.join(30)
    assert lookup_statuses == [200, 200]
    assert finished[:2] == ["lookup", "lookup"], finished
    assert heavy_statuses == [503] * 4  # the deadline of 4 s stopped every one of them


def test_oversized_headers_are_refused(client):
    try:
        status = client.get("/id/study/ref-58.ttl", headers={"X-Big": "x" * 200_000}).status_code
    except httpx.TransportError:  # the server may close the connection instead of answering
        status = None
    assert status in (None, 400, 431)
    assert client.get("/id/study/ref-58.ttl").status_code == 200


def _send_without_end(client, start: bytes, chunk: bytes) -> tuple[int, bytes]:
    """Send start, then chunk after chunk until the server answers or closes (or 50 MB are sent):
    how many bytes went, and the start of the answer."""
    connection = socket.create_connection((client.base_url.host, client.base_url.port))
    connection.sendall(start)
    connection.setblocking(False)
    sent, answer = 0, b""
    try:
        while not answer and sent < 50_000_000:
            try:
                sent += connection.send(chunk)
                answer = connection.recv(200)
            except BlockingIOError:
                time.sleep(0.01)
            except (ConnectionResetError, BrokenPipeError):
                break
        connection.settimeout(5)
        answer = answer or connection.recv(200)
    finally:
        connection.close()
    return sent, answer


def test_a_request_head_of_many_headers_or_without_end_is_refused(client):
    many = {f"X-Header-{i}": "y" * 1000 for i in range(80)}
    assert client.get("/id/study/ref-58.ttl", headers=many).status_code == 400
    sent, answer = _send_without_end(client, b"GET /id/study/ref-58.ttl HTTP/1.1\r\nHost: x\r\nX-Long: ",
                                     b"z" * 65536)
    assert answer.startswith(b"HTTP/1.1 400"), (sent, answer)
    assert sent < 10_000_000
    assert client.get("/id/study/ref-58.ttl", headers={"X-Fits": "y" * 30_000}).status_code == 200


def test_a_large_upload_is_refused_with_or_without_a_length(client):
    query = "SELECT * WHERE { ?s ?p ?o } # " + "x" * 2_000_000
    headers = {"Content-Type": "application/sparql-query"}
    assert client.post("/sparql", content=query.encode(), headers=headers).status_code == 413
    # A chunked upload names no length: the server must answer once it has read too much, not read on.
    sent, answer = _send_without_end(client, b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                     b"application/sparql-query\r\nTransfer-Encoding: chunked\r\n\r\n",
                                     b"10000\r\n" + b"#" * 65536 + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 413"), (sent, answer)
    assert sent < 10_000_000
    assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200


def test_idle_and_half_sent_connections_are_closed(client):
    host, port = client.base_url.host, client.base_url.port
    from licn.serve.app import BoundedHttpToolsProtocol
    BoundedHttpToolsProtocol.head_timeout, saved = 1.0, BoundedHttpToolsProtocol.head_timeout
    try:
        idle = socket.create_connection((host, port))
        half = socket.create_connection((host, port))
        half.sendall(b"GET /id/study/ref-58.ttl HTTP/1.1\r\nHost: x\r\n")
        idle.settimeout(5)
        half.settimeout(5)
        started = time.monotonic()
        assert idle.recv(1) == b""
        assert half.recv(1) == b""
        assert time.monotonic() - started < 4
    finally:
        BoundedHttpToolsProtocol.head_timeout = saved
        idle.close()
        half.close()


def test_verdicts_from_many_threads_at_once_are_those_of_one():
    """The server parses on worker threads; rdflib's parser alone gives a wrong tree now and then."""
    verdicts: list = []

    def judge(thread: int):
        for n in range(100):
            text = f"SELECT ?p ?o WHERE {{ <https://w3id.org/licn/id/study/ref-{thread}-{n}> ?p ?o }}"
            verdicts.append((is_point_lookup(text), is_lookup(text)))
    threads = [threading.Thread(target=judge, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(verdicts) == {(True, True)} and len(verdicts) == 1600
