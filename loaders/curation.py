"""Who curates (curators.csv). How studies beyond the review were found is in loaders/screening.py;
how they were coded, twice and independently, and reconciled, in loaders/passes.py."""
from __future__ import annotations

import re

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV

from .common import Context, Problem, Row, label, typed, unique_keys
from .vocab import LICN, instance

CURATOR_REQUIRED = ("key", "name", "type")
CURATOR_OPTIONAL = ("orcid", "note")
ORCID_RE = re.compile(r"^[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]$")
AGENT_TYPES = {"team": FOAF.Organization, "person": FOAF.Person}


def agent_iri(key: str) -> URIRef:
    return instance("agent", key)


def orcid_checksum(orcid: str) -> str:
    """The check character that the first 15 digits of an ORCID iD call for (ISO 7064 MOD 11-2)."""
    total = 0
    for digit in orcid.replace("-", "")[:15]:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def load_curators(rows: list[Row], ctx: Context) -> tuple[list[tuple], list[Problem]]:
    t, problems = [], []
    for key, row in unique_keys(rows, problems):
        kind = row.get("type")
        if kind not in AGENT_TYPES:
            problems.append(row.problem("type", f"must be one of {', '.join(AGENT_TYPES)}, not '{kind}'"))
            continue
        a = agent_iri(key)
        ctx.curators.add(key)
        t += typed(a, PROV.Agent, AGENT_TYPES[kind], LICN.Curator)
        t += [label(a, row.get("name")), (a, FOAF.name, Literal(row.get("name")))]
        orcid = row.get("orcid")
        if orcid:
            if not ORCID_RE.match(orcid):
                problems.append(row.problem("orcid", f"'{orcid}' is not an ORCID iD (0000-0000-0000-0000)"))
            elif orcid_checksum(orcid) != orcid[-1]:
                problems.append(row.problem("orcid", f"'{orcid}' is not an ORCID iD: with these digits its last character (a "
                                                     f"check) would be {orcid_checksum(orcid)}; is a digit mistyped?"))
            else:
                t.append((a, LICN.orcid, URIRef("https://orcid.org/" + orcid)))
        if row.get("note"):
            t.append((a, DCTERMS.description, Literal(row.get("note"), lang="en")))
    return t, problems
