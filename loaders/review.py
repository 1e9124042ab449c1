"""review.yaml: the review's record, its method facts, what is not known, its reference list
entries and which of them are the reviewed studies."""
import re

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, XSD

from .common import (
    Context,
    Problem,
    Row,
    as_list,
    check_key,
    check_text,
    date_literal,
    integers,
    is_number,
    label,
    provenance,
    section_line,
    typed,
    unknown_sections,
    yaml_row,
    yaml_rows,
)
from .vocab import (
    BIBO,
    BIRO,
    DOI_RE,
    FABIO,
    ID,
    LICN,
    bare_doi,
    entry_iri,
    instance,
    review_iri,
    study_iri,
)

SECTIONS = ("review", "highest_reference_number_seen", "reference_list_sources", "reference_list_locator",
            "studies", "method", "gaps")
REVIEW_REQUIRED = ("title", "authors", "journal", "year", "volume", "issue", "doi", "sources", "status", "confidence")


def load_review(data: dict, file: str, ctx: Context) -> tuple[dict[str, list[tuple]], list[Problem]]:
    """Triples per layer: 'review' (record, method, gaps), 'references' (entries), 'studies'."""
    problems: list[Problem] = []
    out = {"review": [], "references": [], "studies": []}
    unknown_sections(data, SECTIONS, file, problems)
    record = data.get("review")
    if record is None:
        return out, problems + [Problem(file, 1, "review", "the review record is missing")]
    if not isinstance(record, dict):
        return out, problems + [Problem(file, section_line(data, "review"), "review", "must be a mapping of fields (name: value)")]
    row = yaml_row(record, file, problems)
    for name, value in record.items():
        if isinstance(value, list) and name not in ("sources", "authors"):
            problems.append(row.problem(name, "a list where a single value belongs"))
    for name in REVIEW_REQUIRED:
        if not row.get(name) and not isinstance(row.data.get(name), dict):
            problems.append(row.problem(name, "required value is empty"))
    year = row.get("year")
    if year and not re.fullmatch(r"[0-9]{4}", year):
        problems.append(row.problem("year", f"'{year}' is not a year"))
    r = review_iri()
    t = out["review"]
    t += typed(r, LICN.Review, FABIO.ReviewArticle)
    t += [label(r, f"{row.get('title')} (Mitterlechner 2020)"), (r, DCTERMS.title, Literal(row.get("title"))),
          (r, LICN.authors, Literal(row.get("authors"))), (r, LICN.venue, Literal(row.get("journal"))),
          (r, FABIO.hasPublicationYear, Literal(row.get("year"), datatype=XSD.gYear)),
          (r, BIBO.volume, Literal(row.get("volume"))), (r, BIBO.issue, Literal(row.get("issue"))),
          (r, BIBO.number, Literal(row.get("article_number"))),
          (r, LICN.articleType, Literal(row.get("article_type"))),
          (r, DCTERMS.publisher, Literal(row.get("publisher")))]
    doi = bare_doi(row.get("doi"))
    if doi and not DOI_RE.match(doi):
        problems.append(row.problem("doi", f"'{doi}' is not a DOI (10.NNNN/...)"))
    elif doi:
        t += [(r, BIBO.doi, Literal(doi)), (r, OWL.sameAs, URIRef("https://doi.org/" + doi))]
    author = ID["person/matthias-mitterlechner"]
    t += typed(author, FOAF.Person)
    t += [label(author, row.get("author_name")), (author, FOAF.name, Literal(row.get("author_name"))),
          (author, LICN.affiliation, Literal(row.get("affiliation"))), (r, DCTERMS.creator, author)]
    for name, prop in (("submitted", DCTERMS.dateSubmitted), ("accepted", DCTERMS.dateAccepted), ("published", DCTERMS.issued)):
        value = date_literal(row, name, problems)
        if value is not None:
            t.append((r, prop, value))
    t += provenance(r, row, ctx, problems)

    length = data.get("highest_reference_number_seen")
    if not isinstance(length, int) or isinstance(length, bool) or length < 1:
        problems.append(Problem(file, section_line(data, "highest_reference_number_seen"), "highest_reference_number_seen",
                                "must be a positive whole number"))
        length = 0
    ctx.list_length = length
    listed = Row(file, data.get("__line__", 1), {"sources": data.get("reference_list_sources"), "status": "seen",
                                               "confidence": "high", "locator": data.get("reference_list_locator"),
                                               "note": f"Entries 1 to {length} are cited in the text; the list may be longer."})
    problems += check_text(listed)
    m = instance("method", "reference-list")
    t += typed(m, LICN.MethodFact)
    t += [label(m, "Method: reference list (reference-list)"), (m, LICN.aspect, Literal("reference list")),
          (m, LICN.statement, Literal(f"The highest reference number seen cited in the review is {length}; "
                                      "the full length of its reference list is not known.", lang="en")),
          (m, LICN.figureOf, r)]
    t += provenance(m, listed, ctx, problems)
    for item in yaml_rows(data, "method", file, problems):
        key = check_key(item, "key", problems)
        m = instance("method", key)
        t += typed(m, LICN.MethodFact)
        t += [label(m, f"Method: {item.get('aspect')} ({key})"), (m, LICN.aspect, Literal(item.get("aspect"))),
              (m, LICN.statement, Literal(item.get("statement"), lang="en")), (m, LICN.figureOf, r)]
        for n in integers(item, "refs", problems):
            if not 1 <= n <= length:
                problems.append(item.problem("refs", f"reference {n} is outside the reference list (1-{length})"))
            else:
                t.append((m, LICN.citesEntry, entry_iri(n)))
        t += provenance(m, item, ctx, problems)
    for item in yaml_rows(data, "gaps", file, problems):
        key = check_key(item, "key", problems)
        g = instance("gap", key)
        t += typed(g, LICN.KnowledgeGap)
        t += [label(g, f"Not known: {key.replace('-', ' ')}"), (g, LICN.statement, Literal(item.get("statement"), lang="en")),
              (g, LICN.figureOf, r)]
        t += provenance(g, item, ctx, problems, default_status="seen", default_confidence="high")

    # The highest number cited in the text that was seen: the list is at least this long.
    t.append((r, LICN.highestReferenceNumberSeen, Literal(length)))
    for n in range(1, length + 1):
        e = entry_iri(n)
        out["references"] += typed(e, LICN.ReferenceEntry)
        out["references"] += [label(e, f"Reference {n} of Mitterlechner (2020)"), (e, LICN.referenceNumber, Literal(n)),
                              (e, LICN.inReferenceListOf, r)]

    studies = data.get("studies") or {}
    if not isinstance(studies, dict):
        problems.append(Problem(file, section_line(data, "studies"), "studies", "must be a mapping (ranges, sources, status, ...)"))
        studies = {}
    srow = yaml_row({k: v for k, v in studies.items() if k != "uncoded"}, file, problems, section_line(data, "studies"))
    numbers: set[int] = set()
    for span in as_list(studies.get("ranges")):
        lo, _, hi = span.partition("-")
        if not (is_number(lo) and is_number(hi or lo)) or int(lo) > int(hi or lo) or int(hi or lo) > length:
            problems.append(srow.problem("ranges", f"'{span}' is not a range of reference numbers within 1-{length}"))
            continue
        numbers.update(range(int(lo), int(hi or lo) + 1))
    ctx.study_numbers = numbers
    gaps = {}
    for row in yaml_rows(studies, "uncoded", file, problems):
        ref = row.get("ref")
        if isinstance(row.data.get("ref"), dict):
            continue  # reported by yaml_row
        number = int(ref) if is_number(ref) else None
        if number not in numbers:
            problems.append(row.problem("ref", f"'{ref}' is not a reviewed study"))
        elif not row.get("note"):
            problems.append(row.problem("note", "required value is empty"))
        else:
            gaps[number] = row.get("note")
    for n in sorted(numbers):
        s = study_iri(n)
        out["studies"] += typed(s, LICN.Study, LICN.ReviewedStudy, FABIO.Work)
        out["studies"] += [(s, LICN.studyEntry, entry_iri(n)), (s, LICN.reviewedIn, r),
                           (entry_iri(n), BIRO.references, s)]
        if n in gaps:
            out["studies"].append((s, LICN.codingGap, Literal(gaps[n], lang="en")))
        out["studies"] += provenance(s, srow, ctx, problems)
    return out, problems
