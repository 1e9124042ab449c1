"""The project's own curation: who curates (curators.csv) and curator codings of studies
(curator-codings*.csv); how studies beyond the review were found is in loaders/screening.py.

A curator coding is a judgement the project makes, from a study's abstract or full text; it says
who coded, when and from what, and it never stands in for what the review said."""
from __future__ import annotations

import re

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF

from .bibliography import work_for
from .screening import study_of
from .common import (
    Context,
    Problem,
    Row,
    concept_ref,
    date_literal,
    did_you_mean,
    integer,
    label,
    provenance,
    typed,
    unique_keys,
)
from .vocab import LICN, instance

CURATOR_REQUIRED = ("key", "name", "type")
CURATOR_OPTIONAL = ("orcid", "note")
CODING_REQUIRED = ("key", "work", "level", "kind", "mechanism", "curator", "coded_on", "coded_from",
                   "sources", "status", "confidence")
CODING_OPTIONAL = ("theory", "locator", "note")
CODED_FROM = {"abstract": LICN.Abstract, "full-text": LICN.FullText}
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


def load_curator_codings(rows: list[Row], ctx: Context) -> tuple[dict[str, list[tuple]], list[Problem]]:
    t, problems, studies = [], [], []
    for key, row in unique_keys(rows, problems):
        work = row.get("work")
        if work not in ctx.works:
            problems.append(row.problem("work", f"unknown work '{work}' (not in the bibliography){did_you_mean(work, ctx.works)}"))
            continue
        level = concept_ref(row, "level", "level", ctx, problems)
        kind = concept_ref(row, "kind", "kind", ctx, problems)
        mech = concept_ref(row, "mechanism", "mechanism", ctx, problems)
        if mech is not None and row.get("mechanism") in ctx.mechanism_kind and ctx.mechanism_kind[row.get("mechanism")] != row.get("kind"):
            problems.append(row.problem("mechanism", f"'{row.get('mechanism')}' is a mechanism of kind '{ctx.mechanism_kind.get(row.get('mechanism'))}', not '{row.get('kind')}'"))
        theory = concept_ref(row, "theory", "theory", ctx, problems)
        curator = row.get("curator")
        if curator not in ctx.curators:
            problems.append(row.problem("curator", f"unknown curator '{curator}' (not in curators.csv){did_you_mean(curator, ctx.curators)}"))
        coded_from = CODED_FROM.get(row.get("coded_from"))
        if coded_from is None:
            problems.append(row.problem("coded_from", f"must be one of {', '.join(CODED_FROM)}, not '{row.get('coded_from')}'"))
        date = date_literal(row, "coded_on", problems)
        if level is None or kind is None or mech is None:
            continue
        if work in ctx.excluded:
            problems.append(row.problem("work", f"'{work}' is excluded by the screening (screening.csv:{ctx.excluded[work]}): "
                                                "a study off the map has no codings"))
            continue
        c = instance("coding", f"curator-{key}")
        w, typing = study_of(work, ctx)
        studies += typing
        if work in ctx.report_of:  # the coding counts for the study; it read this report
            t.append((c, LICN.codedReport, work_for(work, ctx.work_numbers.get(work), ctx)))
        t += typed(c, LICN.Coding, LICN.CuratorCoding)
        t += [label(c, f"Curator coding of {work}: {row.get('mechanism')} ({row.get('level')} level, {row.get('kind')})"),
              (c, LICN.basis, LICN.CuratorBasis), (c, LICN.evidenceFrom, w), (c, LICN.level, level),
              (c, LICN.kind, kind), (c, LICN.mechanism, mech)]
        if theory is not None:
            t.append((c, LICN.theory, theory))
        if curator in ctx.curators:
            t.append((c, PROV.wasAttributedTo, instance("agent", curator)))
        if coded_from is not None:
            t.append((c, LICN.codedFrom, coded_from))
        if date is not None:
            t.append((c, PROV.generatedAtTime, date))
        t += provenance(c, row, ctx, problems)
    return {"codings": t, "studies": studies}, problems

