"""The bibliography as BibTeX and RIS (written by bibtexparser and rispy) and every coding as one CSV,
for reference managers and spreadsheets."""
from __future__ import annotations

from pathlib import Path

import bibtexparser
import rispy
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field

from ..query.catalogue import bind, load_catalogue
from ..query.engines import run_oxigraph
from ..query.results import format_result

EXPORTS = {"bibliography.bib": "application/x-bibtex", "bibliography.ris": "application/x-research-info-systems",
           "codings.csv": "text/csv"}
BIBTEX_TYPES = {"journal-article": "article", "book": "book", "book-chapter": "incollection", "report": "techreport"}
RIS_TYPES = {"journal-article": "JOUR", "book": "BOOK", "book-chapter": "CHAP", "report": "RPRT"}


def _people(authors: str) -> list[tuple[str, str]]:
    """'Surname GN; Other A' as (surname, initials) pairs; 'et al.' is left out."""
    people = [p for p in (p.strip() for p in authors.split(";")) if p and not p.lower().startswith("et al")]
    # The initials follow the last space; a name without one is all surname.
    return [tuple(p.rsplit(" ", 1)) if " " in p else (p, "") for p in people]


def bibtex(rows: list[dict]) -> str:
    library = Library()
    for row in rows:
        fields = {"author": " and ".join(f"{s}, {'. '.join(i)}{'.' if i else ''}" for s, i in _people(row["authors"])),
                  "title": row["title"], "year": row["year"], "journal": row["venue"], "volume": row["volume"],
                  "number": row["issue"], "pages": row["pages"].replace("-", "--"), "doi": row["doi"],
                  "note": f"Reference {row['reference']} of Mitterlechner (2020)" if row["reference"] != "" else ""}
        library.add(Entry(BIBTEX_TYPES.get(row["type"], "misc"), row["key"],
                          [Field(k, v) for k, v in fields.items() if v]))
    return bibtexparser.write_string(library)


def ris(rows: list[dict]) -> str:
    records = []
    for row in rows:
        first, _, last = row["pages"].partition("-")
        record = {"type_of_reference": RIS_TYPES.get(row["type"], "GEN"), "id": row["key"],
                  "authors": [f"{s}, {i}" if i else s for s, i in _people(row["authors"])],
                  "title": row["title"], "year": row["year"], "journal_name": row["venue"],
                  "volume": row["volume"], "number": row["issue"], "doi": row["doi"],
                  "start_page": first, "end_page": last}
        records.append({k: v for k, v in record.items() if v})
    return rispy.dumps(records)


def write_exports(store, out: Path) -> None:
    """bibliography.bib, bibliography.ris and codings.csv into out/."""
    catalogue = load_catalogue()
    works = [{k: ("" if v is None else str(v)) for k, v in row.items()}
             for row in run_oxigraph(store, bind(catalogue["bibliography"])).as_dicts()]
    codings = format_result(run_oxigraph(store, bind(catalogue["codings"])), "csv")
    for name, text in (("bibliography.bib", bibtex(works)), ("bibliography.ris", ris(works)), ("codings.csv", codings)):
        (out / name).write_text(text, encoding="utf-8")
