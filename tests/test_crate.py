"""The build's ro-crate-metadata.json: an RO-Crate 1.2 describing the build's files, which the RO-Crate
validator (rocrate-validator, from PyPI) passes at its "required" level.

The validator reads the crate as JSON-LD and so needs the RO-Crate context. It is given the context from
tests/fixtures/ro-crate-1.2 (copied from the RO-Crate repository) through its own offline mode, which
serves HTTP from its cache only: the tests put the file into that cache and never reach the network."""
from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
import requests
import requests_cache
import urllib3
from rocrate_validator import models, services

from licn.dumps import DUMPS
from loaders.common import read_yaml
from loaders.vocab import BASE, LICENCE

CONTEXT = Path(__file__).parent / "fixtures" / "ro-crate-1.2" / "context.jsonld"
CONTEXT_URL = "https://w3id.org/ro/crate/1.2/context"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def http_cache(tmp_path_factory) -> Path:
    """The validator's HTTP cache, holding the RO-Crate 1.2 context as its address would answer."""
    path = tmp_path_factory.mktemp("rocrate-validator") / "http-cache"
    session = requests_cache.CachedSession(cache_name=str(path), backend="sqlite", expire_after=-1)
    request = session.prepare_request(requests.Request("GET", CONTEXT_URL, headers={
        "Accept": "application/ld+json, application/json, */*;q=0.1"}))
    raw = urllib3.HTTPResponse(body=io.BytesIO(CONTEXT.read_bytes()), headers={"Content-Type": "application/ld+json"},
                               status=200, preload_content=False, request_url=CONTEXT_URL)
    session.cache.save_response(requests.adapters.HTTPAdapter().build_response(request, raw))
    session.close()
    return path


def required_issues(folder: Path, cache: Path) -> list[str]:
    """What the validator finds wrong at its "required" level (RO-Crate's MUSTs), offline."""
    settings = services.ValidationSettings(rocrate_uri=str(folder), profile_identifier="ro-crate-1.2",
                                           requirement_severity=models.Severity.REQUIRED, offline=True,
                                           cache_path=cache)
    result = services.validate(settings)
    return [f"{issue.check.identifier}: {issue.message}" for issue in result.get_issues()
            if issue.severity >= models.Severity.REQUIRED]


def entities(dist: Path) -> dict[str, dict]:
    crate = json.loads((dist / "ro-crate-metadata.json").read_text(encoding="utf-8"))
    assert crate["@context"] == CONTEXT_URL
    return {entity["@id"]: entity for entity in crate["@graph"]}


def test_the_crate_describes_the_dataset_and_every_file_of_the_build(dist):
    about, _ = read_yaml(ROOT / "data" / "dataset.yaml")
    found = entities(dist)
    assert found["ro-crate-metadata.json"]["conformsTo"] == {"@id": "https://w3id.org/ro/crate/1.2"}
    root = found["./"]
    assert root["name"] == about["title"] and root["description"] == about["description"]
    assert root["license"] == {"@id": str(LICENCE)} and found[str(LICENCE)]["@type"] == "CreativeWork"
    assert root["datePublished"] == about["issued"].isoformat() and root["version"] == about["version"]
    assert root["identifier"] == BASE + "id/dataset/licn-kg"
    assert found[root["isBasedOn"]["@id"]]["identifier"] == "10.5334/ijic.5420"
    parts = {part["@id"] for part in root["hasPart"]}
    for dump in DUMPS:
        assert dump.name in parts
        entity = found[dump.name]
        assert entity["@type"] == "File" and entity["encodingFormat"] == dump.media
        assert entity["contentSize"] == str((dist / dump.name).stat().st_size)
    assert {"void.ttl", "zenodo.json", "figures/", "site/"} <= parts
    figures = found["figures/"]
    assert figures["@type"] == "Dataset"
    assert {part["@id"] for part in figures["hasPart"]} == {f"figures/{p.name}" for p in (dist / "figures").iterdir()}
    assert found["figures/evidence-map.svg"]["encodingFormat"] == "image/svg+xml"
    assert found["site/"]["@type"] == "Dataset"
    for name, entity in found.items():  # every file and folder it names is there, with its size
        if entity["@type"] in ("File", "Dataset") and name != "./":
            assert (dist / name).exists(), name
            if entity["@type"] == "File":
                assert entity["contentSize"] == str((dist / name).stat().st_size), name


def test_the_crate_passes_the_ro_crate_validator(dist, http_cache):
    assert required_issues(dist, http_cache) == []


def test_the_validator_finds_a_crate_without_licence_or_date(dist, http_cache, tmp_path):
    crate = json.loads((dist / "ro-crate-metadata.json").read_text(encoding="utf-8"))
    root = next(entity for entity in crate["@graph"] if entity["@id"] == "./")
    del root["license"], root["datePublished"]
    copy = tmp_path / "crate"
    shutil.copytree(dist, copy, ignore=shutil.ignore_patterns("site"))
    (copy / "ro-crate-metadata.json").write_text(json.dumps(crate), encoding="utf-8")
    issues = required_issues(copy, http_cache)
    assert any("`license`" in issue for issue in issues) and any("`datePublished`" in issue for issue in issues), issues
