"""Release metadata a citation or a DOI deposit takes: CITATION.cff is valid (cffconvert, which checks it
against the Citation File Format schema) and says what data/dataset.yaml says, which the build checks;
the build's zenodo.json (the Zenodo deposit metadata) comes from the same record and agrees with what
cffconvert makes of CITATION.cff."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from cffconvert import Citation

from licn import paths
from loaders.common import read_yaml

LICN_CLI = [sys.executable, "-m", "licn.cli"]
CFF = paths.ROOT / "CITATION.cff"


@pytest.fixture(scope="module")
def about() -> dict:
    data, problems = read_yaml(paths.DATA / "dataset.yaml")
    assert problems == []
    return data


def test_citation_cff_is_valid():
    Citation(CFF.read_text(encoding="utf-8")).validate()  # raises what the schema does not allow


def test_citation_cff_says_what_the_dataset_record_says(about):
    cff = Citation(CFF.read_text(encoding="utf-8")).cffobj
    assert cff["title"] == about["title"] and cff["abstract"] == about["description"]
    assert str(cff["version"]) == about["version"] and cff["date-released"] == about["modified"].isoformat()
    assert cff["license"] == about["license"]["id"] and cff["keywords"] == about["keywords"]
    assert [author["name"] for author in cff["authors"]] == [about["creator"]["name"]]


def test_the_deposit_metadata_agrees_with_citation_cff_and_the_dataset_record(dist, about):
    deposit = json.loads((dist / "zenodo.json").read_text(encoding="utf-8"))
    converted = json.loads(Citation(CFF.read_text(encoding="utf-8")).as_zenodo())
    assert set(converted) == {"creators", "description", "keywords", "license", "publication_date", "title", "version"}
    assert {key: deposit[key] for key in converted} == converted
    assert deposit["upload_type"] == "dataset" and deposit["access_right"] == "open"
    assert deposit["publication_date"] == about["modified"].isoformat() and deposit["version"] == about["version"]
    assert {"identifier": "10.5334/ijic.5420", "relation": "isDerivedFrom", "resource_type": "publication-article",
            "scheme": "doi"} in deposit["related_identifiers"]


def test_the_landing_page_gives_the_dataset_s_version(dist, about):
    page = (dist / "site" / "index.html").read_text(encoding="utf-8")
    assert f'"version": "{about["version"]}"' in page


@pytest.mark.parametrize("old, new, expected", [
    ("version: 0.1.0", "version: 0.2.0", "version: says '0.2.0', but data/dataset.yaml (version) says '0.1.0'"),
    ("license: CC-BY-4.0", "license: CC0-1.0",
     "license: says 'CC0-1.0', but data/dataset.yaml (license: id) says 'CC-BY-4.0'"),
    ('  - name: "LICN-KG team"', '  - name: "Someone else"', "authors: says ['Someone else']"),
    ("date-released:", "date-published:", "date-released: missing: data/dataset.yaml (modified) says"),
], ids=["version", "licence", "authors", "date"])
def test_a_citation_cff_that_disagrees_fails_the_build(tmp_path, old, new, expected):
    home = tmp_path / "home"
    for folder in ("data", "ontology", "queries"):
        shutil.copytree(paths.ROOT / folder, home / folder)
    text = CFF.read_text(encoding="utf-8")
    assert old in text
    (home / "CITATION.cff").write_text(text.replace(old, new, 1), encoding="utf-8")
    field = expected.split(":")[0]
    # the line of the field, or of the whole file where the field is missing
    line = next((n for n, row in enumerate(text.replace(old, new, 1).splitlines(), start=1)
                 if row.startswith(field + ":")), 1)
    run = subprocess.run(LICN_CLI + ["build", "--no-site", "--out", str(tmp_path / "dist")], capture_output=True,
                         text=True, env=dict(os.environ, LICN_HOME=str(home)), timeout=300, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"CITATION.cff:{line}: {expected}" in run.stderr, run.stderr
    assert not (tmp_path / "dist").exists()
