"""FAIR Signposting (signposting.org): the typed links that the landing page and every resource's
documents carry in their Link header. `licn serve` sends them, and the site's .htaccess has Apache
send the same ones, both from the functions here."""
from __future__ import annotations

from loaders.vocab import LICENCE

DATASET = "id/dataset/licn-kg"  # the dataset's path under the base
DATASET_TYPE = "https://schema.org/Dataset"
RESOURCE_TYPE = "https://schema.org/Thing"
DESCRIPTION_MEDIA = "text/turtle"


def link_header(cite_as: str, described_by: str, described_media: str, kind: str,
                items: list[tuple[str, str]] = ()) -> str:
    """One Link header: the IRI to cite, a description in RDF, the licence, the schema.org type and,
    for the dataset, its items."""
    links = [f'<{cite_as}>; rel="cite-as"', f'<{described_by}>; rel="describedby"; type="{described_media}"',
             f'<{LICENCE}>; rel="license"', f'<{kind}>; rel="type"']
    links += [f'<{href}>; rel="item"; type="{media}"' for href, media in items]
    return ", ".join(links)


def landing_links(base: str, root: str, downloads: list[dict]) -> str:
    """The landing page's links: the dataset, its VoID description and the dumps (dump_list's
    entries) as items. root is the site's address path ending in /, which the links start with."""
    return link_header(base + DATASET, f"{root}.well-known/void", DESCRIPTION_MEDIA, DATASET_TYPE,
                       items=[(f"{root}dumps/{d['name']}", d["media"]) for d in downloads])


def document_links(base: str, root: str, path: str) -> str:
    """A resource's links, the same for each of its documents (.html, .ttl, ...): its IRI and its
    Turtle document."""
    return link_header(base + path, f"{root}{path}.ttl", DESCRIPTION_MEDIA, RESOURCE_TYPE)
