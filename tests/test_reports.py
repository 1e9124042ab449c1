"""Studies, not reports: a study with two reports (papers) counts once on the map, in the studies table
and in every count; each report keeps its own bibliographic record, and a coding made from the
second report counts for the study."""
import csv
import io
import os
import shutil
import subprocess
import sys

from licn import paths

from test_add_a_study import build_with, cells, rows

BIBTEX = """
@article{example-2024-leading,
  author = {Doe, Jane A. and Roe, Richard},
  title = {Leading an integrated care network: a qualitative study},
  journal = {International Journal of Integrated Care},
  year = {2024}, volume = {24}, number = {1}, pages = {1--10},
  doi = {10.5334/ijic.9999},
  url = {https://www.ijic.org/articles/10.5334/ijic.9999},
  licn-status = {seen}, licn-confidence = {high}, licn-locator = {Article page}
}
@article{example-2025-leading,
  author = {Doe, Jane A.},
  title = {Leading an integrated care network: two years on},
  journal = {International Journal of Integrated Care},
  year = {2025}, volume = {25}, number = {2}, pages = {3--12},
  doi = {10.5334/ijic.9998},
  url = {https://www.ijic.org/articles/10.5334/ijic.9998},
  licn-status = {seen}, licn-confidence = {high}, licn-locator = {Article page},
  licn-study = {example-2024-leading}
}
"""
CODING = ("{key},{work},network,{kind},{mechanism},,licn-curators,2026-12-01,abstract,{source},Abstract,inferred,medium,"
          "Test coding.")
CODINGS = [CODING.format(key="example-2024-leading-1", work="example-2024-leading", kind="activities",
                         mechanism="nurturing-linkages", source="EXAMPLE-2024-LEADING"),
           CODING.format(key="example-2025-leading-1", work="example-2025-leading", kind="activities",
                         mechanism="nurturing-linkages", source="EXAMPLE-2025-LEADING"),
           CODING.format(key="example-2025-leading-2", work="example-2025-leading", kind="outcomes",
                         mechanism="network-outcomes", source="EXAMPLE-2025-LEADING")]


def summary(stderr_and_out: str) -> str:
    return next(line for line in stderr_and_out.splitlines() if line.startswith("built "))


def test_two_reports_of_one_study_count_once(tmp_path, dist):
    home, out = build_with(tmp_path, BIBTEX, CODINGS)
    before = subprocess.run([sys.executable, "-m", "licn.cli", "query", "studies", "--dist", str(dist), "--format", "csv"],
                            capture_output=True, text=True).stdout

    studies = rows(out / "site" / "studies.csv")
    assert len(studies) == len(list(csv.DictReader(io.StringIO(before)))) + 1
    main = [r for r in studies if r["study"].endswith("/work/example-2024-leading")]
    assert len(main) == 1 and main[0]["reports"] == "2"
    assert set(main[0]["kinds"].split(", ")) == {"activities", "outcomes"}
    assert not [r for r in studies if r["study"].endswith("/work/example-2025-leading")]
    for report in ("example-2024-leading", "example-2025-leading"):  # each report keeps its own record
        assert (out / "site" / "id" / "work" / f"{report}.html").exists()

    after, earlier = cells(out / "figures" / "evidence-map-extended.csv"), cells(dist / "figures" / "evidence-map-extended.csv")
    assert after[("network", "activities")] == earlier[("network", "activities")] + 1  # two reports, one study
    assert after[("network", "outcomes")] == earlier[("network", "outcomes")] + 1
    assert {k: v for k, v in after.items() if k[1] not in ("activities", "outcomes") or k[0] != "network"} == \
           {k: v for k, v in earlier.items() if k[1] not in ("activities", "outcomes") or k[0] != "network"}
    built = subprocess.run([sys.executable, "-m", "licn.cli", "build", "--out", str(tmp_path / "again"), "--no-site"],
                           env=dict(os.environ, LICN_HOME=str(home)), capture_output=True, text=True)
    old = subprocess.run([sys.executable, "-m", "licn.cli", "build", "--out", str(tmp_path / "old"), "--no-site"],
                         capture_output=True, text=True)
    new_count = int(summary(built.stdout + built.stderr).split(" studies")[0].rsplit(" ", 1)[-1])
    old_count = int(summary(old.stdout + old.stderr).split(" studies")[0].rsplit(" ", 1)[-1])
    assert new_count == old_count + 1


def test_a_report_of_an_unknown_or_a_report_study_is_refused(tmp_path):
    home = tmp_path / "home"
    for folder in ("data", "ontology", "queries"):
        shutil.copytree(paths.ROOT / folder, home / folder)
    (home / "data" / "new-studies.bib").write_text(
        BIBTEX.replace("licn-study = {example-2024-leading}", "licn-study = {example-2023-nowhere}"), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "licn.cli", "build", "--out", str(tmp_path / "dist"), "--no-site"],
                         env=dict(os.environ, LICN_HOME=str(home)), capture_output=True, text=True)
    assert run.returncode == 1
    assert "new-studies.bib:" in run.stderr and "study: unknown work 'example-2023-nowhere'" in run.stderr
    assert not (tmp_path / "dist").exists()
