"""Running SPARQL on the built graph: pyoxigraph (the default), rdflib, or a remote SPARQL 1.1
endpoint through SPARQLWrapper; one result type, one converter from engine terms to plain values."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef, Variable

from .. import paths
from ..graph import to_rdflib
from .catalogue import QueryError, StoredQuery, bind, load_catalogue, parse_query_file
from .parse import PARSER_LOCK, syntax_problem

ENGINES = ("oxigraph", "rdflib")


@dataclass
class Result:
    """A SELECT or ASK result: its rows as plain Python values (see plain) and, where asked for,
    as the engine's terms (pyoxigraph's), which pages need to link IRIs."""
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    terms: list[list] | None = None
    truncated: bool = False

    def as_dicts(self) -> list[dict]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def to_dataframe(self):
        import pandas as pd  # optional extra: pip install licn-kg[pandas]
        return pd.DataFrame(self.rows, columns=self.columns)


_XSD = "http://www.w3.org/2001/XMLSchema#"
_STRING_TYPES = {_XSD + "string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}


def plain(term):
    """One result cell as a plain value (pyoxigraph or rdflib term): IRIs as strings, literals as
    their value (whole numbers as int, other numbers as float, booleans as bool, the rest as text)."""
    if term is None:
        return None
    if isinstance(term, (ox.NamedNode, ox.BlankNode)) or (
            isinstance(term, ox.Literal) and term.datatype.value in _STRING_TYPES):
        return term.value  # most cells: no detour through rdflib
    if not isinstance(term, (Literal, URIRef, BNode)):
        term = to_rdflib(term)
    value = term.toPython() if isinstance(term, Literal) else None
    if isinstance(value, (bool, int)):
        return value
    if isinstance(value, (float, Decimal)):
        return float(value)
    return str(term)


@lru_cache(maxsize=4)
def _oxigraph_store(path: str, mtime: float):
    store = ox.Store()
    store.bulk_load(path=path, format=ox.RdfFormat.N_QUADS)
    return store


def load_dataset(path: str) -> ox.Store:
    """dist/licn.nq (its path) as a store whose default graph holds the union of its named graphs, so
    that a query run without pyoxigraph's union option reads the default graph as the union of the
    layers unless it names its own dataset (FROM, FROM NAMED), which the engine then honours."""
    store = ox.Store()
    store.bulk_load(path=path, format=ox.RdfFormat.N_QUADS)
    store.extend([ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in store])
    return store


@lru_cache(maxsize=2)
def _dataset_store(path: str, mtime: float) -> ox.Store:
    return load_dataset(path)


@lru_cache(maxsize=2)
def _rdflib_dataset(path: str, mtime: float):
    from rdflib import Dataset
    ds = Dataset(default_union=True)
    ds.parse(path, format="nquads")
    return ds


def rdflib_dataset(path: Path):
    """dist/licn.nq as an rdflib Dataset whose default graph is the union of its graphs (kept while the file is)."""
    path = Path(path).resolve()
    return _rdflib_dataset(str(path), path.stat().st_mtime)


def _built_nquads(dist: Path) -> Path:
    """dist/licn.nq, resolved (QueryError when there is none)."""
    path = (Path(dist) / "licn.nq").resolve()
    if not path.exists():
        raise QueryError(f"{path} does not exist: run 'licn build' first")
    return path


def oxigraph_store(dist: Path = paths.DIST):
    path = _built_nquads(dist)
    return _oxigraph_store(str(path), path.stat().st_mtime)


def run_text(text: str, engine: str = "oxigraph", dist: Path = paths.DIST, endpoint: str | None = None,
             store=None) -> Result:
    if endpoint:
        return _run_endpoint(text, endpoint)
    if engine == "oxigraph":
        if store is not None:
            return run_oxigraph(store, text)
        path = _built_nquads(dist)
        return run_oxigraph(_dataset_store(str(path), path.stat().st_mtime), text, union=False)
    if engine == "rdflib":
        path = _built_nquads(dist)
        try:
            result = rdflib_dataset(path).query(text)
        except Exception as exc:  # rdflib raises parser and evaluation errors of many types
            raise QueryError(f"rdflib could not run the query: {exc}") from None
        if result.type == "ASK":
            return Result(["ask"], [[bool(result.askAnswer)]])
        columns = [str(v) for v in result.vars]
        return Result(columns, [[plain(term) for term in row] for row in result])
    raise QueryError(f"unknown engine '{engine}' (one of {', '.join(ENGINES)})")


def run_oxigraph(store, text: str, cap: int | None = None, terms: bool = False, union: bool = True) -> Result:
    """A SELECT or ASK query on a pyoxigraph store (with union, its default graph the union of its
    graphs); with cap, at most that many rows (truncated says so); with terms, the cells' terms as well."""
    problem = result = None
    try:
        result = store.query(text, use_default_graph_as_union=union)
        if isinstance(result, ox.QueryBoolean):
            answer = ox.Literal("true" if result else "false", datatype=ox.NamedNode(_XSD + "boolean"))
            return Result(["ask"], [[bool(result)]], [[answer]] if terms else None)
        if not isinstance(result, ox.QuerySolutions):
            problem = "only SELECT and ASK queries give a table"
        else:
            columns = [v.value for v in result.variables]
            solutions = list(result if cap is None else itertools.islice(result, cap + 1))
    except SyntaxError as exc:
        problem = syntax_problem(text, str(exc))
    except (OSError, RuntimeError, ValueError) as exc:
        problem = f"the query could not be run: {exc}"
    if problem:  # raised outside the except clauses, so that no reference cycle keeps the engine's objects
        result = None
        raise QueryError(problem)
    truncated = cap is not None and len(solutions) > cap
    cells = [[solution[c] for c in columns] for solution in solutions[:cap]]
    return Result(columns, [[plain(t) for t in row] for row in cells], cells if terms else None, truncated)


# The expressions whose value is a boolean (SPARQL 1.1, section 17), by their names in rdflib's algebra.
_BOOLEAN_EXPRESSIONS = {
    "RelationalExpression", "ConditionalAndExpression", "ConditionalOrExpression", "UnaryNot",
    "Builtin_BOUND", "Builtin_EXISTS", "Builtin_NOTEXISTS", "Builtin_sameTerm", "Builtin_isIRI", "Builtin_isURI",
    "Builtin_isBLANK", "Builtin_isLITERAL", "Builtin_isNUMERIC", "Builtin_REGEX", "Builtin_CONTAINS",
    "Builtin_STRSTARTS", "Builtin_STRENDS", "Builtin_LANGMATCHES",
}
_INTEGER_TYPES = {_XSD + t for t in ("integer", "int", "long", "short")}


def boolean_columns(text: str) -> set[str]:
    """The variables a query binds, with BIND(... AS ?v) or SELECT (... AS ?v), only to boolean values:
    a comparison, a logical operator, a boolean function, a boolean constant, IF or COALESCE of such, or
    another such variable. Read from the query as rdflib's parser gives it; none if rdflib cannot parse it."""
    from rdflib.plugins.sparql import algebra, parser
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        with PARSER_LOCK:
            tree = algebra.translateQuery(parser.parseQuery(text)).algebra
    except Exception:  # noqa: BLE001 - a query rdflib cannot read is sent as it is, its columns as they come
        return set()
    bindings: dict[str, list] = {}
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, CompValue):
            if node.name == "Extend":
                bindings.setdefault(str(node.var), []).append(node.expr)
            pending.extend(node.values())
        elif isinstance(node, (list, tuple)):
            pending.extend(node)

    def boolean(expr, known: set[str]) -> bool:
        if isinstance(expr, Variable):
            return str(expr) in known
        if isinstance(expr, Literal):
            return expr.datatype is not None and str(expr.datatype) == _XSD + "boolean"
        name = getattr(expr, "name", None)
        if name == "Builtin_IF":
            return boolean(expr.arg2, known) and boolean(expr.arg3, known)
        if name == "Builtin_COALESCE":
            return all(boolean(arg, known) for arg in expr.arg)
        return name in _BOOLEAN_EXPRESSIONS

    found: set[str] = set()
    while True:  # until no more variables turn out boolean through other ones
        more = {v for v, exprs in bindings.items() if v not in found and all(boolean(e, found) for e in exprs)}
        if not more:
            return found
        found |= more


def _run_endpoint(text: str, endpoint: str) -> Result:
    from SPARQLWrapper import JSON, POST, SPARQLWrapper

    client = SPARQLWrapper(endpoint, returnFormat=JSON)
    client.setMethod(POST)
    # SPARQLWrapper guesses the query form from the text and mistakes a word in a comment line
    # ("address" -> ADD) for an update; the endpoint does not need the comment lines.
    client.setQuery("\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    client.setTimeout(60)
    try:
        data = client.queryAndConvert()
    except Exception as exc:  # SPARQLWrapper raises many types; the user needs the message
        raise QueryError(f"the endpoint {endpoint} refused the query: {exc}") from None
    if "boolean" in data:
        return Result(["ask"], [[bool(data["boolean"])]])
    # A store may give a boolean the query computes as the integer 1 or 0 (Virtuoso 7 does), where
    # SPARQL gives true or false: in a column the query binds only to booleans, 1 and 0 are read so.
    # A literal typed xsd:boolean is read by its lexical forms, 1 and 0 among them.
    booleans = boolean_columns(text)

    def value(cell: dict | None, column: str):
        if cell is None:
            return None
        if cell["type"] not in ("literal", "typed-literal"):
            return cell["value"]
        if column in booleans and cell.get("datatype") in _INTEGER_TYPES and cell["value"].strip() in ("0", "1"):
            return cell["value"].strip() == "1"
        return plain(Literal(cell["value"], datatype=cell.get("datatype"), lang=cell.get("xml:lang")))

    columns = data["head"]["vars"]
    return Result(columns, [[value(binding.get(c), c) for c in columns] for binding in data["results"]["bindings"]])


def run(name: str, params: dict[str, str] | None = None, engine: str = "oxigraph", dist: Path = paths.DIST,
        endpoint: str | None = None, catalogue: dict[str, StoredQuery] | None = None) -> Result:
    """A stored query by name, or a query file (NAME.rq, with the same header) by its path."""
    catalogue = catalogue if catalogue is not None else load_catalogue()
    if name in catalogue:
        query = catalogue[name]
    elif name.endswith(".rq") and Path(name).is_file():
        query = parse_query_file(Path(name))
    else:
        raise QueryError(f"unknown query '{name}' (see 'licn queries', or give the path of a .rq file)")
    return run_text(bind(query, params), engine=engine, dist=dist, endpoint=endpoint)
