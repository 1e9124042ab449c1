"""ro-crate-metadata.json: a build's files described as an RO-Crate 1.2 (written by the rocrate library,
which writes its JSON with sorted keys and the entities in the order they are added, so the same build
gives the same bytes): the dataset as the root, with its name, description, licence, dates, version,
keywords, makers and the review it is built from; each dump, the VoID description, the exports and the
deposit metadata as a file with its media type and size; the figures as a folder of files, and the
static site as a folder. No date of the build itself goes in."""
from __future__ import annotations

import mimetypes
from pathlib import Path

from rocrate.model.contextentity import ContextEntity
from rocrate.rocrate import ROCrate

from loaders.vocab import BASE, ID

from .citation import DEPOSIT
from .dumps import DUMPS
from .publish.exports import EXPORTS

VERSION = "1.2"
# Python's own table of media types, not the machine's (mimetypes.init reads /etc/mime.types): the
# same on every machine.
_MEDIA = mimetypes.MimeTypes(filenames=())
_EXPORT_FILES = {"bibliography.bib": "The bibliography (BibTeX)", "bibliography.ris": "The bibliography (RIS)",
                 "codings.csv": "Every coding, one per row (CSV)"}
_FIGURE_FILES = {".svg": "Figure (SVG)", ".png": "Figure (PNG)", ".csv": "The data of a figure (CSV)",
                 ".html": "A figure's page", ".json": "The figures and what they show (JSON)"}


def _media(path: Path) -> str:
    return _MEDIA.guess_type(path.name)[0] or "application/octet-stream"


def _file(crate: ROCrate, out: Path, name: str, media: str, description: str):
    return crate.add_file(source=None, dest_path=name, properties={
        "name": Path(name).name, "description": description, "encodingFormat": media,
        "contentSize": str((out / name).stat().st_size)})


def write_crate(out: Path, about: dict, review: dict) -> Path:
    """out/ro-crate-metadata.json for the files in out/ (a build's version folder); review holds the
    DOI and title of the review the dataset is built from (licn.dumps.the_review)."""
    out = Path(out)
    crate = ROCrate(gen_preview=False, version=VERSION)
    licence = crate.add(ContextEntity(crate, about["license"]["url"], properties={
        "@type": "CreativeWork", "name": about["license"]["id"], "identifier": about["license"]["id"],
        "description": f"The licence of the data ({about['license']['id']})"}))
    contact = crate.add(ContextEntity(crate, "#contact", properties={
        "@type": "ContactPoint", "name": about["contact"]["name"], "url": about["contact"]["url"],
        "contactType": "questions about the data"}))
    agents = {role: crate.add(ContextEntity(crate, str(ID[f"agent/{about[role]['key']}"]), properties={
        "@type": "Organization", "name": about[role]["name"], "contactPoint": contact,
        "url": about[role].get("homepage") or about["contact"]["url"]})) for role in ("creator", "publisher")}
    root = crate.root_dataset
    for key, value in (("name", about["title"]), ("description", about["description"]),
                       ("datePublished", str(about["issued"])), ("dateModified", str(about["modified"])),
                       ("version", str(about["version"])), ("keywords", list(about["keywords"])),
                       ("identifier", str(ID["dataset/licn-kg"])), ("url", BASE), ("license", licence),
                       ("creator", agents["creator"]), ("publisher", agents["publisher"])):
        root[key] = value
    if review.get("doi"):
        root["isBasedOn"] = crate.add(ContextEntity(crate, "https://doi.org/" + review["doi"], properties={
            "@type": "ScholarlyArticle", "identifier": review["doi"], "name": review.get("title") or review["doi"]}))
    for dump in DUMPS:
        _file(crate, out, dump.name, dump.media, f"The graph as {dump.label}")
    _file(crate, out, "void.ttl", "text/turtle", "VoID and DCAT description of the dataset")
    for name, media in sorted(EXPORTS.items()):
        if (out / name).is_file():
            _file(crate, out, name, media, _EXPORT_FILES.get(name, "An export of the graph"))
    _file(crate, out, DEPOSIT, "application/json", "Zenodo deposit metadata of this release")
    parts = list(root["hasPart"])
    if (out / "figures").is_dir():
        figures = [_file(crate, out, f"figures/{p.name}", _media(p), _FIGURE_FILES.get(p.suffix, "Figure"))
                   for p in sorted((out / "figures").iterdir()) if p.is_file()]
        parts.append(crate.add_dataset(source=None, dest_path="figures/", properties={
            "name": "Figures", "description": "The figures drawn from the graph (SVG, PNG) with their data (CSV)",
            "hasPart": figures}))
    if (out / "site").is_dir():
        parts.append(crate.add_dataset(source=None, dest_path="site/", properties={
            "name": "Static site", "description": "The dataset's web site: a page and RDF documents for every "
                                                  "resource, the stored queries, the evidence map and the figures",
            "url": BASE}))
    root["hasPart"] = parts  # the figures' files are parts of their folder, not of the root
    crate.metadata.write(out)
    return out / crate.metadata.id
