"""What a citation or a DOI deposit reads of a release, from the dataset's own record (data/dataset.yaml):
CITATION.cff at the project's root must say what that record says (the build checks it), and every
build writes the deposit metadata (zenodo.json) from it.

zenodo.json is the metadata of a Zenodo deposit as a .zenodo.json file gives it: the fields, and their
form, that cffconvert writes from a CITATION.cff (which the tests compare it with), and the upload type,
access, language and related identifiers beside them."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from loaders.common import Problem, read_yaml, section_line
from loaders.vocab import ID

CITATION = "CITATION.cff"
DEPOSIT = "zenodo.json"
DATASET = str(ID["dataset/licn-kg"])
# CITATION.cff's field -> the field of dataset.yaml it repeats. The first five a CITATION.cff must give;
# the others, where it gives them, must agree too.
SAME_AS = {"title": "title", "version": "version", "date-released": "modified", "license": "license: id",
           "authors": "creator: name", "abstract": "description", "keywords": "keywords"}
REQUIRED = ("title", "version", "date-released", "license", "authors")


def _text(value) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value).strip()


def _author(author) -> str:
    """A CFF author as one name: an entity's name, or a person's names in order."""
    if not isinstance(author, dict):
        return _text(author)
    if author.get("name"):
        return _text(author["name"])
    parts = (author.get(key) for key in ("given-names", "name-particle", "family-names", "name-suffix"))
    return " ".join(_text(part) for part in parts if part)


def release_record(about: dict) -> dict:
    """What CITATION.cff must say, field by field, as dataset.yaml says it."""
    return {"title": _text(about["title"]), "version": _text(about["version"]), "date-released": _text(about["modified"]),
            "license": _text(about["license"]["id"]), "authors": [_text(about["creator"]["name"])],
            "abstract": _text(about["description"]), "keywords": [_text(k) for k in about["keywords"]]}


def citation_problems(path: Path, about: dict) -> list[Problem]:
    """Where CITATION.cff says something else than dataset.yaml (or leaves out what it must say)."""
    cff, problems = read_yaml(Path(path), CITATION)
    if problems:
        return problems
    for field, want in release_record(about).items():
        line = section_line(cff, field)
        if field not in cff:
            if field in REQUIRED:
                problems.append(Problem(CITATION, line, field,
                                        f"missing: data/dataset.yaml ({SAME_AS[field]}) says {want!r}"))
            continue
        have = cff[field]
        if field == "authors":
            have = [_author(a) for a in have] if isinstance(have, list) else have
        elif field == "keywords":
            have = [_text(k) for k in have] if isinstance(have, list) else have
        elif field == "license" and isinstance(have, list) and len(have) == 1:
            have = _text(have[0])
        else:
            have = _text(have)
        if have != want:
            problems.append(Problem(CITATION, line, field,
                                    f"says {have!r}, but data/dataset.yaml ({SAME_AS[field]}) says {want!r}"))
    return problems


def deposit_metadata(about: dict, doi: str | None) -> dict:
    """The Zenodo deposit metadata of this release."""
    record = release_record(about)
    related = [{"identifier": DATASET, "relation": "isAlternateIdentifier", "scheme": "url"}]
    if doi:  # the review it is built from
        related.append({"identifier": doi, "relation": "isDerivedFrom", "resource_type": "publication-article",
                        "scheme": "doi"})
    return {"upload_type": "dataset", "title": record["title"], "version": record["version"],
            "publication_date": record["date-released"], "description": record["abstract"],
            "creators": [{"name": name} for name in record["authors"]], "license": {"id": record["license"]},
            "access_right": "open", "language": "eng", "keywords": record["keywords"], "related_identifiers": related}


def write_deposit(out: Path, about: dict, doi: str | None) -> None:
    text = json.dumps(deposit_metadata(about, doi), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    (Path(out) / DEPOSIT).write_text(text, encoding="utf-8")
