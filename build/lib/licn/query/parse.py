"""What a SPARQL request is, decided from its parse tree (rdflib's SPARQL 1.1 parser), never from
its text: the query form, whether it is an update, whether it reaches out with SERVICE."""
from __future__ import annotations

from functools import lru_cache

from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql import parser
from rdflib.plugins.sparql.parserutils import CompValue

FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT", "DescribeQuery": "DESCRIBE"}


class Rejected(Exception):
    """A request the engine will not run; status is the HTTP status that says why."""

    def __init__(self, status: int, message: str):
        super().__init__(status, message)  # both in args, so that it crosses a process boundary
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return self.message


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
        parser.parseUpdate(text)
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
        tree = parser.parseQuery(text)
    except RecursionError:
        raise Rejected(400, "the query is nested too deeply to be parsed") from None
    except ParseBaseException as exc:
        if _parses_as_update(text):
            raise Rejected(403, "this endpoint is read-only: SPARQL Update is not accepted") from None
        raise Rejected(400, f"the query does not parse: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise Rejected(400, f"the query does not parse: {exc}") from None
    if any(node.name == "ServiceGraphPattern" for node in _nodes(tree)):
        raise Rejected(403, "federated queries (SERVICE) are not accepted by this endpoint")
    return FORMS[tree[1].name]
