"""A synthetic corpus: data/-shaped source files for N reviewed studies.

The files have the same names and columns as data/ and go through the same loaders. The shape of
the real data is kept per study: the real review has 73 studies among 105 reference entries
(refs 6-14 and 41-104), about 0.26 Table 1 items and 0.32 prose claims per study, each item or
claim citing a few neighbouring references, so about 1.4 codings per study. The synthetic corpus
repeats that block of 105 entries as often as needed; highest_reference_number_seen and studies.ranges in
review.yaml scale with N. Bibliographic records, settings and mechanisms are drawn from small word
lists with a fixed seed, so the same N always gives the same files.

    python -m bench.synth N OUT_DIR
"""
from __future__ import annotations

import csv
import io
import random
import re
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "data"

BLOCK = 105                       # reference entries per block, as in the real review
STUDY_SPANS = ((6, 14), (41, 104))  # the reviewed studies within a block (73 of 105)

# Refs per Table 1 item and per prose claim in the real data, drawn from as they are.
ITEM_REFS = (1, 3, 1, 1, 1, 1, 2, 2, 1, 3, 6, 6, 2, 6, 2, 1, 1, 4, 1)
CLAIM_REFS = (9, 4, 1, 0, 2, 0, 1, 10, 1, 8, 4, 3, 1, 3, 0, 0, 1, 4, 1, 2, 1, 3, 2)
ITEMS_PER_STUDY = 19 / 73
CLAIMS_PER_STUDY = 23 / 73

LEVELS = ("policy", "network", "organisation")
SEEN_CELLS = (("policy", "practices"), ("policy", "activities"), ("network", "practices"),
              ("network", "activities"), ("organisation", "media"), ("organisation", "practices"),
              ("organisation", "activities"))
CELL_WEIGHTS = (1, 3, 10, 8, 8, 2, 5)
CLAIM_CELLS = (("policy", "media", 6), ("policy", "practices", 1), ("policy", "activities", 1),
               ("network", "media", 8), ("network", "practices", 2), ("network", "outcomes", 1),
               ("organisation", "practices", 1), ("organisation", "activities", 1))
CONFIDENCE = ("high", "high", "high", "medium-high", "medium", "medium", "low-medium", "low")
COUNTRIES = ("australia", "canada", "denmark", "germany", "netherlands", "switzerland", "taiwan",
             "united-kingdom", "england", "united-states")
CARE_SETTINGS = ("older-people", "primary-care", "home-care", "community-care", "mental-health", "addiction",
                 "diabetes", "childrens-behavioural-health", "health-information-exchange",
                 "regional-health-networks", "nonacute-care")
PLACES = ("Quebec", "Ontario", "Copenhagen", "Queensland", "Chicago", "Los Angeles County", "South Australia",
          "Bavaria", "Zurich", "Utrecht", "Taipei", "Manchester", "")
VENUES = ("International Journal of Integrated Care", "Health Policy", "BMC Health Services Research",
          "Milbank Quarterly", "Health Care Management Review", "Social Science & Medicine",
          "Public Administration", "Public Management Review", "Journal of Health Organization and Management",
          "Health Services Management Research", "Medical Care Research and Review",
          "Journal of Interprofessional Care", "Health & Social Care in the Community", "Leadership Quarterly")
SURNAMES = ("Smith", "Jansen", "Müller", "Dubois", "Nguyen", "Olsen", "Rossi", "García", "Chen", "Kowalski",
            "Brown", "Tremblay", "Svensson", "O'Neill", "Fischer", "de Vries", "Wong", "Hansen", "Patel", "Bauer")
WORDS_A = ("Leading", "Governing", "Coordinating", "Sustaining", "Building", "Evaluating", "Understanding",
           "Managing", "Designing", "Funding", "Integrating", "Negotiating")
WORDS_B = ("integrated care networks", "inter-organisational collaboration", "primary care networks",
           "health and social care partnerships", "regional health networks", "community care alliances",
           "mental health service networks", "care for older people across providers", "network governance")
WORDS_C = ("a case study", "a comparative study", "a qualitative study", "evidence from a survey",
           "lessons from practice", "a mixed-methods evaluation", "a longitudinal study", "a realist evaluation")
MECH_VERBS = ("Sharing", "Building", "Aligning", "Negotiating", "Pooling", "Monitoring", "Brokering", "Framing",
              "Mobilising", "Sustaining", "Formalising", "Coordinating")
MECH_NOUNS = ("trust", "resources", "goals", "information", "commitment", "legitimacy", "routines", "contracts",
              "incentives", "data", "roles", "agreements", "capacity", "expertise")
KIND_OF_NEW_MECHANISM = ("media", "practices", "activities")


def study_numbers(n: int) -> tuple[list[int], list[str], int]:
    """The first n study numbers in the real pattern, their ranges, and the reference list length."""
    numbers, ranges, block = [], [], 0
    while len(numbers) < n:
        base = block * BLOCK
        for lo, hi in STUDY_SPANS:
            take = min(hi - lo + 1, n - len(numbers))
            if take <= 0:
                break
            numbers += range(base + lo, base + lo + take)
            ranges.append(f"{base + lo}-{base + lo + take - 1}")
        block += 1
    return numbers, ranges, block * BLOCK


def _csv_text(header: list[str], rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _header(name: str) -> list[str]:
    with open(REAL / name, encoding="utf-8", newline="") as f:
        return next(csv.reader(f))


def _real_rows(name: str) -> list[dict]:
    with open(REAL / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _neighbours(rng: random.Random, numbers: list[int], k: int) -> list[int]:
    """k distinct references close to each other, as the cell-ordered numbering of the review gives."""
    if k == 0:
        return []
    start = rng.randrange(len(numbers))
    picked, i = [], start
    while len(picked) < k and i < start + 4 * k + 8:
        if rng.random() < 0.7:
            picked.append(numbers[i % len(numbers)])
        i += 1
    return sorted(set(picked))


def _in_order(rng: random.Random, numbers: list[int], cursor: int, k: int) -> tuple[list[int], int]:
    """The next k references in order (Table 1 numbers its citations cell by cell), now and then one
    cited again from earlier (the double counts of Table 1)."""
    picked = []
    while len(picked) < k:
        if rng.random() < 0.15:
            picked.append(numbers[rng.randrange(len(numbers))])
        else:
            picked.append(numbers[cursor % len(numbers)])
            cursor += 1 + (rng.random() < 0.1)
    return sorted(set(picked)), cursor


def generate(n: int, out: Path, seed: int = 20200811) -> dict:
    """Write a corpus of n studies into out/ (replaced); return counts of what was written."""
    if n < 1:
        raise ValueError("n must be at least 1")
    rng = random.Random(seed * 1_000_003 + n)
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    studies, ranges, length = study_numbers(n)
    study_set = set(studies)
    others = [r for r in range(1, length + 1) if r not in study_set]  # cited but not reviewed

    # Files taken over unchanged: the Table 1 cells (nine of them) and the agenda.
    for name in ("table1_cells.csv", "agenda.yaml", "dataset.yaml", "curators.csv"):
        shutil.copyfile(REAL / name, out / name)

    # sources.csv: the real records and one record page per identified work.
    source_rows = _real_rows("sources.csv")
    extra_sources = []

    # Codebook mechanisms: the real ones plus new ones as Table 1 items and prose claims need them.
    mechanisms: dict[str, list[str]] = {"media": [], "practices": [], "activities": [], "outcomes": []}
    for entry in yaml.safe_load((REAL / "codebook.yaml").read_text(encoding="utf-8"))["mechanisms"]:
        mechanisms[entry["kind"]].append(entry["key"])
    new_mechanisms: list[str] = []

    def new_mechanism(kind: str, origin: str) -> str:
        key = f"syn-{kind}-{len(new_mechanisms) + 1}"
        label = f"{rng.choice(MECH_VERBS)} {rng.choice(MECH_NOUNS)} ({len(new_mechanisms) + 1})"
        new_mechanisms.append(f"  - {{key: {key}, kind: {kind}, origin: {origin}, label: {label}}}")
        mechanisms[kind].append(key)
        return key

    # table1.csv
    item_rows, cell_mechs = [], {cell: set() for cell in SEEN_CELLS}
    positions = {level: 0 for level in LEVELS}
    occurrences = {}
    cursor = 0
    for _ in range(max(1, round(ITEMS_PER_STUDY * n))):
        level, kind = rng.choices(SEEN_CELLS, CELL_WEIGHTS)[0]
        pool = [m for m in mechanisms[kind] if m not in cell_mechs[(level, kind)]]
        mech = rng.choice(pool) if pool and rng.random() < 0.1 else new_mechanism(kind, "table")
        cell_mechs[(level, kind)].add(mech)
        refs, cursor = _in_order(rng, studies, cursor, rng.choice(ITEM_REFS))
        positions[level] += 1
        occurrences[level] = occurrences.get(level, 0) + len(refs)
        occurrences[kind] = occurrences.get(kind, 0) + len(refs)
        item_rows.append({
            "level": level, "kind": kind, "position": positions[level], "mechanism": mech,
            "label": f"{rng.choice(MECH_VERBS)} {rng.choice(MECH_NOUNS)}", "refs": " ".join(map(str, refs)),
            "kind_status": rng.choice(("inferred", "inferred", "seen")), "sources": "RW;T1NOTES",
            "locator": f"Table 1, {level} level, item {positions[level]} of the row as listed",
            "confidence": rng.choice(CONFIDENCE),
            "note": "Label and reference numbers seen; column inferred from the bullet order." if rng.random() < 0.8 else "",
        })

    # prose_claims.csv
    claim_rows = []
    cells, weights = [c[:2] for c in CLAIM_CELLS], [c[2] for c in CLAIM_CELLS]
    for i in range(1, max(1, round(CLAIMS_PER_STUDY * n)) + 1):
        level, kind = rng.choices(cells, weights)[0]
        mech = ""
        if rng.random() < 0.85:
            if not mechanisms[kind] or rng.random() < 0.5:
                mech = new_mechanism(kind, "prose")
            else:
                mech = rng.choice(mechanisms[kind])
        refs = _neighbours(rng, studies, rng.choice(CLAIM_REFS))
        if refs and rng.random() < 0.05:
            refs.append(rng.choice(others))
        claim_rows.append({
            "key": f"{level}-claim-{i}", "level": level, "kind": kind, "mechanism": mech,
            "topic": f"{rng.choice(MECH_VERBS)} {rng.choice(MECH_NOUNS)} in {rng.choice(WORDS_B)}",
            "refs": " ".join(map(str, sorted(set(refs)))), "sources": "SEED", "locator": f"Findings, {level} level",
            "status": "seen", "confidence": rng.choice(CONFIDENCE),
            "note": "Prose of the findings." if rng.random() < 0.6 else "",
        })

    # review.yaml: the real record with the list length, study ranges and uncoded studies of this corpus.
    coded = {int(r) for row in item_rows + claim_rows for r in row["refs"].split()}
    uncoded = [number for number in studies if number not in coded]
    text = (REAL / "review.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^highest_reference_number_seen: \d+", f"highest_reference_number_seen: {length}", text)
    text = re.sub(r'(?m)^  ranges: \[.*\]', "  ranges: [" + ", ".join(f'"{r}"' for r in ranges) + "]", text)
    text = re.sub(r"(?m)^    - \{ref: \d+, note: .*\}\n", "", text)
    gap_lines = "".join(f'    - {{ref: {number}, note: "Not seen in any citation; probably in an unseen Table 1 cell."}}\n'
                        for number in uncoded)
    text = re.sub(r"(?m)^  uncoded:\n", lambda m: m.group(0) + gap_lines if uncoded else "", text)
    (out / "review.yaml").write_text(text, encoding="utf-8")

    # bibliography.csv: half of the studies and a fifth of the other entries identified, plus works
    # without a number; each identified work with its record page as a source.
    bib_rows, works = [], []
    header = _header("bibliography.csv")

    def record(key: str, number: int | None, study: bool) -> dict:
        src = f"SYN-REC-{key.upper()}"
        extra_sources.append({"key": src, "url": f"https://records.example.org/{key}", "document": "",
                              "title": f"Bibliographic record of {key}", "note": "Synthetic record page."})
        year = rng.randint(2009, 2019) if rng.random() < 0.78 else rng.randint(1990, 2008)
        authors = "; ".join(f"{rng.choice(SURNAMES)} {rng.choice('ABCDEFGHJKLMNPRSTW')}"
                            for _ in range(rng.randint(1, 6)))
        title = f"{rng.choice(WORDS_A)} {rng.choice(WORDS_B)}: {rng.choice(WORDS_C)}"
        first = rng.randint(1, 900)
        status = "seen" if rng.random() < 0.75 else "inferred"
        row = {k: "" for k in header}
        row.update({
            "key": key, "ref_no": "" if number is None else str(number),
            "type": rng.choices(("journal-article", "book-chapter", "book", "report"), (90, 5, 3, 2))[0],
            "authors": authors if rng.random() < 0.9 else "", "year": str(year), "title": title,
            "container": rng.choice(VENUES), "volume": str(rng.randint(1, 120)), "issue": str(rng.randint(1, 12)),
            "pages": f"{first}-{first + rng.randint(5, 30)}",
            "doi": f"10.5555/licn-syn.{key}" if rng.random() < 0.8 else "",
            "sources": f"SEED;{src}" if study else f"OUCI;{src}", "status": status,
            "inferred_fields": "year" if status == "inferred" and rng.random() < 0.3 else "",
            "confidence": rng.choice(CONFIDENCE),
            "locator": f"reference list position {number}" if number else "seed reference fragment",
            "note": "Synthetic record." if rng.random() < 0.5 else "",
            "lead": f"{rng.choice(SURNAMES)} et al." if rng.random() < 0.05 else "",
            "cited_by_review": "yes",
        })
        return row

    for number in range(1, length + 1):
        study = number in study_set
        if rng.random() < (0.5 if study else 0.2):
            bib_rows.append(record(f"ref-{number}", number, study))
            works.append(f"ref-{number}")
    for i in range(1, round(0.2 * n) + 1):
        bib_rows.append(record(f"syn-work-{i}", None, False))
        works.append(f"syn-work-{i}")

    # settings.csv: a third of the studies (and some other works) with a country, settings, a place.
    setting_rows = []
    for number in studies:
        if rng.random() < 0.33:
            for country in rng.sample(COUNTRIES, 2 if rng.random() < 0.1 else 1):
                setting_rows.append({
                    "work": f"ref-{number}", "country": country,
                    "care_settings": ";".join(rng.sample(CARE_SETTINGS, rng.randint(0, 2))),
                    "place": rng.choice(PLACES), "sources": "VD;SEED", "locator": "Study page", "status": "seen",
                    "confidence": rng.choice(CONFIDENCE), "note": "",
                })
    for key in works:
        if key.startswith("syn-work-") and rng.random() < 0.2:
            setting_rows.append({"work": key, "country": rng.choice(COUNTRIES), "care_settings": "", "place": "",
                                 "sources": "FACTS", "locator": "Study page", "status": "seen",
                                 "confidence": "medium", "note": ""})

    # figures.csv: the real figures, scaled to this corpus.
    figure_rows = _real_rows("figures.csv")
    scale = n / 73
    for row in figure_rows:
        key = row["key"]
        if key == "reviewed-studies":
            row["value"] = str(n)
        elif key == "since-2009":
            row["value"], row["denominator"] = str(round(57 * scale)), str(n)
        elif key.startswith(("level-", "kind-")):
            row["value"] = str(occurrences.get(key.split("-", 1)[1], 0))
        else:
            row["value"] = str(max(1, round(int(row["value"]) * scale)))

    # The real codebook (and the concepts curators added beside it, with the source records they cite), and the
    # new mechanisms in a file of their own.
    for path in [REAL / "codebook.yaml", *sorted(REAL.glob("codebook-*.yaml")), *sorted(REAL.glob("sources-*.csv"))]:
        shutil.copyfile(path, out / path.name)
    (out / "codebook-synthetic.yaml").write_text("mechanisms:\n" + "\n".join(new_mechanisms) + "\n", encoding="utf-8")

    (out / "sources.csv").write_text(_csv_text(_header("sources.csv"), source_rows + extra_sources), encoding="utf-8")
    (out / "bibliography.csv").write_text(_csv_text(header, bib_rows), encoding="utf-8")
    (out / "table1.csv").write_text(_csv_text(_header("table1.csv"), item_rows), encoding="utf-8")
    (out / "prose_claims.csv").write_text(_csv_text(_header("prose_claims.csv"), claim_rows), encoding="utf-8")
    (out / "settings.csv").write_text(_csv_text(_header("settings.csv"), setting_rows), encoding="utf-8")
    (out / "figures.csv").write_text(_csv_text(_header("figures.csv"), figure_rows), encoding="utf-8")
    codings = sum(len(r["refs"].split()) for r in item_rows + claim_rows)
    return {"studies": n, "uncoded": len(uncoded), "reference_entries": length, "ranges": len(ranges), "bibliography_rows": len(bib_rows),
            "table1_items": len(item_rows), "prose_claims": len(claim_rows), "codings": codings,
            "settings": len(setting_rows), "new_mechanisms": len(new_mechanisms),
            "sources": len(source_rows) + len(extra_sources)}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not args[0].isdigit():
        print("usage: python -m bench.synth N OUT_DIR", file=sys.stderr)
        return 2
    print(generate(int(args[0]), Path(args[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
