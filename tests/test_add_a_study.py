"""The README's "Adding a study" done exactly as it says, for a study the review never saw: one BibTeX
entry and two coding rows give the study a page, a row in the studies table and a place on the map as
extended, and leave the map as published as it was."""
import csv
import io
import os
import shutil
import subprocess
import sys

from licn import paths
from licn.publish.whatsnew import write_release

BIBTEX = """
@article{example-2024-leading,
  author = {Doe, Jane A. and Roe, Richard},
  title = {Leading an integrated care network: a qualitative study},
  journal = {International Journal of Integrated Care},
  year = {2024},
  volume = {24},
  number = {1},
  pages = {1--10},
  doi = {https://doi.org/10.5334/ijic.9999},
  url = {https://www.ijic.org/articles/10.5334/ijic.9999},
  licn-status = {seen},
  licn-confidence = {high},
  licn-locator = {Article page}
}
"""
CODINGS = [
    "example-2024-leading-1,example-2024-leading,network,activities,nurturing-linkages,network-theory,licn-curators,"
    "2026-12-01,abstract,EXAMPLE-2024-LEADING,Abstract,inferred,medium,Managers of the network keep its members in touch.",
    "example-2024-leading-2,example-2024-leading,network,outcomes,network-outcomes,,licn-curators,"
    "2026-12-01,abstract,EXAMPLE-2024-LEADING,Abstract,inferred,low-medium,Reports what the network changed for its members.",
]


def code_twice(home, codings: list[str], coder_b: str = "licn-coder-b") -> None:
    """The README's steps 2 and 3 for coding rows of the first pass: the same codings made by a second
    pass, the studies read by both passes, and every coding agreed in the reconciliation."""
    data = home / "data"
    works = sorted({row.split(",")[1] for row in codings})
    passes = (data / "coding-passes.yaml").read_text(encoding="utf-8")
    (data / "coding-passes.yaml").write_text(passes.replace("read: [", "read: [" + ", ".join(works) + ", "), encoding="utf-8")
    second = [row.replace(row.split(",")[0], row.split(",")[0] + "-b", 1).replace(",licn-curators,", f",{coder_b},")
              for row in codings]
    with open(data / "coding-pass-2-d.csv", "a", encoding="utf-8") as sheet:
        sheet.write("\n".join(second) + "\n")
    settled = [",".join([row.split(",")[0] + "-r", *row.split(",")[1:5], row.split(",")[0], row.split(",")[0] + "-b",
                         "agreed", "", "medium", "licn-reconciler", "2026-12-06"]) for row in codings]
    with open(data / "reconciliation-b.csv", "a", encoding="utf-8") as sheet:
        sheet.write("\n".join(settled) + "\n")


def rows(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def cells(path):
    return {(r["level"], r["kind"]): int(r["studies"]) for r in rows(path)}


def build_with(tmp_path, bibtex: str, codings: list[str], release=None):
    """A copy of the project with the entries of bibtex in data/ and their codings made and reconciled as
    the README says, built into tmp_path/dist: (home, out). With release (a built dist/), that build is kept
    as the latest release first, as `licn release` does."""
    home = tmp_path / "home"
    for folder in ("data", "ontology", "queries"):
        shutil.copytree(paths.ROOT / folder, home / folder)
    if release is not None:
        write_release(release, "2099-12-31", home / "data")
    (home / "data" / "new-studies.bib").write_text(bibtex, encoding="utf-8")
    with open(home / "data" / "curator-codings.csv", "a", encoding="utf-8") as sheet:
        sheet.write("\n".join(codings) + "\n")
    code_twice(home, codings)
    out = tmp_path / "dist"
    run = subprocess.run([sys.executable, "-m", "licn.cli", "build", "--out", str(out)],
                         env=dict(os.environ, LICN_HOME=str(home)), capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return home, out


def test_adding_a_study_as_the_readme_says(tmp_path, dist):
    home, out = build_with(tmp_path, BIBTEX, CODINGS, release=dist)

    page = out / "site" / "id" / "work" / "example-2024-leading.html"
    assert page.exists() and "Leading an integrated care network" in page.read_text(encoding="utf-8")
    study = [r for r in rows(out / "site" / "studies.csv") if r["study"].endswith("/work/example-2024-leading")]
    assert len(study) == 1
    assert study[0]["authors"] == "Doe JA; Roe R" and study[0]["doi"] == "10.5334/ijic.9999"
    assert study[0]["bases"] == "curator" and study[0]["reviewed"] == "false"

    assert cells(out / "figures" / "evidence-map.csv") == cells(dist / "figures" / "evidence-map.csv")
    before, after = cells(dist / "figures" / "evidence-map-extended.csv"), cells(out / "figures" / "evidence-map-extended.csv")
    assert after[("network", "activities")] == before[("network", "activities")] + 1
    assert after[("network", "outcomes")] == before[("network", "outcomes")] + 1
    assert {k: v for k, v in after.items() if k not in (("network", "activities"), ("network", "outcomes"))} == \
           {k: v for k, v in before.items() if k not in (("network", "activities"), ("network", "outcomes"))}

    changes = subprocess.run([sys.executable, "-m", "licn.cli", "diff", str(dist), str(out)], capture_output=True,
                             text=True, timeout=300).stdout.splitlines()
    work = "https://w3id.org/licn/id/work/example-2024-leading"
    assert [line for line in changes if line.startswith("study ")] == [f"study added: {work}"]
    assert sorted(line for line in changes if line.startswith("coding ")) == [
        "coding added: https://w3id.org/licn/id/coding/curator-example-2024-leading-1-r",
        "coding added: https://w3id.org/licn/id/coding/curator-example-2024-leading-2-r"]
    assert [line for line in changes if line.startswith("map cell ")] == [
        f"map cell network x activities (as extended): {before[('network', 'activities')]} -> "
        f"{after[('network', 'activities')]} studies",
        f"map cell network x outcomes (as extended): {before[('network', 'outcomes')]} -> {after[('network', 'outcomes')]} studies"]
    assert {line.split(":")[0] for line in changes if line.startswith("layer ")} <= {  # review: its source record
        "layer codings", "layer curation", "layer references", "layer review", "layer studies"}

    # the site's What's new and its feed: one new entry, since the release just kept, saying exactly this
    import feedparser
    feed = feedparser.parse((out / "site" / "whats-new.atom").read_bytes())
    before_feed = feedparser.parse((dist / "site" / "whats-new.atom").read_bytes())
    assert not feed.bozo and len(feed.entries) == len([e for e in before_feed.entries if not e.id.endswith("#unreleased")]) + 2
    newest = feed.entries[0]
    assert newest.id == "https://w3id.org/licn/whats-new#unreleased" and newest.title.startswith("Since release 2099-12-31")
    lines = newest.content[0].value.splitlines()
    assert lines[0] == "1 study added: Leading an integrated care network: a qualitative study"
    assert lines[1] == "2 codings added"
    assert [line for line in lines if line.startswith("Map cell")] == [
        f"Map cell network × activities (as extended): {before[('network', 'activities')]} → "
        f"{after[('network', 'activities')]} studies",
        f"Map cell network × outcomes (as extended): {before[('network', 'outcomes')]} → "
        f"{after[('network', 'outcomes')]} studies"]
    assert feed.entries[1].id == "https://w3id.org/licn/whats-new#release-2099-12-31"
    page = (out / "site" / "whats-new.html").read_text(encoding="utf-8")
    assert 'href="id/work/example-2024-leading.html"' in page
