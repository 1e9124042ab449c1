"""What a SPARQL request is, decided from its parse tree (rdflib's SPARQL 1.1 parser), never from
its text: the query form, whether it is an update, whether it reaches out with SERVICE."""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import NamedTuple

from pyparsing import ParseBaseException, ParseResults
from rdflib import BNode, URIRef, Variable
from rdflib.plugins.sparql import parser
from rdflib.plugins.sparql.algebra import translatePrologue
from rdflib.plugins.sparql.parserutils import CompValue

FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT", "DescribeQuery": "DESCRIBE"}
READ_ONLY = "this endpoint is read-only: SPARQL Update is not accepted"


class Rejected(Exception):
    """A request the engine will not run; status is the HTTP status that says why."""

    def __init__(self, status: int, message: str):
        super().__init__(status, message)  # both in args, so that it crosses a process boundary
        self.status, self.message = status, message

    def __str__(self) -> str:
        return self.message


# rdflib's parser (pyparsing) is not thread-safe: parsed at once on several threads, a query now and
# then gets a wrong tree. The server parses on worker threads, so every parse takes this lock.
PARSER_LOCK = threading.Lock()


def _parse(text: str, update: bool = False):
    with PARSER_LOCK:
        return parser.parseUpdate(text) if update else parser.parseQuery(text)


def _nodes(tree):
    """Every node of a parse tree, without recursion (a tree may be deep)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            yield node
            stack.extend(node.values())
        elif isinstance(node, (ParseResults, list, tuple)):
            stack.extend(node)


def _parses_as_update(text: str) -> bool:
    try:
        _parse(text, update=True)
        return True
    except (ParseBaseException, RecursionError, ValueError, TypeError):
        return False


@lru_cache(maxsize=4096)
def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE; Rejected for an update, a federated query (SERVICE),
    a query nested too deeply to parse, or one that does not parse."""
    if not text or not text.strip():
        raise Rejected(400, "the query is empty")
    try:
        tree = _parse(text)
    except RecursionError:
        raise Rejected(400, "the query is nested too deeply to be parsed") from None
    except (ParseBaseException, ValueError, TypeError) as exc:
        if isinstance(exc, ParseBaseException) and _parses_as_update(text):
            raise Rejected(403, READ_ONLY) from None
        raise Rejected(400, f"the query does not parse: {exc}") from None
    if any(node.name == "ServiceGraphPattern" for node in _nodes(tree)):
        raise Rejected(403, "federated queries (SERVICE) are not accepted by this endpoint")
    return FORMS[tree[1].name]


# Parts of a query that can make its cost grow beyond what its patterns reach: they send it to the
# general workers (licn.serve.pool.Lanes), whatever its patterns.
BEYOND_LOOKUP = {"GroupClause", "HavingClause", "OrderClause", "SubSelect", "InlineData", "InlineDataOneVar",
                 "InlineDataFull", "DataBlock"}


def _simple_predicate(node) -> bool:
    """A predicate that is one IRI or a variable, not a property path."""
    if not (isinstance(node, CompValue) and node.name == "PathAlternative"):
        return True  # a variable, or `a`
    if len(node["part"]) != 1 or len(node["part"][0]["part"]) != 1:
        return False  # alternatives or a sequence
    element = node["part"][0]["part"][0]
    return "mod" not in element and not (isinstance(element["part"], CompValue)
                                         and element["part"].name.startswith("Path"))


# Every kind of parse tree node a query of one triple pattern (and nothing else) has.
ONE_PATTERN = {"SelectQuery", "AskQuery", "ConstructQuery", "DescribeQuery", "GroupGraphPatternSub", "TriplesBlock",
               "vars", "PrefixDecl", "Base", "pname", "LimitOffsetClauses", "PathAlternative", "PathElt",
               "PathSequence"}


class Lane(NamedTuple):
    name: str  # "point", "lookup" or "general"
    subject: str | None = None  # a point SELECT's subject IRI: its statements bound the solutions


def lane_of(text: str) -> Lane:
    """Where a query is answered (licn.serve.pool.Lanes), from one parse: "point" for a point lookup,
    "lookup" for another lookup, "general" for the rest (and for what does not parse)."""
    tree = _tree(text)
    if tree is None:
        return Lane("general")
    if _is_point_lookup(tree):
        return Lane("point", _point_subject(tree))
    return Lane("lookup" if _is_lookup(tree) else "general")


def _point_subject(tree) -> str | None:
    """The subject of a point SELECT's one pattern where the query spells it out exactly: an IRI in
    full, or a prefixed name without escapes, and no BASE (whose resolution engines may differ on)."""
    if tree[1].name != "SelectQuery" or any(node.name == "Base" for node in tree[0]):
        return None
    subject = next(node["triples"][0] for node in _nodes(tree) if node.name == "TriplesBlock")[0]
    if isinstance(subject, CompValue) and subject.name == "pname" and "\\" not in subject.get("localname", ""):
        subject = translatePrologue(tree[0], None).absolutize(subject)
    return str(subject) if isinstance(subject, URIRef) else None


def _tree(text: str):
    try:
        return _parse(text)
    except (ParseBaseException, RecursionError, ValueError, TypeError):
        return None


def is_point_lookup(text: str) -> bool:
    return lane_of(text).name == "point"


def is_lookup(text: str) -> bool:
    return lane_of(text).name in ("point", "lookup")


def _is_point_lookup(tree) -> bool:
    """Whether a query reads one triple pattern whose subject it names (or DESCRIBEs named resources
    only), with no filter, optional part, union, grouping, ordering or sub-select: its work is bounded
    by that resource's statements and the result cap, so it may run beside the server's requests."""
    nodes = list(_nodes(tree))
    if any(node.name not in ONE_PATTERN for node in nodes):
        return False
    patterns = [list(flat) for node in nodes if node.name == "TriplesBlock" for flat in node["triples"]]
    if tree[1].name == "DescribeQuery":
        return not patterns and not any(isinstance(v, (Variable, BNode)) for v in tree[1].get("var") or [])
    return (len(patterns) == 1 and len(patterns[0]) == 3 and not isinstance(patterns[0][0], (Variable, BNode))
            and _simple_predicate(patterns[0][1]))


def _is_lookup(tree) -> bool:
    """Whether a query only follows statements out of the resources it names: every triple pattern's
    subject is an IRI the query gives, or a value an earlier pattern reached that way, every
    predicate is an IRI or a variable, and there is no grouping, ordering, sub-select or VALUES.
    Its cost is then bounded by how many statements those resources have, not by the graph's size."""
    patterns = []
    for node in _nodes(tree):
        if node.name in BEYOND_LOOKUP or node.name.startswith("Aggregate_"):
            return False
        if node.name == "TriplesBlock":
            for flat in node["triples"]:
                flat = list(flat)
                patterns += [flat[i:i + 3] for i in range(0, len(flat) - 2, 3)]
    if not patterns or not all(_simple_predicate(p) for _, p, _ in patterns):
        return tree[1].name == "DescribeQuery" and not patterns
    reached: set = set()
    left = patterns
    while left:
        anchored = [not isinstance(s, (Variable, BNode)) or s in reached for s, _, _ in left]
        if not any(anchored):
            return False
        reached |= {o for (_, _, o), a in zip(left, anchored) if a and isinstance(o, (Variable, BNode))}
        left = [t for t, a in zip(left, anchored) if not a]
    return True
