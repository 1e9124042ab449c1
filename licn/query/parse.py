"""What the engine says of a query it will not run, in words a person can act on. Nothing here
decides whether a query runs: pyoxigraph parses and evaluates every query, in a sandbox (see
licn.serve.pool). rdflib's parser is asked only which message to give for a text pyoxigraph
refused (an update gets 403, not 400), so a difference between the two parsers changes a message,
never what is run."""
from __future__ import annotations

import re
import threading

from pyparsing import ParseBaseException
from rdflib.plugins.sparql import algebra, parser

READ_ONLY = "this endpoint is read-only: SPARQL Update is not accepted"


class Rejected(Exception):
    """A request the engine will not run; status is the HTTP status that says why."""

    def __init__(self, status: int, message: str):
        super().__init__(status, message)  # both in args, so that it crosses a process boundary
        self.status, self.message = status, message

    def __str__(self) -> str:
        return self.message


# rdflib's parser (pyparsing) is not thread-safe: parsed at once on several threads, a query now and
# then gets a wrong tree.
PARSER_LOCK = threading.Lock()


def _undeclared_prefix(text: str) -> str | None:
    """The prefix rdflib finds undeclared in a query, if that is what is wrong with it."""
    try:
        with PARSER_LOCK:
            algebra.translateQuery(parser.parseQuery(text))
    except Exception as exc:  # rdflib raises a plain Exception for an unknown prefix
        found = re.match(r"Unknown namespace prefix : (.*)", str(exc))
        if found:
            return "" if found[1] == "None" else found[1]
    return None


def parses_as_update(text: str) -> bool:
    try:
        with PARSER_LOCK:
            parser.parseUpdate(text)
        return True
    except (ParseBaseException, RecursionError, ValueError, TypeError):
        return False


# pyoxigraph's message: "error at LINE:COLUMN: expected one of ..." and the grammar's alternatives.
_POSITION = re.compile(r"error at (\d+):(\d+): (.*)", re.S)
_PREFIXED_NAME = re.compile(r"([A-Za-z][\w.-]*)?:")


def syntax_problem(text: str, message: str) -> str:
    """pyoxigraph's syntax error as one line: where, and what is wrong where it can say it plainly
    (an undeclared prefix); not the list of everything the grammar would have taken there."""
    found = _POSITION.match(message)
    if not found:
        return f"the query does not parse: {message.splitlines()[0] if message else 'syntax error'}"
    line, column, detail = int(found[1]), int(found[2]), found[3]
    where = f"line {line}, column {column}"
    lines = text.split("\n")
    prefix = None
    if "Prefix not found" in detail and line <= len(lines):
        word = lines[line - 1][:max(column - 1, 0)].rsplit(None, 1)[-1:] or [""]
        name = _PREFIXED_NAME.match(word[0].lstrip("({[,;"))
        prefix = (name[1] or "") if name else None
    if prefix is None:
        prefix = _undeclared_prefix(text)
    if prefix is not None:
        return f"the query does not parse at {where}: the prefix '{prefix}:' is not declared (add PREFIX {prefix}: <...>)"
    expected = detail.split("\n")[0]
    if len(expected) > 120:
        expected = expected[:117] + "..."
    return f"the query does not parse at {where}: {expected}"
