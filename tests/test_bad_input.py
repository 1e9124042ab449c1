"""A corpus of bad inputs: each case damages one thing in a copy of the data and runs `licn build
--data COPY` on it. A bad input must fail the build with exit code 1, report itself as
`file:line: field: message` and leave the output as it was, never end in a traceback; the few
inputs that are only written differently (a DOI as https://doi.org/..., a byte order mark) must
build the same graph as the real data.

The command runs in this process (`licn.cli.main`, as the `licn` script calls it): starting an
interpreter and importing the libraries was most of each case's time. The command run as a process
on bad input is tested in test_cli.py, and a disk that fills up below."""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from licn import cli, paths

LICN_CLI = [sys.executable, "-m", "licn.cli"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def at(name: str, needle: str, offset: int = 0) -> str:
    """'name:N:' for the first line of the real data/name that contains needle (the data changes)."""
    for number, line in enumerate((paths.DATA / name).read_text(encoding="utf-8-sig").splitlines(), start=1):
        if needle in line:
            return f"{name}:{number + offset}:"
    raise AssertionError(f"{needle!r} not in data/{name}")


# Damages, each applied to the data folder of a project copy.

def replace(name: str, old: str, new: str) -> Callable[[Path], None]:
    def damage(data: Path) -> None:
        path = data / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return damage


def replace_bytes(name: str, old: bytes, new: bytes) -> Callable[[Path], None]:
    def damage(data: Path) -> None:
        path = data / name
        raw = path.read_bytes()
        assert old in raw, f"{old!r} not in {name}"
        path.write_bytes(raw.replace(old, new, 1))
    return damage


def write(name: str, text: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    return lambda data: (data / name).write_bytes(text.encode(encoding))


def append_line_of(name: str, needle: str) -> Callable[[Path], None]:
    """The first line containing needle written again at the end of the file."""
    def damage(data: Path) -> None:
        path = data / name
        text = path.read_text(encoding="utf-8")
        line = next(line for line in text.splitlines() if needle in line)
        path.write_text(text.rstrip("\n") + "\n" + line + "\n", encoding="utf-8")
    return damage


def remove(name: str) -> Callable[[Path], None]:
    return lambda data: (data / name).unlink()


def folder(name: str) -> Callable[[Path], None]:
    """A folder where a data file belongs (or beside them, named like one)."""
    def damage(data: Path) -> None:
        (data / name).unlink(missing_ok=True)
        (data / name).mkdir()
    return damage


def header_only(name: str) -> Callable[[Path], None]:
    def damage(data: Path) -> None:
        path = data / name
        path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    return damage


def remove_line_of(name: str, needle: str) -> Callable[[Path], None]:
    def damage(data: Path) -> None:
        path = data / name
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        found = [n for n, line in enumerate(lines) if needle in line]
        assert found, f"{needle!r} not in {name}"
        del lines[found[0]]
        path.write_text("".join(lines), encoding="utf-8")
    return damage


def gaps_as_text(data: Path) -> None:
    path = data / "review.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("\ngaps:\n")
    rest = text[start + len("\ngaps:\n"):]
    end = next((i for i, line in enumerate(rest.splitlines(keepends=True)) if line.strip() and not line.startswith(" ")), None)
    tail = "".join(rest.splitlines(keepends=True)[end:]) if end is not None else ""
    path.write_text(text[:start] + '\ngaps: "Nothing is known about anything."\n' + tail, encoding="utf-8")


def prepend_bom(name: str) -> Callable[[Path], None]:
    def damage(data: Path) -> None:
        path = data / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    return damage


BIB_ENTRY = """@article{{drop-in-2021-networks,
  author = {{{author}}},
  title = {{{title}}},
  journal = {{International Journal of Integrated Care}},
  year = {{{year}}},
  doi = {{{doi}}},
  licn-sources = {{SEED}},
  licn-status = {{seen}},
  licn-confidence = {{medium}}
}}
"""


def bib(author="Sepulveda, Maria and Dinesen, Birthe", title="Leadership in regional care networks", year="2021",
        doi="10.9999/bib.1") -> str:
    return BIB_ENTRY.format(author=author, title=title, year=year, doi=doi)


RIS_RECORD = """TY  - JOUR
ID  - ris-2021-networks
AU  - {author}
TI  - Networks of care in the region
JO  - Health Policy
PY  - 2021
DO  - 10.9999/ris.1
N1  - licn-sources: SEED
N1  - licn-status: seen
N1  - licn-confidence: medium
ER  - 
"""


def csl(author='[{"family": "Doe", "given": "Jane"}]', title='"A CSL item"', sources='["SEED"]') -> str:
    return ('[\n  {"id": "csl-2019-networks", "type": "article-journal", "title": ' + title + ',\n'
            '   "author": ' + author + ', "issued": {"date-parts": [[2019]]},\n'
            '   "licn": {"sources": ' + sources + ', "status": "seen", "confidence": "low"}}\n]\n')


@dataclass(frozen=True)
class Case:
    id: str
    damage: Callable[[Path], None]
    expect: tuple[str, ...] = ()  # texts stderr must contain (exit 1)
    code: int = 1


BIB = "bibliography.csv"
CODINGS = "curator-codings.csv"
RECONCILED_FIRST = next(line for line in (paths.DATA / "reconciliation-b.csv").read_text(encoding="utf-8").splitlines(True)
                        if line.startswith("sanderson-2023-developing-r2,"))
SANDERSON_1 = "sanderson-2023-developing-1,"


def whole_line(name: str, start: str) -> str:
    return next(line for line in (paths.DATA / name).read_text(encoding="utf-8").splitlines(keepends=True) if line.startswith(start))


REVIEW_TITLE = whole_line("review.yaml", "  title: ")
REVIEW_NOTE = whole_line("review.yaml", "  note: ")

CASES = [
    # bibliography.csv: identifiers, numbers, values
    Case("doi-with-angle-brackets", replace(BIB, "10.1007/978-3-319-56103-5_1", "10.1007/978-3-319-<56103>-5_1"),
         (at(BIB, "ref-1,1,") + " doi:", "is not a DOI")),
    Case("doi-with-a-quote", replace(BIB, ",10.1377/hlthaff.27.3.759,", ',"10.1377/hlthaff""27.3.759",'),
         (at(BIB, "ref-2,2,") + " doi:", "is not a DOI")),
    Case("doi-with-a-space", replace(BIB, ",10.1377/hlthaff.27.3.759,", ",10.1377/hlthaff 27.3.759,"),
         (at(BIB, "ref-2,2,") + " doi:", "is not a DOI")),
    Case("doi-written-as-an-address-is-normalised",
         replace(BIB, ",10.1377/hlthaff.27.3.759,", ",https://doi.org/10.1377/hlthaff.27.3.759,"), code=0),
    Case("ref-no-with-a-superscript-digit", replace(BIB, "ref-2,2,", "ref-2,2\u00b2,"),
         (at(BIB, "ref-2,2,") + " ref_no:", "is not a whole number")),
    Case("ref-no-in-arabic-indic-digits", replace(BIB, "ref-2,2,", "ref-2,\u0662,"),
         (at(BIB, "ref-2,2,") + " ref_no:", "is not a whole number")),
    Case("year-in-arabic-indic-digits", replace(BIB, "Whittington J,2008,", "Whittington J,\u0662\u0660\u0660\u0668,"),
         (at(BIB, "ref-2,2,") + " year:", "is not a year")),
    Case("ref-no-outside-the-list", replace(BIB, "ref-2,2,", "ref-2,200,"),
         (at(BIB, "ref-2,2,") + " ref_no: 200 is outside the reference list",)),
    Case("control-character-in-a-title", replace(BIB, "The triple aim: Care", "The triple aim:\x01 Care"),
         (at(BIB, "ref-2,2,") + " title: control character U+0001",)),
    Case("wrong-status", replace(BIB, ",seen,,high,OUCI reference list position 2,", ",sen,,high,OUCI reference list position 2,"),
         (at(BIB, "ref-2,2,") + " status: must be 'seen' or 'inferred', not 'sen'",)),
    Case("wrong-confidence", replace(BIB, ",seen,,high,OUCI reference list position 2,", ",seen,,hihg,OUCI reference list position 2,"),
         (at(BIB, "ref-2,2,") + " confidence: unknown confidence 'hihg'", "did you mean high?")),
    Case("cited-by-review-with-a-bad-value", replace(BIB, "reference list of the Springer chapter.\",,yes", "reference list of the Springer chapter.\",,perhaps"),
         (at(BIB, "ref-2,2,") + " cited_by_review: must be yes, no or doubtful, not 'perhaps'",)),
    Case("duplicate-key-in-a-csv", append_line_of(BIB, "ref-2,2,"),
         ("key: duplicate key 'ref-2' (first at line " + at(BIB, "ref-2,2,").split(":")[1] + ")",)),
    Case("a-row-with-too-many-fields", replace(BIB, "reference list of the Springer chapter.\",,yes", "reference list of the Springer chapter.\",,yes,extra"),
         (at(BIB, "ref-2,2,") + " (row): 20 fields where the header has 19",)),
    Case("empty-required-value", replace(BIB, "759-769,10.1377/hlthaff.27.3.759,OUCI;SEED;SPRINGER-AMELUNG;VD,", "759-769,10.1377/hlthaff.27.3.759,,"),
         (at(BIB, "ref-2,2,") + " sources: required value is empty",)),
    # other CSV files
    Case("broken-csv-quoting", replace("figures.csv", "reviewed-studies,Studies reviewed,", 'reviewed-studies,"Studies" reviewed,'),
         (at("figures.csv", "reviewed-studies,") + " (row): broken CSV",)),
    Case("a-stray-quote-opening-a-field", replace("table1.csv", ',Continuous learning,', ',"Continuous learning,'),
         (at("table1.csv", "continuous-learning,") + " (row): broken CSV",)),
    Case("missing-required-column", replace("table1.csv", ",refs,kind_status,", ",references,kind_status,"),
         ("table1.csv:1: refs: required column missing from the header",)),
    Case("a-column-twice-in-the-header", replace("figures.csv", "key,label,value,denominator,", "key,label,value,value,"),
         ("figures.csv:1: value: ", "twice")),
    Case("a-file-missing", remove("table1.csv"), ("table1.csv:0: (file): file is missing",)),
    Case("sources-file-missing", remove("sources.csv"), ("sources.csv:0: (file): file is missing",)),
    Case("invalid-utf-8", replace_bytes("settings.csv", b"Quebec", b"Qu\xe9bec"),
         (at("settings.csv", "Quebec") + " (file): not valid UTF-8",)),
    Case("a-nul-byte", replace_bytes("settings.csv", b"Quebec", b"Que\x00bec"), (at("settings.csv", "Quebec"), "U+0000")),
    Case("bom-at-the-start-of-sources", prepend_bom("sources.csv"), code=0),
    Case("unknown-mechanism-with-a-close-match", replace("table1.csv", "continuous-learning,Continuous learning", "continuous-learnin,Continuous learning"),
         (at("table1.csv", "continuous-learning,") + " mechanism: unknown mechanism 'continuous-learnin'", "did you mean continuous-learning?")),
    Case("unknown-source-key", replace("settings.csv", "ref-6,australia,primary-care,,VD;OUCI,", "ref-6,australia,primary-care,,VD;OUCY,"),
         (at("settings.csv", "ref-6,australia") + " sources: unknown source 'OUCY'", "did you mean OUCI?")),
    Case("unknown-country", replace("settings.csv", "ref-6,australia,", "ref-6,australa,"),
         (at("settings.csv", "ref-6,australia") + " country: unknown country 'australa'", "did you mean australia?")),
    Case("refs-in-arabic-indic-digits", replace("table1.csv", ",Continuous learning,58,", ",Continuous learning,\u0665\u0668,"),
         (at("table1.csv", "continuous-learning,") + " refs:", "is not a reference number")),
    Case("refs-outside-the-list", replace("table1.csv", ",Continuous learning,58,", ",Continuous learning,580,"),
         (at("table1.csv", "continuous-learning,") + " refs: reference 580 is outside the reference list",)),
    Case("position-with-a-superscript-digit", replace("table1.csv", "policy,practices,1,continuous-learning", "policy,practices,\u00b9,continuous-learning"),
         (at("table1.csv", "continuous-learning,") + " position:", "is not a whole number")),
    Case("figure-value-in-arabic-indic-digits", replace("figures.csv", "Studies reviewed,73,", "Studies reviewed,\u0667\u0663,"),
         (at("figures.csv", "reviewed-studies,") + " value:", "is not a whole number")),
    Case("figure-value-in-fullwidth-digits", replace("figures.csv", "Studies reviewed,73,", "Studies reviewed,\uff17\uff13,"),
         (at("figures.csv", "reviewed-studies,") + " value:", "is not a whole number")),
    # sources.csv
    Case("source-url-with-an-angle-bracket", replace("sources.csv", "https://www.ijic.org/articles/10.5334/ijic.5420/", "https://www.ijic.org/articles/<10.5334/ijic.5420>/"),
         (at("sources.csv", "IJIC,") + " url:", "cannot stand in an address")),
    Case("source-url-with-a-space", replace("sources.csv", "https://vdocuments.us/leadership-in-integrated", "https://vdocuments.us/leadership in-integrated"),
         (at("sources.csv", "VD,") + " url:", "cannot stand in an address")),
    Case("source-key-with-a-superscript-digit", replace("sources.csv", "\nIJIC,", "\nIJIC\u00b2,"),
         (at("sources.csv", "IJIC,") + " key:", "is not a source key")),
    Case("duplicate-source-key", append_line_of("sources.csv", "IJIC,"), ("key: duplicate source key 'IJIC'",)),
    # curation: curator codings, searches, screening, curators
    Case("mechanism-of-the-wrong-kind", replace(CODINGS, "network,media,shared-governance", "network,media,planning"),
         (at(CODINGS, SANDERSON_1) + " mechanism: 'planning' is a mechanism of kind 'practices', not 'media'",)),
    Case("coded-on-an-impossible-date", replace(CODINGS, SANDERSON_1 + "sanderson-2023-developing,network,media,shared-governance,,licn-curators,2026-12-01",
                                               SANDERSON_1 + "sanderson-2023-developing,network,media,shared-governance,,licn-curators,2026-13-40"),
         (at(CODINGS, SANDERSON_1) + " coded_on: '2026-13-40' is not a date (YYYY-MM-DD)",)),
    Case("coded-on-in-arabic-indic-digits", replace(CODINGS, "shared-governance,,licn-curators,2026-12-01", "shared-governance,,licn-curators,2026-12-\u0660\u0661"),
         (at(CODINGS, SANDERSON_1) + " coded_on:", "is not a date")),
    Case("search-on-an-impossible-date", replace("searches.csv", "s01,2026-12-01,", "s01,2026-02-30,"),
         (at("searches.csv", "s01,") + " date: '2026-02-30' is not a date (YYYY-MM-DD)",)),
    Case("search-results-in-fullwidth-digits", replace("searches.csv", "integrated care network leadership governance 2021,8,", "integrated care network leadership governance 2021,\uff18,"),
         (at("searches.csv", "s01,") + " results_looked_at:", "is not a whole number")),
    Case("unknown-curator", replace(CODINGS, "shared-governance,,licn-curators,", "shared-governance,,licn-curator,"),
         (at(CODINGS, SANDERSON_1) + " curator: unknown curator 'licn-curator'", "did you mean licn-curators?")),
    Case("coding-of-a-work-in-no-bibliography", replace(CODINGS, SANDERSON_1 + "sanderson-2023-developing,", SANDERSON_1 + "sanderson-2023-develop,"),
         (at(CODINGS, SANDERSON_1) + " work: unknown work 'sanderson-2023-develop'", "did you mean sanderson-2023-developing?")),
    Case("screening-decision-maybe", replace("screening.csv", ",knight-2024-integrated,title-abstract,include,", ",knight-2024-integrated,title-abstract,maybe,"),
         (at("screening.csv", ",knight-2024-integrated,title-abstract,include,") + " decision: must be one of include, exclude, duplicate, not-retrieved, not 'maybe'",)),
    Case("screening-of-an-unknown-search", replace("screening.csv", "s02,\"Integrated care system leadership", "s2,\"Integrated care system leadership"),
         (at("screening.csv", ",knight-2024-integrated,title-abstract,include,") + " search: unknown search 's2'",)),
    Case("screening-at-an-unknown-stage", replace("screening.csv", ",knight-2024-integrated,title-abstract,include,", ",knight-2024-integrated,abstract,include,"),
         (at("screening.csv", ",knight-2024-integrated,title-abstract,include,") + " stage: must be one of title-abstract, full-text, not 'abstract'",)),
    Case("exclusion-without-a-criterion", replace("screening.csv", ",title-abstract,exclude,first-layer,", ",title-abstract,exclude,,"),
         (at("screening.csv", ",title-abstract,exclude,first-layer,") + " criterion: an exclusion names the eligibility criterion it fails",)),
    Case("exclusion-for-an-unknown-criterion", replace("screening.csv", ",title-abstract,exclude,first-layer,", ",title-abstract,exclude,first-layers,"),
         (at("screening.csv", ",title-abstract,exclude,first-layer,") + " criterion: unknown criterion 'first-layers'", "did you mean first-layer?")),
    Case("search-in-an-unknown-source", replace("searches.csv", ",pages-topic\n", ",pages-topics\n"),
         (" source: unknown search source 'pages-topics'", "did you mean pages-topic?")),
    Case("criterion-of-the-review-without-a-locator", replace("eligibility.yaml", "    basis: curator\n    source:\n", "    basis: review\n    source:\n"),
         ("eligibility.yaml:", " locator: a criterion from the review names its source and where the review states it")),
    Case("second-pass-coding-by-an-unknown-curator", replace("coding-pass-2-e.csv", ",licn-coder-e,2026-12-06,", ",licn-coder-x,2026-12-06,"),
         (at("coding-pass-2-e.csv", "knight-2024-integrated-e1,") + " curator: unknown curator 'licn-coder-x'",)),
    Case("reconciliation-of-a-study-one-pass-did-not-read",
         replace("coding-passes.yaml", "    read: [sanderson-2023-developing, bell-2022-role,", "    read: [bell-2022-role,"),
         (at("curator-codings.csv", "sanderson-2023-developing-1,") + " work: 'sanderson-2023-developing' is not among the "
          "studies pass-1 read", "work: 'sanderson-2023-developing' was not read by both coding passes")),
    Case("pass-coding-left-unsettled", replace("reconciliation-b.csv", RECONCILED_FIRST, ""),
         (at("coding-pass-2-e.csv", "sanderson-2023-developing-e2,") + " key: pass-2 coding 'sanderson-2023-developing-e2' is "
          "not settled in reconciliation*.csv",)),
    Case("report-of-an-unknown-study", replace("bibliography-later.csv", ",smith-2022-early\n", ",smith-2022-earlier\n"),
         (at("bibliography-later.csv", ",no,smith-2022-early") + " study: unknown work 'smith-2022-earlier'", "did you mean smith-2022-early?")),
    Case("malformed-orcid", replace("curators.csv", "LICN-KG curation team,team,,", "LICN-KG curation team,team,0000-0002-1825-009,"),
         (at("curators.csv", "licn-curators,") + " orcid: '0000-0002-1825-009' is not an ORCID iD",)),
    Case("coded-from-a-bad-value", replace(CODINGS, "shared-governance,,licn-curators,2026-12-01,abstract,", "shared-governance,,licn-curators,2026-12-01,hearsay,"),
         (at(CODINGS, SANDERSON_1) + " coded_from: must be one of abstract, full-text, not 'hearsay'",)),
    # review.yaml
    Case("duplicate-yaml-keys", replace("review.yaml", "  doi: 10.5334/ijic.5420\n", "  doi: 10.5334/ijic.5420\n  doi: 10.5334/ijic.5421\n"),
         (at("review.yaml", "  doi: 10.5334/ijic.5420", 1) + " (file): not valid YAML: duplicate key 'doi'",)),
    Case("yaml-mapping-as-a-title", replace("review.yaml", REVIEW_TITLE, "  title: {a: b}\n"),
         (at("review.yaml", "  key: mitterlechner-2020") + " title: a mapping where a single value belongs",)),
    Case("yaml-mapping-as-a-note", replace("review.yaml", REVIEW_NOTE, "  note: {Publisher: from OUCI}\n"),
         (at("review.yaml", "  key: mitterlechner-2020") + " note: a mapping where a single value belongs",)),
    Case("yaml-list-of-numbers-as-a-volume", replace("review.yaml", "  volume: 20\n", "  volume: [20, 21]\n"),
         (at("review.yaml", "  key: mitterlechner-2020") + " volume: a list where a single value belongs",)),
    Case("yaml-mapping-as-a-reference-number", replace("review.yaml", "{ref: 7, note:", "{ref: {number: 7}, note:"),
         (at("review.yaml", "{ref: 7, note:") + " ref: a mapping where a single value belongs",)),
    Case("yaml-section-that-is-not-a-list", gaps_as_text,
         (at("review.yaml", "gaps:") + " gaps: must be a list of entries",)),
    Case("yaml-unknown-section", replace("review.yaml", "\ngaps:\n", "\ngapz:\n"),
         (at("review.yaml", "gaps:") + " gapz: unknown section", "did you mean gaps?")),
    Case("yaml-impossible-date", replace("review.yaml", "  submitted: 2019-08-30\n", "  submitted: 2019-02-30\n"),
         (at("review.yaml", "  key: mitterlechner-2020") + " submitted: '2019-02-30' is not a date (YYYY-MM-DD)",)),
    Case("yaml-year-in-arabic-indic-digits", replace("review.yaml", "  year: 2020\n", "  year: \u0662\u0660\u0662\u0660\n"),
         (at("review.yaml", "  key: mitterlechner-2020") + " year:", "is not a year")),
    Case("yaml-list-length-in-arabic-indic-digits", replace("review.yaml", "highest_reference_number_seen: 105", "highest_reference_number_seen: \u0661\u0660\u0665"),
         (at("review.yaml", "highest_reference_number_seen:") + " highest_reference_number_seen: must be a positive whole number",)),
    Case("yaml-control-character-in-a-title", replace("review.yaml", "  title: \"Leadership in", "  title: \"Leadership\\x01 in"),
         (at("review.yaml", "  key: mitterlechner-2020") + " title: control character U+0001",)),
    Case("yaml-review-doi-as-an-address-is-normalised", replace("review.yaml", "  doi: 10.5334/ijic.5420\n", "  doi: https://doi.org/10.5334/ijic.5420\n"), code=0),
    # codebook.yaml, agenda.yaml
    Case("yaml-list-where-a-key-is-expected", replace("codebook.yaml", "  - key: policy\n", "  - key: [policy]\n"),
         (at("codebook.yaml", "  - key: policy") + " key: a list where a single value belongs",)),
    Case("yaml-entry-that-is-a-list", replace("codebook.yaml", "  - key: policy\n", "  - [organisation, Organisation]\n  - key: policy\n"),
         (at("codebook.yaml", "levels:") + " levels: each entry must be a mapping of fields",)),
    Case("yaml-review-record-as-a-list", replace("review.yaml", "review:\n  key: mitterlechner-2020\n", "review:\n  - key: mitterlechner-2020\nold_review:\n  key: mitterlechner-2020\n"),
         (at("review.yaml", "review:") + " review: must be a mapping of fields",)),
    Case("yaml-mapping-in-a-list-of-sources", replace("agenda.yaml", "    sources: [SEED, RW]\n", "    sources: [SEED, {RW: Table 1}]\n"),
         (at("agenda.yaml", "  - key: dialogue-vs-shadow-of-hierarchy") + " sources: a list may hold single values only",)),
    Case("yaml-binary-value", replace("agenda.yaml", "    label: Dialogue versus the shadow of hierarchy\n", "    label: !!binary RGlhbG9ndWU=\n"),
         (at("agenda.yaml", "  - key: dialogue-vs-shadow-of-hierarchy") + " label: not a plain value",)),
    Case("yaml-top-level-list", write("agenda.yaml", "- tensions\n- avenues\n"), ("agenda.yaml:1: (file): expected a mapping at the top level",)),
    Case("yaml-raw-control-character", replace("agenda.yaml", "    label: Dialogue versus", "    label: Dialogue\x01 versus"),
         (at("agenda.yaml", "    label: Dialogue versus") + " (file): not valid YAML",)),
    Case("yaml-entry-with-a-misspelt-field", replace("codebook.yaml", "    alt_label: Policy level\n", "    alt_label: Policy level\n    scope_nte: not a field\n"),
         (at("codebook.yaml", "  - key: policy") + " scope_nte: unknown field (did you mean scope_note?)",)),
    Case("yaml-definition-from-the-review-without-a-locator",
         replace("codebook.yaml", "    definition_by: review\n    definition_locator: >-\n", "    definition_by: review\n    old_locator: >-\n"),
         (at("codebook.yaml", "  - key: policy") + " definition_locator: a definition from the review needs the place",)),
    Case("yaml-definition-by-someone-unknown",
         replace("codebook.yaml", "    definition_by: review\n", "    definition_by: reviewer\n"),
         (at("codebook.yaml", "  - key: policy") + " definition_by: must be one of review, curator, not 'reviewer'",)),
    Case("malformed-wikidata-item", replace("codebook.yaml", "wikidata: Q408}", "wikidata: Q 408}"),
         (at("codebook.yaml", "wikidata: Q408}") + " wikidata: 'Q 408' is not a Wikidata item",)),
    Case("mechanism-with-an-unknown-kind", replace("codebook-later.yaml", "{key: distributed-leadership, kind: practices", "{key: distributed-leadership, kind: practises"),
         (at("codebook-later.yaml", "{key: distributed-leadership,") + " kind: unknown kind 'practises'", "did you mean practices?")),
    Case("agenda-refs-in-arabic-indic-digits", replace("agenda.yaml", "    refs: [62]\n", "    refs: [\u0666\u0662]\n"),
         (at("agenda.yaml", "  - key: dialogue-vs-shadow-of-hierarchy") + " refs:", "is not a reference number")),
    # BibTeX, RIS and CSL-JSON drop-ins
    Case("latin-1-bibtex", write("extra.bib", bib(author="S\u00e9pulveda, Mar\u00eda"), encoding="latin-1"),
         ("extra.bib:2: (file): not valid UTF-8",)),
    Case("bibtex-author-and", write("extra.bib", bib(author=" and ")), ("extra.bib:1: author:", "surname")),
    Case("bibtex-bad-doi", write("extra.bib", bib(doi="10.9999/bib<1>")), ("extra.bib:1: doi:", "is not a DOI")),
    Case("bibtex-control-character-in-a-title", write("extra.bib", bib(title="Leadership\x01 in networks")),
         ("extra.bib:1: title: control character U+0001",)),
    Case("bibtex-year-in-arabic-indic-digits", write("extra.bib", bib(year="\u0662\u0660\u0662\u0661")), ("extra.bib:1: year:", "is not a year")),
    Case("bibtex-unparsable-entry", write("extra.bib", bib().replace("year = {2021},", "year = {2021")),
         ("extra.bib:1: (entry): cannot parse BibTeX: Unexpectedly reached end of file",)),
    Case("ris-author-without-a-surname", write("extra.ris", RIS_RECORD.format(author=", Maria")), ("extra.ris:1: authors:", "surname")),
    Case("csl-json-author-as-a-string", write("extra.csl.json", csl(author='"Doe J"')), ("extra.csl.json:2: author:",)),
    Case("csl-json-family-as-an-object", write("extra.csl.json", csl(author='[{"family": {"name": "Doe"}}]')), ("extra.csl.json:2: author:",)),
    Case("csl-json-title-as-an-object", write("extra.csl.json", csl(title='{"a": "b"}')), ("extra.csl.json:2: title:",)),
    Case("csl-json-sources-as-numbers", write("extra.csl.json", csl(sources="[1, 2]")), ("extra.csl.json:2: sources:",)),
    Case("csl-json-id-as-an-object", write("extra.csl.json", csl().replace('"id": "csl-2019-networks"', '"id": {"key": "csl-2019-networks"}')),
         ("extra.csl.json:1: id: an item's id must be text",)),
    Case("bibtex-duplicate-field", write("extra.bib", bib().replace("  year = {2021},\n", "  year = {2021},\n  year = {2020},\n")),
         ("extra.bib:1: (entry): cannot parse BibTeX: Duplicate field keys", "year")),
    Case("csl-json-not-a-list", write("extra.csl.json", '{"id": "csl-2019-networks"}\n'), ("extra.csl.json:1: (file): CSL-JSON must be a list",)),
    Case("csl-json-invalid", write("extra.csl.json", '[{"id": "csl-2019-networks",]\n'), ("extra.csl.json:1: (file): not valid JSON",)),
    # text far longer than any field (the writers of the dumps are not made for it)
    Case("bibtex-title-over-100000-characters", write("extra.bib", bib(title="x" * 100_001)),
         ("extra.bib:1: title: 100,001 characters; a field holds at most 100,000",)),
    Case("yaml-label-over-100000-characters", replace("agenda.yaml", "    label: Dialogue versus", "    label: " + "x" * 100_001 + " Dialogue versus"),
         (at("agenda.yaml", "  - key: dialogue-vs-shadow-of-hierarchy") + " label:", "a field holds at most 100,000")),
    Case("csv-field-longer-than-the-csv-readers-limit", replace("figures.csv", "Studies reviewed,", "x" * 200_000 + ","),
         (at("figures.csv", "reviewed-studies,") + " label: 200,000 characters",)),
    Case("csl-json-nested-too-deeply", write("extra.csl.json", "[" * 100_000 + "]" * 100_000),
         ("extra.csl.json:1: (file): not read: brackets nested too deeply",)),
    # folders and names of files
    Case("a-folder-named-like-a-bibtex-file", folder("extra.bib"), ("extra.bib:0: (file): cannot be read (Is a directory)",)),
    Case("a-folder-where-a-csv-file-belongs", folder("figures.csv"), ("figures.csv:0: (file): cannot be read (Is a directory)",)),
    Case("bibtex-file-with-an-upper-case-ending-is-read", write("EXTRA.BIB", bib(doi="10.9999/bib<1>")), ("EXTRA.BIB:1: doi:", "is not a DOI")),
    Case("a-csv-file-with-a-header-and-no-rows", header_only("figures.csv"), ("figures.csv:1: (file): no rows under the header",)),
    # keys name files of the site: both --no-site and a full build refuse a key too long for one
    Case("bibtex-key-of-305-characters", write("extra.bib", bib().replace("drop-in-2021-networks", "k" * 305)),
         ("extra.bib:1: key: a key of 305 characters; at most 64",)),
    Case("source-key-of-305-characters", replace("sources.csv", "\nIJIC,", "\n" + "I" * 305 + ",https://example.org/,,A source,\nIJIC,"),
         (at("sources.csv", "IJIC,") + " key: a key of 305 characters; at most 64",)),
    Case("source-keys-differing-in-letter-case", replace("sources.csv", "\nIJIC,", "\nijic,https://example.org/,,A source,\nIJIC,"),
         (at("sources.csv", "IJIC,", 1) + " key: duplicate source key 'IJIC' (written 'ijic' before)",)),
    # misspelt optional columns would drop their values silently
    Case("a-misspelt-optional-column", replace("figures.csv", ",locator,status,", ",locater,status,"),
         ("figures.csv:1: locater: unknown column (did you mean locator?)",)),
    Case("a-misspelt-column-of-the-bibliography", replace(BIB, ",inferred_fields,", ",inferred_field,"),
         (BIB + ":1: inferred_field: unknown column (did you mean inferred_fields?)",)),
    # RIS records and BibTeX @strings the parsers would drop or publish as they stand
    Case("ris-record-without-er", write("extra.ris", RIS_RECORD.format(author="Sepulveda, Maria").replace("ER  - \n", "")),
         ("extra.ris:1: ER: the record does not end",)),
    Case("ris-record-without-ty", write("extra.ris", RIS_RECORD.format(author="Sepulveda, Maria").replace("TY  - JOUR\n", "")),
         ("extra.ris:1: TY: a record that does not start with its type line",)),
    Case("bibtex-string-loop", write("extra.bib", "@string{a = b}\n@string{b = a}\n" + bib().replace(
        "title = {Leadership in regional care networks}", "title = a")),
         ("extra.bib:3: title: the @string definitions b -> a -> b go round in a loop",)),
    Case("bibtex-undefined-string", write("extra.bib", bib().replace("title = {Leadership in regional care networks}", "title = leadership")),
         ("extra.bib:1: title: 'leadership' is neither text in braces nor a @string of the file",)),
    # codebook, curators
    Case("broader-cycle", replace("codebook.yaml", "    label: Leadership theory\n", "    label: Leadership theory\n    broader: distributed-leadership-theory\n"),
         (at("codebook.yaml", "  - key: leadership-theory") + " broader: a cycle: leadership-theory -> distributed-leadership-theory -> leadership-theory",)),
    Case("orcid-with-a-wrong-check-digit", replace("curators.csv", "LICN-KG curation team,team,,", "LICN-KG curation team,team,0000-0002-1825-0098,"),
         (at("curators.csv", "licn-curators,") + " orcid: '0000-0002-1825-0098' is not an ORCID iD: with these digits its last character (a check) would be 7",)),
    # numbers that are none
    Case("yaml-volume-nan", replace("review.yaml", "  volume: 20\n", "  volume: .nan\n"),
         (at("review.yaml", "  key: mitterlechner-2020") + " volume: not a number (.nan or .inf)",)),
    Case("csv-volume-nan", replace(BIB, "Health Affairs,27,3,", "Health Affairs,NaN,3,"),
         (at(BIB, "ref-2,2,") + " volume: 'NaN' stands for a number that is not there",)),
    Case("csl-json-volume-nan", write("extra.csl.json", csl().replace('"type": "article-journal",', '"type": "article-journal", "volume": NaN,')),
         ("extra.csl.json:2: volume: nan is not a number",)),
    Case("figure-value-infinity", replace("figures.csv", "Studies reviewed,73,", "Studies reviewed,inf,"),
         (at("figures.csv", "reviewed-studies,") + " value: 'inf' is not a whole number",)),
    # dataset.yaml: what VoID and DCAT say of the dataset
    Case("dataset-issued-on-an-impossible-date", replace("dataset.yaml", "issued: 2026-11-01", "issued: 2026-02-30"),
         (at("dataset.yaml", "issued:") + " issued: '2026-02-30' is not a date (YYYY-MM-DD)",)),
    Case("dataset-contact-url-with-a-space", replace("dataset.yaml", 'url: "https://w3id.org/licn/"', 'url: "https://w3id.org/ licn/"'),
         (at("dataset.yaml", "contact:") + " url: a space cannot stand in an address",)),
    Case("dataset-creator-as-text", replace("dataset.yaml", "creator: {key: licn-kg-team, name: LICN-KG team}", "creator: LICN-KG team"),
         (at("dataset.yaml", "creator:") + " creator: must be a mapping of fields",)),
    Case("dataset-version-read-as-a-number", replace("dataset.yaml", "version: 0.1.0", "version: 1.10"),
         (at("dataset.yaml", "version:") + " version: write the version as text, in quotes ('1.1')",)),
    Case("dataset-licence-other-than-the-pages-name", replace("dataset.yaml", '"https://creativecommons.org/licenses/by/4.0/"',
                                                              '"https://creativecommons.org/licenses/by-sa/4.0/"'),
         (at("dataset.yaml", "license:") + " url: the pages and documents name https://creativecommons.org/licenses/by/4.0/",)),
    Case("yaml-date-with-a-time", replace("review.yaml", "  submitted: 2019-08-30\n", "  submitted: 2019-08-30 10:00:00\n"),
         (at("review.yaml", "  key: mitterlechner-2020") + " submitted: '2019-08-30 10:00:00' is not a date (YYYY-MM-DD)",)),
]


@pytest.fixture(scope="module")
def reference_dist(tmp_path_factory) -> Path:
    """One data-only build of the real data, copied under each case's build."""
    out = tmp_path_factory.mktemp("reference") / "dist"
    run = subprocess.run(LICN_CLI + ["build", "--no-site", "--out", str(out)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return out


@pytest.fixture(scope="module")
def reference_snapshot(reference_dist) -> dict[str, bytes]:
    return snapshot(reference_dist)


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 45
    assert len({case.id for case in CASES}) == len(CASES)


def licn_build(data: Path, out: Path, capsys) -> tuple[int, str, str]:
    """`licn build --no-site --data data --out out`: its exit code, standard output and error. An
    exception that escapes the command fails the test, as its traceback would end the process."""
    sigpipe = signal.getsignal(signal.SIGPIPE)  # the command sets it for its own process
    try:
        code = cli.main(["build", "--no-site", "--data", str(data), "--out", str(out)])
    finally:
        signal.signal(signal.SIGPIPE, sigpipe)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("case", [case if i < 5 else pytest.param(case, marks=pytest.mark.slow)
                                  for i, case in enumerate(CASES)], ids=lambda case: case.id)
def test_bad_input(case: Case, tmp_path, reference_dist, reference_snapshot, capsys):
    data = tmp_path / "data"
    shutil.copytree(paths.DATA, data)
    case.damage(data)
    out = tmp_path / "dist"
    shutil.copytree(reference_dist, out)
    assert snapshot(out) == reference_snapshot
    code, stdout, stderr = licn_build(data, out, capsys)
    assert "Traceback" not in stdout + stderr, stdout + stderr
    assert code == case.code, stdout + stderr
    if case.code == 0:
        # written differently, read the same: the same graph as the real data, byte for byte
        assert snapshot(out) == reference_snapshot
        return
    for text in case.expect:
        assert text in stderr, f"{text!r} not in:\n{stderr}"
    assert snapshot(out) == reference_snapshot, "a failed build changed the output"


DISK_FULL = """mount -t tmpfs -o size="$1" tmpfs "$2" && cp -rL "$3" "$2/dist" || exit 99
"$4" -m licn.cli build --no-site --out "$2/dist" >/dev/null
echo "exit $?"
diff -r "$3" "$2/dist" >/dev/null && echo unchanged
"""


def test_a_disk_that_fills_during_the_build(tmp_path, reference_dist):
    """The build writes onto a tmpfs with room for the output it replaces and 2 MB more (the dumps
    need more), mounted in a user and mount namespace of its own, so no root is needed: one line says
    so, no traceback, and the output is as it was."""
    if not (shutil.which("unshare") and shutil.which("diff")):
        pytest.skip("needs unshare and diff (util-linux, diffutils)")
    size = sum(p.stat().st_size + 4096 for p in reference_dist.rglob("*") if p.is_file()) + 2**21
    disk = tmp_path / "disk"
    disk.mkdir()
    run = subprocess.run(["unshare", "--map-root-user", "--mount", "sh", "-c", DISK_FULL, "sh", str(size), str(disk),
                          str(reference_dist), sys.executable], capture_output=True, text=True, check=False, timeout=300)
    if run.returncode == 99:
        pytest.skip(f"no tmpfs in a namespace of its own here: {run.stderr.strip()}")
    assert run.stdout.split("\n")[:2] == ["exit 1", "unchanged"], run.stdout + run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("licn build: ") and "No space left on device" in lines[0], run.stderr
