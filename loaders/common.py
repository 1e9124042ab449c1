"""Reading source files with line numbers, collecting problems, and stating provenance."""
from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, XSD

from .vocab import IRI_UNSAFE, KEY_RE, LICN, LONGEST_KEY, concept, source_iri

STATUSES = {"seen": LICN.seen, "inferred": LICN.inferred}
# The longest text a field may hold: a title or an abstract is far shorter; a longer value is a pasted
# file or a broken quote, and the writers of the dumps and the site are not made for it.
LONGEST_TEXT = 100_000


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class DataError(Exception):
    """All problems found in one run, reported together."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line, p.field, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Row:
    """One record of a source file: its fields and where it stands."""
    file: str
    line: int
    data: dict

    def get(self, name: str, default: str = "") -> str:
        """A field as text; a YAML list as its items joined by '; ' (what as_list splits again)."""
        value = self.data.get(name)
        if value is None or isinstance(value, dict):
            return default
        if isinstance(value, list):
            return "; ".join(str(v).strip() for v in value if not isinstance(v, (dict, list)))
        return str(value).strip()

    def problem(self, name: str, message: str) -> Problem:
        return Problem(self.file, self.line, name, message)


@dataclass
class Context:
    """What one loader may refer to that another file defines (keys of sources, concepts...)."""
    sources: set[str] = field(default_factory=set)
    concepts: dict[str, set[str]] = field(default_factory=dict)
    concept_labels: dict[tuple[str, str], str] = field(default_factory=dict)  # (scheme, key) -> preferred label
    mechanism_kind: dict[str, str] = field(default_factory=dict)
    list_length: int = 0
    study_numbers: set[int] = field(default_factory=set)
    works: set[str] = field(default_factory=set)
    work_names: dict[str, str] = field(default_factory=dict)  # bibliography key -> how labels name it (work_name)
    work_numbers: dict[str, int] = field(default_factory=dict)  # bibliography key -> its reference number
    later_works: set[str] = field(default_factory=set)  # works the review does not cite
    report_of: dict[str, str] = field(default_factory=dict)  # a report's key -> its study's main report
    curators: set[str] = field(default_factory=set)
    searches: set[str] = field(default_factory=set)
    screened: set[str] = field(default_factory=set)  # works a screening row includes
    excluded: dict[str, int] = field(default_factory=dict)  # works a screening row excludes -> its line
    search_sources: set[str] = field(default_factory=set)
    criteria: set[str] = field(default_factory=set)


def short_name(authors: str, year: str, title: str) -> str:
    """How a label names a work for people: 'Knight 2024', 'Knight and Smith 2024' or 'Knight et al.
    2024' from its authors ('Surname Initials; ...'), else its title; "" when it has neither."""
    names = [n.strip() for n in authors.split(";") if n.strip()]
    if not names or names[0].lower().startswith("et al"):
        return title
    surnames = [m.group(1) if (m := re.fullmatch(r"(.+?)\s+[A-Z][A-Z.\-]*", n)) else n
                for n in names if not n.lower().startswith("et al")]
    if len(surnames) == 1 and len(names) == 1:
        who = surnames[0]
    elif len(surnames) == 2 and len(names) == 2:
        who = f"{surnames[0]} and {surnames[1]}"
    else:
        who = f"{surnames[0]} et al."
    return f"{who} {year}".strip()


def work_name(key: str, ctx: Context) -> str:
    """A work (a bibliography key, or ref-N of a reviewed study not identified) as labels name it."""
    if ctx.work_names.get(key):
        return ctx.work_names[key]
    number = ctx.work_numbers.get(key) or (key[4:] if key.startswith("ref-") and key[4:].isdigit() else None)
    return f"reference {number}" if number else key


def read_text(path: Path, name: str) -> tuple[str, Problem | None]:
    """A file's text as UTF-8 (a byte order mark at the start is dropped), or the problem."""
    try:
        data = path.read_bytes()
    except OSError as exc:  # a folder named like a data file, a file without read permission
        return "", Problem(name, 0, "(file)", f"cannot be read ({exc.strerror})")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return "", Problem(name, line, "(file)", f"not valid UTF-8 ({exc.reason}); save the file as UTF-8")


def check_text(row: Row) -> list[Problem]:
    """Control characters (other than tab and line breaks) cannot be written in XML or shown, and a
    value longer than LONGEST_TEXT is no field of a record."""
    found = []
    for key, value in row.data.items():
        if isinstance(value, list):
            value = "".join(v for v in value if isinstance(v, str))
        if isinstance(value, str) and len(value) > LONGEST_TEXT:
            found.append(row.problem(str(key), f"{len(value):,} characters; a field holds at most {LONGEST_TEXT:,}"))
            continue
        for ch in value if isinstance(value, str) else ():
            if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r":
                found.append(row.problem(str(key), f"control character U+{ord(ch):04X} in the value"))
                break
    return found


def unsafe_iri(text: str) -> str | None:
    """The first character that cannot stand in an IRI, if any."""
    match = IRI_UNSAFE.search(text)
    return match.group(0) if match else None


def read_csv(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = (),
             label: str | None = None) -> tuple[list[Row], list[Problem]]:
    """Rows of a CSV file with their line numbers; problems for encoding, quoting, shape, blanks, and
    for a column that is neither required nor optional (a misspelt column would be dropped silently)."""
    name = label or path.name
    problems: list[Problem] = []
    text, problem = read_text(path, name)
    if problem:
        return [], [problem]
    csv.field_size_limit(2**31 - 1)  # a long field is reported with its column (LONGEST_TEXT), not as broken CSV
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[Row] = []
    try:
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in required if c not in header]
        if missing:
            return [], [Problem(name, 1, c, "required column missing from the header") for c in missing]
        twice = sorted({c for c in header if c and header.count(c) > 1})
        if twice:
            return [], [Problem(name, 1, c, "column appears twice in the header") for c in twice]
        known = required + optional
        problems += [Problem(name, 1, c or f"(column {n})", f"unknown column{did_you_mean(c, known)}")
                     for n, c in enumerate(header, start=1) if c not in known]
        last = reader.line_num  # the last line read: a broken record starts on the line after it
        for record in reader:
            # the record's first line: the reader stands on its last one
            line = reader.line_num - sum(field.count("\n") for field in record)
            last = reader.line_num
            if all(not field.strip() for field in record):
                continue
            if len(record) != len(header):
                problems.append(Problem(name, line, "(row)", f"{len(record)} fields where the header has {len(header)}"))
                continue
            row = Row(name, line, {k: v.strip() for k, v in zip(header, record)})
            problems += check_text(row)
            rows.append(row)
    except csv.Error as exc:
        problems.append(Problem(name, last + 1, "(row)", f"broken CSV: {exc} (in the record that starts on this line)"))
    for row in rows:
        for column in required:
            if not row.get(column):
                problems.append(row.problem(column, "required value is empty"))
    return rows, problems


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when PyYAML has it: same marks
    pass


_BYTE_POSITIONS = hasattr(yaml, "CSafeLoader")  # libyaml counts a reader error's position in UTF-8 bytes


class DuplicateKey(yaml.YAMLError):
    def __init__(self, key, mark):
        super().__init__(f"duplicate key '{key}'")
        self.problem = f"duplicate key '{key}' (a mapping holds each key once)"
        self.problem_mark = mark


def _mapping_with_line(loader, node):
    """A mapping with the line it starts on (__line__) and the line of each key (__lines__)."""
    seen = set()
    lines = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (str, int, float, bool)) and key in seen:
            raise DuplicateKey(key, key_node.start_mark)
        if isinstance(key, (str, int, float, bool)):
            seen.add(key)
            lines[key] = key_node.start_mark.line + 1
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__lines__"] = lines
    return mapping


def _timestamp_or_text(loader, node):
    """A date as a date; one that looks like a date but is none (2019-02-30) as its text, for the
    loader to report with its field."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def read_yaml(path: Path, label: str | None = None) -> tuple[dict, list[Problem]]:
    name = label or path.name
    text, problem = read_text(path, name)
    if problem:
        return {}, [problem]
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, such as a control character
        before = text.encode("utf-8")[: exc.position] if _BYTE_POSITIONS else text[: exc.position]
        line = before.count(b"\n" if _BYTE_POSITIONS else "\n") + 1
        character = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return {}, [Problem(name, line, "(file)", f"not valid YAML: character U+{character:04X} is not allowed")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return {}, [Problem(name, (mark.line + 1) if mark else 1, "(file)", f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    if not isinstance(data, dict):
        return {}, [Problem(name, 1, "(file)", "expected a mapping at the top level")]
    return data, []


def yaml_rows(data: dict, section: str, file: str, problems: list[Problem] | None = None) -> list[Row]:
    """The items of a list section as rows; a section that is not a list, an item that is not a
    mapping, or a field holding a mapping is a problem (when problems is given), never dropped silently."""
    problems = problems if problems is not None else []
    items = data.get(section)
    if items is None:
        return []
    line = section_line(data, section)
    if not isinstance(items, list):
        problems.append(Problem(file, line, section, f"must be a list of entries, not {_what(items)}"))
        return []
    rows = []
    for item in items:
        if not isinstance(item, dict):
            problems.append(Problem(file, line, section, f"each entry must be a mapping of fields (name: value), not {_what(item)}"))
            continue
        rows.append(yaml_row(item, file, problems, line))
    return rows


def section_line(data: dict, section: str) -> int:
    """The line of a key of a YAML mapping (of the mapping when the key is not there)."""
    return (data.get("__lines__") or {}).get(section, data.get("__line__", 1))


def _what(value) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "an empty entry"
    text = str(value)
    return f"the single value '{text if len(text) <= 40 else text[:40] + '...'}'"


PLAIN = (str, int, float, bool, dt.date)


def yaml_row(item: dict, file: str, problems: list[Problem], line: int = 1) -> Row:
    """A YAML mapping as a row; a field holding a mapping, a list of structures or a value that is
    not plain text, a number, a date or a list of those is a problem, and so is a control character."""
    row = Row(file, item.get("__line__", line), item)
    for key, value in item.items():
        if str(key).startswith("__") or value is None:
            continue
        if isinstance(value, dict):
            problems.append(row.problem(str(key), "a mapping where a single value belongs"))
        elif isinstance(value, list):
            if not all(isinstance(v, PLAIN) for v in value):
                problems.append(row.problem(str(key), "a list may hold single values only, not mappings or lists"))
        elif not isinstance(value, PLAIN):
            problems.append(row.problem(str(key), "not a plain value (text, a number or a date)"))
        if any(isinstance(v, float) and not math.isfinite(v) for v in (value if isinstance(value, list) else [value])):
            problems.append(row.problem(str(key), "not a number (.nan or .inf); write the number, or text in quotes"))
    problems += check_text(row)
    return row


def unknown_fields(row: Row, known, problems: list[Problem]) -> None:
    """A field of a YAML entry that the loader does not read is reported, as a CSV column would be."""
    for name in row.data:
        if not str(name).startswith("__") and name not in known:
            problems.append(row.problem(str(name), f"unknown field{did_you_mean(str(name), known)}"))


def unknown_sections(data: dict, known, file: str, problems: list[Problem]) -> None:
    """A top-level key of a YAML file that no loader reads would be dropped silently: a problem."""
    for key in data:
        if not str(key).startswith("__") and key not in known:
            problems.append(Problem(file, section_line(data, key), str(key), f"unknown section{did_you_mean(str(key), known)}"))


def as_list(value) -> list[str]:
    """A list field: a YAML list, or a CSV cell with items separated by ';' or spaces."""
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value or "").replace(";", " ")
    return [part for part in text.split() if part]


def check_key(row: Row, name: str, problems: list[Problem]) -> str:
    if isinstance(row.data.get(name), list):
        problems.append(row.problem(name, "a list where a single value belongs"))
        return row.get(name)
    key = row.get(name)
    if key and not KEY_RE.match(key):
        problems.append(row.problem(name, f"'{key}' is not a key (lower-case letters, digits and '-')"))
    else:
        too_long(row, name, problems)
    return key


def too_long(row: Row, name: str, problems: list[Problem]) -> bool:
    """Whether a key is longer than the files it names allow (the problem is added)."""
    if len(row.get(name)) > LONGEST_KEY:
        problems.append(row.problem(name, f"a key of {len(row.get(name))} characters; at most {LONGEST_KEY} "
                                          "(keys name the files of the site)"))
        return True
    return False


def check_url(row: Row, name: str, problems: list[Problem]) -> str:
    """An http(s) address that can stand in an IRI as written, or '' (and the problem)."""
    url = row.get(name)
    bad = unsafe_iri(url)
    if url and not url.startswith(("http://", "https://")):
        problems.append(row.problem(name, f"'{url}' is not an http(s) address"))
    elif bad:
        what = "a space" if bad == " " else f"'{bad}'" if bad.isprintable() else f"U+{ord(bad):04X}"
        problems.append(row.problem(name, f"{what} cannot stand in an address; write it percent-encoded (%20 for a space)"))
    else:
        return url
    return ""


def date_literal(row: Row, name: str, problems: list[Problem]) -> Literal | None:
    """A date field as an xsd:date: a real calendar date, written YYYY-MM-DD (YAML reads one as a date)."""
    value = row.data.get(name)
    text = value.isoformat() if type(value) is dt.date else str(value or "").strip()
    if not text:
        return None
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            return Literal(dt.date.fromisoformat(text).isoformat(), datatype=XSD.date)
    except ValueError:
        pass
    problems.append(row.problem(name, f"'{text}' is not a date (YYYY-MM-DD)"))
    return None


def unique_keys(rows: list[Row], problems: list[Problem], name: str = "key"):
    """(key, row) for each row whose key is well formed and not seen before; a repeat is reported."""
    first: dict[str, int] = {}
    for row in rows:
        key = check_key(row, name, problems)
        if key in first:
            problems.append(row.problem(name, f"duplicate key '{key}' (first at line {first[key]})"))
            continue
        first[key] = row.line
        yield key, row


DIGITS = re.compile(r"[0-9]+")


def is_number(text: str) -> bool:
    """Whole numbers in ASCII digits only ('²' and other Unicode digits are not numbers here)."""
    return DIGITS.fullmatch(text) is not None


def integers(row: Row, name: str, problems: list[Problem]) -> list[int]:
    values = []
    for part in as_list(row.get(name)):
        if not is_number(part):
            problems.append(row.problem(name, f"'{part}' is not a reference number"))
        else:
            values.append(int(part))
    return values


def integer(row: Row, name: str, problems: list[Problem]) -> int | None:
    value = row.get(name)
    if value in ("", None):
        return None
    if not is_number(str(value)):
        problems.append(row.problem(name, f"'{value}' is not a whole number"))
        return None
    return int(value)


def did_you_mean(key: str, known) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def concept_ref(row: Row, name: str, scheme: str, ctx: Context, problems: list[Problem], value: str | None = None) -> URIRef | None:
    key = value if value is not None else row.get(name)
    if not key:
        return None
    if key not in ctx.concepts.get(scheme, set()):
        problems.append(row.problem(name, f"unknown {scheme} '{key}'{did_you_mean(key, ctx.concepts.get(scheme, ()))}"))
        return None
    return concept(scheme, key)


def provenance(subject: URIRef, row: Row, ctx: Context, problems: list[Problem],
               status_field: str = "status", default_status: str | None = None,
               default_confidence: str | None = None) -> list[tuple]:
    """The source, locator, seen/inferred and confidence of the fact a row states."""
    triples = []
    sources = as_list(row.get("sources"))
    if not sources:
        problems.append(row.problem("sources", "a fact needs at least one source"))
    for key in sources:
        if key not in ctx.sources:
            problems.append(row.problem("sources", f"unknown source '{key}' (not in sources.csv){did_you_mean(key, ctx.sources)}"))
        else:
            triples.append((subject, PROV.wasDerivedFrom, source_iri(key)))
    status = row.get(status_field) or default_status
    if status not in STATUSES:
        problems.append(row.problem(status_field, f"must be 'seen' or 'inferred', not '{status or ''}'"))
    else:
        triples.append((subject, LICN.evidenceStatus, STATUSES[status]))
    confidence = row.get("confidence") or default_confidence
    ref = concept_ref(row, "confidence", "confidence", ctx, problems, value=confidence or "")
    if confidence is None or confidence == "":
        problems.append(row.problem("confidence", "required value is empty"))
    if ref is not None:
        triples.append((subject, LICN.confidence, ref))
    if row.get("locator"):
        triples.append((subject, LICN.locator, Literal(row.get("locator"))))
    if row.get("note"):
        triples.append((subject, LICN.sourceNote, Literal(row.get("note"))))
    return triples


def typed(subject: URIRef, *classes: URIRef) -> list[tuple]:
    return [(subject, RDF.type, c) for c in classes]


def label(subject: URIRef, text: str) -> tuple:
    return (subject, RDFS.label, Literal(text, lang="en"))


def year_literal(value: str) -> Literal:
    return Literal(value, datatype=XSD.gYear)
