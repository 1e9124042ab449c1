"""The bibliography: identified works, with or without their reference number.

Accepts the curated CSV (data/bibliography.csv) and, so that a reference manager's export can be
dropped into data/, BibTeX (*.bib) and CSL-JSON (*.csl.json) files whose entries carry the same
curation fields (licn-ref-no, licn-sources, licn-status, licn-confidence, licn-locator).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import bibtexparser
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, XSD

from .common import (
    Context,
    Problem,
    Row,
    as_list,
    integer,
    label,
    provenance,
    typed,
    unique_keys,
)
from .vocab import (
    BIBO,
    BIRO,
    CITO,
    DOI_RE,
    FABIO,
    LICN,
    entry_iri,
    instance,
    review_iri,
    study_iri,
    work_iri,
)

REQUIRED = ("key", "sources", "status", "confidence")
COLUMNS = ("key", "ref_no", "type", "authors", "year", "title", "container", "volume", "issue", "pages",
           "doi", "sources", "status", "inferred_fields", "confidence", "locator", "note", "lead")
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


def load_bibliography(rows: list[Row], ctx: Context) -> tuple[dict[str, list[tuple]], list[Problem]]:
    problems: list[Problem] = []
    refs, studies = [], []
    seen_numbers: dict[int, Row] = {}
    seen_dois: dict[str, Row] = {}
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
        kind = row.get("type")
        if kind not in TYPES:
            problems.append(row.problem("type", f"unknown type '{kind}' (one of {', '.join(t for t in TYPES if t)})"))
        year = row.get("year")
        if year and not re.fullmatch(r"\d{4}", year):
            problems.append(row.problem("year", f"'{year}' is not a year"))
        doi = row.get("doi")
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
        target = studies if number in ctx.study_numbers else refs
        target += typed(w, LICN.CitedWork, FABIO.Work)
        if TYPES.get(kind) is not None:
            target += typed(w, TYPES[kind])
            target.append((w, LICN.publicationType, Literal(kind)))
        target += [label(w, _display(row)), (review_iri(), CITO.cites, w)]
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
        refs += [label(i, f"Identification of {('reference ' + str(number)) if number else key}"), (i, LICN.identifiedWork, w)]
        if number is not None:
            refs += [(i, LICN.identifiedEntry, entry_iri(number)), (entry_iri(number), BIRO.references, w)]
        for name in as_list(row.get("inferred_fields")):
            refs.append((i, LICN.inferredField, Literal(name)))
        refs += provenance(i, row, ctx, problems)
    for n in sorted(ctx.study_numbers):
        if n not in seen_numbers:
            studies.append(label(study_iri(n), f"Study cited as reference {n} (not identified)"))
    return {"references": refs, "studies": studies}, problems


def _bib_name(person: str) -> str:
    """'Surname, Given Names' or 'Given Surname' -> 'Surname GN'."""
    person = person.strip()
    if "," in person:
        surname, given = (p.strip() for p in person.split(",", 1))
    else:
        *given_parts, surname = person.split()
        given = " ".join(given_parts)
    initials = "".join(part[0] for part in re.split(r"[\s.\-]+", given) if part)
    return f"{surname} {initials}".strip()


def rows_from_bibtex(path: Path, label_: str) -> tuple[list[Row], list[Problem]]:
    text = path.read_text(encoding="utf-8")
    library = bibtexparser.parse_string(text)
    problems = [Problem(label_, getattr(b, "start_line", 0) + 1, "(entry)", f"cannot parse BibTeX: {getattr(b, 'error', b)}")
                for b in library.failed_blocks]
    rows = []
    for entry in library.entries:
        f = {k.lower(): str(v.value if hasattr(v, "value") else v) for k, v in entry.fields_dict.items()}
        kind = {"article": "journal-article", "book": "book", "incollection": "book-chapter",
                "inbook": "book-chapter", "techreport": "report"}.get(entry.entry_type.lower(), "")
        data = {
            "key": entry.key, "ref_no": f.get("licn-ref-no", ""), "type": kind,
            "authors": "; ".join(_bib_name(a) for a in re.split(r"\s+and\s+", f["author"])) if f.get("author") else "",
            "year": f.get("year", ""), "title": f.get("title", "").strip("{}"),
            "container": f.get("journal", f.get("booktitle", "")), "volume": f.get("volume", ""),
            "issue": f.get("number", ""), "pages": f.get("pages", "").replace("--", "-"), "doi": f.get("doi", ""),
            "sources": f.get("licn-sources", ""), "status": f.get("licn-status", ""),
            "confidence": f.get("licn-confidence", ""), "locator": f.get("licn-locator", ""),
            "note": f.get("note", ""), "inferred_fields": f.get("licn-inferred-fields", ""), "lead": "",
        }
        rows.append(Row(label_, entry.start_line + 1, data))
    return rows, problems


def rows_from_csl_json(path: Path, label_: str) -> tuple[list[Row], list[Problem]]:
    text = path.read_text(encoding="utf-8")
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [Problem(label_, exc.lineno, "(file)", f"not valid JSON: {exc.msg}")]
    if not isinstance(items, list):
        return [], [Problem(label_, 1, "(file)", "CSL-JSON must be a list of items")]
    rows = []
    for item in items:
        ident = str(item.get("id", ""))
        match = re.search(r'"id"\s*:\s*"?' + re.escape(ident), text)
        line = text[: match.start()].count("\n") + 1 if match else 1
        parts = (item.get("issued") or {}).get("date-parts") or [[]]
        curation = item.get("licn") or {}
        data = {
            "key": ident, "ref_no": str(curation.get("ref_no", "")),
            "type": {"article-journal": "journal-article", "book": "book", "chapter": "book-chapter",
                     "report": "report"}.get(item.get("type", ""), ""),
            "authors": "; ".join(_bib_name(f"{a.get('family', '')}, {a.get('given', '')}") for a in item.get("author", [])),
            "year": str(parts[0][0]) if parts and parts[0] else "", "title": item.get("title", ""),
            "container": item.get("container-title", ""), "volume": str(item.get("volume", "")),
            "issue": str(item.get("issue", "")), "pages": str(item.get("page", "")).replace("--", "-"),
            "doi": item.get("DOI", ""), "sources": "; ".join(as_list(curation.get("sources", []))),
            "status": curation.get("status", ""), "confidence": curation.get("confidence", ""),
            "locator": curation.get("locator", ""), "note": item.get("note", ""), "inferred_fields": "", "lead": "",
        }
        rows.append(Row(label_, line, data))
    return rows, []
