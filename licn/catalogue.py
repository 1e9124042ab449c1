"""The stored query catalogue: .rq files with a metadata header, safe parameters, and a runner
for pyoxigraph, rdflib or a remote SPARQL 1.1 endpoint."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from rdflib import Literal
from rdflib.namespace import DCTERMS, RDF, RDFS

from loaders.vocab import ID, LICN, SH

from . import paths

ENGINES = ("oxigraph", "rdflib")
HEADER_RE = re.compile(r"^#\s*(title|description|param):\s*(.*)$")
PARAM_RE = re.compile(r"^(\S+)\s*(.*?)\s*(?:\(default:\s*(.*)\))?\s*$")


class QueryError(Exception):
    """An unknown query, an unknown parameter or a query an engine refused."""


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    default: str = ""


@dataclass(frozen=True)
class StoredQuery:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    text: str
    path: Path

    @property
    def form(self) -> str:
        body = re.sub(r"#[^\n]*", "", self.text)
        body = re.sub(r"(?i)\bPREFIX\s+\S*:\s*<[^>]*>|\bBASE\s*<[^>]*>", "", body)
        match = re.search(r"(?i)\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", body)
        return match.group(1).upper() if match else "SELECT"


@dataclass
class Result:
    columns: list[str]
    rows: list[list] = field(default_factory=list)

    def as_dicts(self) -> list[dict]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def to_dataframe(self):
        import pandas as pd  # optional extra: pip install licn-kg[pandas]
        return pd.DataFrame(self.rows, columns=self.columns)


def parse_query_file(path: Path) -> StoredQuery:
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    params = []
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        match = HEADER_RE.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key == "param":
            m = PARAM_RE.match(value)
            params.append(Param(m.group(1), m.group(2), (m.group(3) or "").strip()))
        else:
            meta[key] = value.strip()
    for key in ("title", "description"):
        if not meta.get(key):
            raise QueryError(f"{path}: the header has no '# {key}:' line")
    return StoredQuery(path.stem, meta["title"], meta["description"], tuple(params), text, path)


def load_catalogue(folder: Path = paths.QUERIES) -> dict[str, StoredQuery]:
    return {p.stem: parse_query_file(p) for p in sorted(folder.glob("*.rq"))}


def sparql_string(value: str) -> str:
    """A SPARQL string literal holding exactly value: nothing in it can escape the quotes."""
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def bind(query: StoredQuery, values: dict[str, str] | None = None) -> str:
    """The query text with each $param replaced by a string literal (its value or default)."""
    values = dict(values or {})
    known = {p.name for p in query.params}
    unknown = sorted(set(values) - known)
    if unknown:
        raise QueryError(f"query '{query.name}' has no parameter {', '.join(unknown)} (it takes: {', '.join(sorted(known)) or 'none'})")
    text = query.text
    for param in query.params:
        literal = sparql_string(str(values.get(param.name, param.default)))
        text = re.sub(r"\$" + re.escape(param.name) + r"\b", lambda _: literal, text)
    return text


def _plain(term):
    """One result cell as a plain value: IRIs as strings, literals as their value."""
    if term is None:
        return None
    if isinstance(term, Literal):
        value = term.toPython()
        if isinstance(value, bool) or isinstance(value, int):
            return value
        if isinstance(value, (float, Decimal)):
            return float(value)
        return str(term)
    return str(term)


_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER_TYPES = {_XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
                                     "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong",
                                     "unsignedShort", "unsignedByte")}
_STRING_TYPES = {_XSD + "string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}


def _plain_oxigraph(term):
    """As _plain, straight from pyoxigraph's term for the common datatypes (most cells are strings
    and integers), through an rdflib Literal for the rest."""
    if term is None:
        return None
    import pyoxigraph as ox
    if not isinstance(term, ox.Literal):
        return term.value
    datatype = term.datatype.value
    if datatype in _STRING_TYPES:
        return term.value
    if datatype in _INTEGER_TYPES and term.value.isdigit():
        return int(term.value)
    return _plain(Literal(term.value, datatype=None if term.language else datatype, lang=term.language))


@lru_cache(maxsize=4)
def _oxigraph_store(path: str, mtime: float):
    import pyoxigraph as ox
    store = ox.Store()
    store.bulk_load(path=path, format=ox.RdfFormat.N_QUADS)
    return store


@lru_cache(maxsize=2)
def _rdflib_dataset(path: str, mtime: float):
    from rdflib import Dataset
    ds = Dataset(default_union=True)
    ds.parse(path, format="nquads")
    return ds


def oxigraph_store(dist: Path = paths.DIST):
    path = Path(dist) / "licn.nq"
    if not path.exists():
        raise QueryError(f"{path} does not exist: run 'licn build' first")
    return _oxigraph_store(str(path), path.stat().st_mtime)


def run_text(text: str, engine: str = "oxigraph", dist: Path = paths.DIST, endpoint: str | None = None,
             store=None) -> Result:
    if endpoint:
        return _run_endpoint(text, endpoint)
    if engine == "oxigraph":
        return run_oxigraph(store if store is not None else oxigraph_store(dist), text)
    if engine == "rdflib":
        path = Path(dist) / "licn.nq"
        if not path.exists():
            raise QueryError(f"{path} does not exist: run 'licn build' first")
        try:
            result = _rdflib_dataset(str(path), path.stat().st_mtime).query(text)
        except Exception as exc:  # rdflib raises parser and evaluation errors of many types
            raise QueryError(f"rdflib could not run the query: {exc}") from None
        if result.type == "ASK":
            return Result(["ask"], [[bool(result.askAnswer)]])
        columns = [str(v) for v in result.vars]
        return Result(columns, [[_plain(row[i]) for i in range(len(columns))] for row in result])
    raise QueryError(f"unknown engine '{engine}' (one of {', '.join(ENGINES)})")


def run_oxigraph(store, text: str) -> Result:
    import pyoxigraph as ox
    try:
        result = store.query(text, use_default_graph_as_union=True)
    except SyntaxError as exc:
        raise QueryError(f"the query does not parse: {exc}") from None
    if isinstance(result, ox.QueryBoolean):
        return Result(["ask"], [[bool(result)]])
    columns = [v.value for v in result.variables]
    return Result(columns, [[_plain_oxigraph(solution[c]) for c in columns] for solution in result])


def _run_endpoint(text: str, endpoint: str) -> Result:
    from SPARQLWrapper import JSON, POST, SPARQLWrapper

    client = SPARQLWrapper(endpoint)
    client.setMethod(POST)
    client.setReturnFormat(JSON)
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
    columns = data["head"]["vars"]
    rows = []
    for binding in data["results"]["bindings"]:
        row = []
        for c in columns:
            cell = binding.get(c)
            if cell is None:
                row.append(None)
            elif cell["type"] in ("literal", "typed-literal"):
                row.append(_plain(Literal(cell["value"], datatype=cell.get("datatype"), lang=cell.get("xml:lang"))))
            else:
                row.append(cell["value"])
        rows.append(row)
    return Result(columns, rows)


def run(name: str, params: dict[str, str] | None = None, engine: str = "oxigraph", dist: Path = paths.DIST,
        endpoint: str | None = None, catalogue: dict[str, StoredQuery] | None = None) -> Result:
    catalogue = catalogue if catalogue is not None else load_catalogue()
    if name not in catalogue:
        raise QueryError(f"unknown query '{name}' (see 'licn queries')")
    return run_text(bind(catalogue[name], params), engine=engine, dist=dist, endpoint=endpoint)


def catalogue_markdown(catalogue: dict[str, StoredQuery] | None = None) -> str:
    """queries/README.md: the catalogue as a table, generated from the query headers."""
    catalogue = catalogue if catalogue is not None else load_catalogue()
    lines = ["# Stored queries", "",
             "Generated by `licn queries --markdown > queries/README.md` from the headers of the `.rq` files;",
             "run one with `licn query NAME [--param k=v] [--format table|csv|json|md]`.", "",
             "| name | question | parameters |", "|---|---|---|"]
    for q in catalogue.values():
        params = "<br>".join(f"`{p.name}`: {p.description}" + (f" (default `{p.default}`)" if p.default else "")
                             for p in q.params)
        lines.append(f"| [`{q.name}`]({q.name}.rq) | **{q.title}**. {q.description} | {params} |")
    lines += ["", "`checks/*-violation.rq` are build gates: `licn build` fails when one of them returns rows.", ""]
    return "\n".join(lines)


def catalogue_triples(folder: Path = paths.QUERIES) -> list[tuple]:
    """The catalogue as RDF: each query a licn:StoredQuery (an sh:SPARQLExecutable)."""
    triples = []
    for query in load_catalogue(folder).values():
        q = ID[f"query/{query.name}"]
        prop = {"SELECT": SH.select, "ASK": SH.ask, "CONSTRUCT": SH.construct, "DESCRIBE": SH.select}[query.form]
        triples += [(q, RDF.type, LICN.StoredQuery), (q, RDFS.label, Literal(query.title, lang="en")),
                    (q, LICN.queryName, Literal(query.name)), (q, DCTERMS.title, Literal(query.title, lang="en")),
                    (q, DCTERMS.description, Literal(query.description, lang="en")), (q, prop, Literal(query.text))]
        for param in query.params:
            default = f" (default: {param.default})" if param.default else ""
            triples.append((q, LICN.parameter, Literal(f"{param.name}: {param.description}{default}")))
    return triples
