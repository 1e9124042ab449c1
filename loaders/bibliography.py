"""The bibliography: identified works, with or without their reference number.

Accepts the curated CSV (data/bibliography.csv) and, so that a reference manager's export can be
dropped into data/, BibTeX (*.bib) and CSL-JSON (*.csl.json) files whose entries carry the same
curation fields (licn-ref-no, licn-sources, licn-status, licn-confidence, licn-locator, licn-study).
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import bibtexparser
import rispy
from bibtexparser.middlewares import NameParts, SeparateCoAuthors, SplitNameParts
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, XSD

from .common import (
    Context,
    Problem,
    Row,
    as_list,
    check_text,
    did_you_mean,
    read_text,
    integer,
    label,
    provenance,
    short_name,
    typed,
    unique_keys,
    work_name,
)
from .vocab import (
    BIBO,
    BIRO,
    CITO,
    DOI_RE,
    FABIO,
    bare_doi,
    LICN,
    entry_iri,
    instance,
    review_iri,
    study_iri,
    work_iri,
)

REQUIRED = ("key", "sources", "status", "confidence")
COLUMNS = ("key", "ref_no", "type", "authors", "year", "title", "container", "volume", "issue", "pages",
           "doi", "sources", "status", "inferred_fields", "confidence", "locator", "note", "lead", "cited_by_review",
           "study")
OPTIONAL = tuple(c for c in COLUMNS if c not in REQUIRED)
# What a spreadsheet or a script writes for a number it does not have: never a volume, issue or page.
NOT_NUMBERS = {"nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity"}
# Whether the review cites the work: a work a search found since (no), or an entry of another
# document that a source page mixed in (no, said in the note), or a place in doubt (doubtful).
CITED_BY_REVIEW = {"yes": LICN.citedByReview, "no": LICN.notCitedByReview, "doubtful": LICN.citationDoubtful}
TYPES = {"journal-article": FABIO.JournalArticle, "book": FABIO.Book, "book-chapter": FABIO.BookChapter,
         "report": FABIO.ReportDocument, "fragment": LICN.CitationFragment, "": None}
FIELDS = {"authors": LICN.authors, "title": DCTERMS.title, "container": LICN.venue, "volume": BIBO.volume,
          "issue": BIBO.issue, "pages": BIBO.pages}


def work_for(key: str, number: int | None, ctx: Context) -> URIRef:
    """A numbered reviewed study is its study node; every other work has a work node."""
    if number is not None and number in ctx.study_numbers:
        return study_iri(number)
    return work_iri(key)


def _display(row: Row) -> str:
    if row.get("title"):
        return row.get("title")
    parts = [row.get("authors"), row.get("container"), row.get("year")]
    return ", ".join(p for p in parts if p) or row.get("key")


def _names(rows: list[Row]) -> dict[str, str]:
    """How labels name each work: its authors and year, else its title; works of the same authors and
    year are told apart as 2024a, 2024b ... in the order of their titles."""
    names = {row.get("key"): short_name(row.get("authors"), row.get("year"), row.get("title")) or _display(row)
             for row in rows}
    titles = {row.get("key"): row.get("title") for row in rows}
    for name in {n for n in names.values() if re.search(r" [0-9]{4}$", n)}:
        same = sorted((k for k, n in names.items() if n == name), key=lambda k: (titles[k], k))
        if len(same) > 1:
            names.update({k: name + chr(ord("a") + i) for i, k in enumerate(same)})
    return names


def load_bibliography(rows: list[Row], ctx: Context) -> tuple[dict[str, list[tuple]], list[Problem]]:
    problems: list[Problem] = []
    refs, studies = [], []
    seen_numbers: dict[int, Row] = {}
    seen_dois: dict[str, Row] = {}
    ctx.work_names.update(_names(rows))
    for key, row in unique_keys(rows, problems):
        for name in REQUIRED:
            if not row.get(name):
                problems.append(row.problem(name, "required value is empty"))
        number = integer(row, "ref_no", problems)
        if number is not None:
            if not 1 <= number <= ctx.list_length:
                problems.append(row.problem("ref_no", f"{number} is outside the reference list (1-{ctx.list_length})"))
                number = None
            elif number in seen_numbers:
                problems.append(row.problem("ref_no", f"reference {number} is already identified at line {seen_numbers[number].line}"))
                number = None
            else:
                seen_numbers[number] = row
        cited = row.get("cited_by_review") or ("yes" if number is not None else "")
        if cited not in CITED_BY_REVIEW:
            problems.append(row.problem("cited_by_review", f"must be yes, no or doubtful, not '{cited}'"))
        elif cited == "no" and number is not None:
            problems.append(row.problem("cited_by_review", "a numbered reference entry is cited by the review"))
        kind = row.get("type")
        if kind not in TYPES:
            problems.append(row.problem("type", f"unknown type '{kind}' (one of {', '.join(t for t in TYPES if t)})"))
        year = row.get("year")
        if year and not re.fullmatch(r"[0-9]{4}", year):
            problems.append(row.problem("year", f"'{year}' is not a year"))
        for name in ("volume", "issue", "pages"):
            if row.get(name).lower() in NOT_NUMBERS:
                problems.append(row.problem(name, f"'{row.get(name)}' stands for a number that is not there; leave it empty"))
        doi = bare_doi(row.get("doi"))
        if doi and not DOI_RE.match(doi):
            problems.append(row.problem("doi", f"'{doi}' is not a DOI (10.NNNN/...)"))
            doi = ""
        if doi and doi.lower() in seen_dois:
            problems.append(row.problem("doi", f"DOI {doi} already belongs to '{seen_dois[doi.lower()].get('key')}'"))
        elif doi:
            seen_dois[doi.lower()] = row
        for name in as_list(row.get("inferred_fields")):
            if name not in COLUMNS:
                problems.append(row.problem("inferred_fields", f"unknown field '{name}'"))

        w = work_for(key, number, ctx)
        ctx.works.add(key)
        if number is not None:
            ctx.work_numbers[key] = number
        if cited == "no":
            ctx.later_works.add(key)
        target = studies if number in ctx.study_numbers else refs
        target += typed(w, FABIO.Work) if cited == "no" else typed(w, LICN.CitedWork, FABIO.Work)
        if TYPES.get(kind) is not None:
            target += typed(w, TYPES[kind])
            target.append((w, LICN.publicationType, Literal(kind)))
        target.append(label(w, _display(row)))
        if cited in ("yes", "doubtful"):
            target.append((review_iri(), CITO.cites, w))
        if cited in CITED_BY_REVIEW:
            target.append((w, LICN.reviewCitation, CITED_BY_REVIEW[cited]))
        for name, prop in FIELDS.items():
            if row.get(name):
                target.append((w, prop, Literal(row.get(name))))
        if year:
            target.append((w, FABIO.hasPublicationYear, Literal(year, datatype=XSD.gYear)))
        if doi:
            target += [(w, BIBO.doi, Literal(doi)), (w, OWL.sameAs, URIRef("https://doi.org/" + doi))]
        if row.get("lead"):
            target.append((w, LICN.unverifiedLead, Literal(row.get("lead"))))

        i = instance("identification", key)
        refs += typed(i, LICN.Identification)
        refs += [label(i, f"Identification of {('reference ' + str(number)) if number else work_name(key, ctx)}"), (i, LICN.identifiedWork, w)]
        if number is not None:
            refs.append((i, LICN.identifiedEntry, entry_iri(number)))
            if number not in ctx.study_numbers:  # a reviewed study's entry points at it from the studies layer
                refs.append((entry_iri(number), BIRO.references, w))
        for name in as_list(row.get("inferred_fields")):
            refs.append((i, LICN.inferredField, Literal(name)))
        refs += provenance(i, row, ctx, problems)
    refs += _reports(rows, ctx, problems)
    for n in sorted(ctx.study_numbers):
        if n not in seen_numbers:
            studies.append(label(study_iri(n), f"Study cited as reference {n} (not identified)"))
    return {"references": refs, "studies": studies}, problems


def _reports(rows: list[Row], ctx: Context, problems: list[Problem]) -> list[tuple]:
    """The `study` column: a report of a study whose main report is another row. Studies, not reports,
    are what the map counts (Cochrane Handbook 3.2), so the codings and screening of a report count
    for its study (ctx.report_of)."""
    t = []
    main = {row.get("key"): row.get("study") for row in rows if row.get("study")}
    for row in rows:
        study = row.get("study")
        if not study:
            continue
        if study == row.get("key"):
            problems.append(row.problem("study", "a report names its own study: leave the column empty for a study's main report"))
        elif study not in ctx.works:
            problems.append(row.problem("study", f"unknown work '{study}' (not in the bibliography){did_you_mean(study, ctx.works)}"))
        elif study in main:
            problems.append(row.problem("study", f"'{study}' is itself a report of '{main[study]}': name the study's main report"))
        else:
            ctx.report_of[row.get("key")] = study
            t.append((work_for(row.get("key"), ctx.work_numbers.get(row.get("key")), ctx), LICN.reportOf,
                      work_for(study, ctx.work_numbers.get(study), ctx)))
    return t


def _initials(given: str) -> str:
    return "".join(part[0] for part in re.split(r"[\s.\-]+", given) if part)


def _person(surname: str, given: str) -> str:
    """'Surname GN', as the curated CSV writes names."""
    return f"{surname.strip()} {_initials(given)}".strip()


def _curated_row(label_: str, line: int, fields: dict) -> Row:
    """A reference manager's record as a bibliography row; the curation fields come from the
    record's licn-* fields (BibTeX, RIS notes) or its "licn" object (CSL-JSON)."""
    data = {name: "" for name in COLUMNS}
    data.update({k: v for k, v in fields.items() if v})
    data["cited_by_review"] = fields.get("cited_by_review") or ("yes" if fields.get("ref_no") else "no")
    if fields.get("url") and not fields.get("sources"):
        data["sources"] = record_source_key(str(fields.get("key", "")))
    return Row(label_, line, data)


def record_source_key(key: str) -> str:
    """The source record of an exported entry's own url: its key in upper case."""
    return key.upper()


def record_sources(rows: list[Row]) -> list[Row]:
    """A source record (sources.csv row) for every exported entry that gives the page it was taken from
    (its url field) and no licn-sources: the entry and its codings can cite that page by the entry's key."""
    return [Row(row.file, row.line, {"key": record_source_key(row.get("key")), "url": row.get("url"), "document": "",
                                     "title": f"Record of {row.get('title') or row.get('key')}",
                                     "note": f"The page named in the url field of {row.file}."})
            for row in rows if row.get("url") and row.get("sources") == record_source_key(row.get("key"))]


BIBTEX_TYPES = {"article": "journal-article", "book": "book", "incollection": "book-chapter",
                "inbook": "book-chapter", "techreport": "report", "report": "report"}
# The fields of an entry that are read, besides the licn-* fields.
BIBTEX_FIELDS = ("author", "title", "year", "journal", "booktitle", "volume", "number", "pages", "doi", "note", "url")


def _bibtex_error(block) -> str:
    error = getattr(block, "error", None)
    return str(error or "") or getattr(error, "abort_reason", "") or "the entry is not complete (is a brace or a quote not closed?)"


def _not_text(value: str, strings: dict) -> str:
    """Why a value in neither braces nor quotes, and not a number, is not read: the parser puts a
    @string's value for its name (title = name), one step, and joins nothing with '#'."""
    if "#" in value:
        return f"'{value}' joins parts with '#', which is not read here; write the whole text in braces"
    chain = [value.lower()]
    if chain[0] not in strings:
        return f"'{value}' is neither text in braces nor a @string of the file"
    while chain[-1] in strings and strings[chain[-1]].enclosing == "no-enclosing":
        chain.append(strings[chain[-1]].value.lower())
        if chain[-1] in chain[:-1]:
            return f"the @string definitions {' -> '.join(chain)} go round in a loop"
    return f"a @string is defined as the name of another ('{value}'), which is not read here; define it as text in braces"


def rows_from_bibtex(path: Path, label_: str) -> tuple[list[Row], list[Problem]]:
    text, problem = read_text(path, label_)
    if problem:
        return [], [problem]
    library = bibtexparser.parse_string(text)
    problems = [Problem(label_, getattr(b, "start_line", 0) + 1, "(entry)", f"cannot parse BibTeX: {_bibtex_error(b)}")
                for b in library.failed_blocks]
    strings = {key.lower(): string for key, string in library.strings_dict.items()}
    problems += [Problem(label_, entry.start_line + 1, field.key.lower(), _not_text(field.value, strings))
                 for entry in library.entries for field in entry.fields if field.enclosing == "no-enclosing"
                 and (field.key.lower() in BIBTEX_FIELDS or field.key.lower().startswith("licn-"))]
    library = SplitNameParts().transform(SeparateCoAuthors().transform(library))
    rows = []
    for entry in library.entries:
        line = entry.start_line + 1
        f = {k.lower(): v.value for k, v in entry.fields_dict.items()}
        authors = []
        for person in f.get("author") or []:
            surname = " ".join(person.von + person.last) if isinstance(person, NameParts) else ""
            words = person.first + person.von + person.last + person.jr if isinstance(person, NameParts) else []
            if surname.strip("{} ").lower() in ("", "and") or any(w.lower() == "and" for w in words):
                problems.append(Problem(label_, line, "author", f"an author without a surname (an empty name or a stray 'and') in entry '{entry.key}'"))
                continue
            authors.append(_person(surname, " ".join(person.first)))
        scalar = {k: str(v).strip().strip("{}") for k, v in f.items() if k != "author"}
        rows.append(_curated_row(label_, line, {
            "key": entry.key, "ref_no": scalar.get("licn-ref-no", ""), "type": BIBTEX_TYPES.get(entry.entry_type.lower(), ""),
            "authors": "; ".join(authors), "year": scalar.get("year", ""), "title": scalar.get("title", ""),
            "container": scalar.get("journal", scalar.get("booktitle", "")), "volume": scalar.get("volume", ""),
            "issue": scalar.get("number", ""), "pages": scalar.get("pages", "").replace("--", "-"), "doi": scalar.get("doi", ""),
            "sources": scalar.get("licn-sources", ""), "status": scalar.get("licn-status", ""),
            "confidence": scalar.get("licn-confidence", ""), "locator": scalar.get("licn-locator", ""),
            "note": scalar.get("note", ""), "inferred_fields": scalar.get("licn-inferred-fields", ""),
            "cited_by_review": scalar.get("licn-cited-by-review", ""), "study": scalar.get("licn-study", ""),
            "url": scalar.get("url", "")}))
        problems += check_text(rows[-1])
    return rows, problems


RIS_TYPES = {"JOUR": "journal-article", "BOOK": "book", "CHAP": "book-chapter", "RPRT": "report"}


def _ris_records(text: str, label_: str) -> list[Problem]:
    """A record runs from its TY line to its ER line; the parser drops lines outside a record, and a
    record without its ER line, without a word."""
    problems, start, stray = [], 0, False
    for number, line in enumerate(text.splitlines(), start=1):
        tag = line[:2] if line[2:5] == "  -" else ""
        if tag == "TY":
            if start:
                problems.append(Problem(label_, start, "ER", "the record does not end (no 'ER  - ' line before the next TY)"))
            start, stray = number, False
        elif tag == "ER":
            if not start and not stray:
                problems.append(Problem(label_, number, "TY", "an end line (ER) where no record started"))
            start, stray = 0, False
        elif tag and not start and not stray:
            problems.append(Problem(label_, number, "TY", "a record that does not start with its type line ('TY  - JOUR', ...)"))
            stray = True
    if start:
        problems.append(Problem(label_, start, "ER", "the record does not end (no 'ER  - ' line)"))
    return problems


def rows_from_ris(path: Path, label_: str) -> tuple[list[Row], list[Problem]]:
    """RIS records; the curation fields are notes (N1) of the form 'licn-sources: KEY; KEY'."""
    text, problem = read_text(path, label_)
    if problem:
        return [], [problem]
    broken = _ris_records(text, label_)
    if broken:
        return [], broken
    try:
        records = rispy.loads(text)
    except Exception as exc:  # rispy raises plain exceptions for broken files
        return [], [Problem(label_, 1, "(file)", f"not a RIS file: {exc}")]
    starts = [i + 1 for i, line in enumerate(text.splitlines()) if line.startswith("TY  -")]
    rows, problems = [], []
    for n, record in enumerate(records):
        line = starts[n] if n < len(starts) else 1
        curation = {}
        for note in record.get("notes", []) or []:
            name, sep, value = str(note).partition(":")
            if sep and name.strip().startswith("licn-"):
                curation[name.strip()] = value.strip()
        authors = []
        for person in record.get("authors", []) or record.get("first_authors", []) or []:
            surname, _, given = str(person).partition(",")
            if not surname.strip():
                problems.append(Problem(label_, line, "authors", "an author without a surname"))
                continue
            authors.append(_person(surname, given))
        pages = "-".join(p for p in (record.get("start_page", ""), record.get("end_page", "")) if p)
        key = curation.get("licn-key") or str(record.get("id", "")).strip()
        rows.append(_curated_row(label_, line, {
            "key": key, "ref_no": curation.get("licn-ref-no", ""), "type": RIS_TYPES.get(record.get("type_of_reference", ""), ""),
            "authors": "; ".join(authors), "year": str(record.get("year", "") or record.get("publication_year", ""))[:4],
            "title": record.get("title", "") or record.get("primary_title", ""),
            "container": record.get("journal_name", "") or record.get("secondary_title", ""),
            "volume": str(record.get("volume", "")), "issue": str(record.get("number", "")), "pages": pages,
            "doi": record.get("doi", ""), "sources": curation.get("licn-sources", ""), "status": curation.get("licn-status", ""),
            "confidence": curation.get("licn-confidence", ""), "locator": curation.get("licn-locator", ""),
            "cited_by_review": curation.get("licn-cited-by-review", ""), "study": curation.get("licn-study", ""),
            "url": str(record.get("url") or (record.get("urls") or [""])[0])}))
        problems += check_text(rows[-1])
    return rows, problems


CSL_TYPES = {"article-journal": "journal-article", "book": "book", "chapter": "book-chapter", "report": "report"}


def rows_from_csl_json(path: Path, label_: str) -> tuple[list[Row], list[Problem]]:
    text, problem = read_text(path, label_)
    if problem:
        return [], [problem]
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [Problem(label_, exc.lineno, "(file)", f"not valid JSON: {exc.msg}")]
    except RecursionError:
        return [], [Problem(label_, 1, "(file)", "not read: brackets nested too deeply (CSL-JSON nests a few levels)")]
    if not isinstance(items, list):
        return [], [Problem(label_, 1, "(file)", "CSL-JSON must be a list of items")]
    rows, problems = [], []
    for item in items:
        if not isinstance(item, dict):
            problems.append(Problem(label_, 1, "(item)", "each CSL-JSON item must be an object"))
            continue
        ident = item.get("id", "")
        if not isinstance(ident, (str, int)) or isinstance(ident, bool):
            problems.append(Problem(label_, 1, "id", f"an item's id must be text, not {json.dumps(ident)}"))
            continue
        ident = str(ident)
        match = re.search(r'"id"\s*:\s*"?' + re.escape(ident), text)
        line = text[: match.start()].count("\n") + 1 if match else 1
        authors = []
        people = item.get("author") or []
        if not isinstance(people, list):
            problems.append(Problem(label_, line, "author", f"must be a list of names ({{\"family\": ..., \"given\": ...}}), not {json.dumps(people)}"))
            people = []
        for person in people:
            if (not isinstance(person, dict) or not isinstance(person.get("family"), str) or not person["family"].strip()
                    or not isinstance(person.get("given", ""), str)):
                problems.append(Problem(label_, line, "author", f"an author must be an object with a 'family' name (text), not {json.dumps(person)}"))
                continue
            authors.append(_person(person["family"], person.get("given", "")))
        parts = (item.get("issued") or {}).get("date-parts") if isinstance(item.get("issued"), dict) else None
        year = parts[0][0] if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0] else ""
        curation = item.get("licn") if isinstance(item.get("licn"), dict) else {}
        sources = curation.get("sources", [])
        fields = {
            "key": ident, "ref_no": curation.get("ref_no", ""), "type": CSL_TYPES.get(str(item.get("type", "")), ""),
            "authors": "; ".join(authors), "year": year, "title": item.get("title", ""),
            "container": item.get("container-title", ""), "volume": item.get("volume", ""), "issue": item.get("issue", ""),
            "pages": str(item.get("page") or "").replace("--", "-"), "doi": item.get("DOI", ""),
            "sources": "; ".join(sources) if isinstance(sources, list) and all(isinstance(s, str) for s in sources) else sources,
            "status": curation.get("status", ""), "confidence": curation.get("confidence", ""),
            "locator": curation.get("locator", ""), "note": item.get("note", ""),
            "cited_by_review": curation.get("cited_by_review", ""), "study": curation.get("study", ""),
            "url": item.get("URL", "")}
        for name, value in fields.items():
            if isinstance(value, (dict, list)):
                problems.append(Problem(label_, line, name, "must be a list of source keys (text)" if name == "sources" else
                                        "a structure where a single value belongs"))
                fields[name] = ""
            elif isinstance(value, float) and not math.isfinite(value):
                problems.append(Problem(label_, line, name, f"{value} is not a number (JSON has no NaN or Infinity)"))
                fields[name] = ""
        rows.append(_curated_row(label_, line, {k: "" if v is None else str(v) for k, v in fields.items()}))
        problems += check_text(rows[-1])
    return rows, problems
