"""How studies beyond the review are found and chosen: the sources searched and the written strategy
for each (search-sources.yaml), the eligibility criteria (eligibility.yaml), the searches
(searches.csv) and every candidate looked at, with its decision at each stage (screening.csv).
An exclusion names the criterion it fails; the PRISMA 2020 flow diagram is counted from these."""
from __future__ import annotations

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF

from .bibliography import work_for
from .common import (
    Context,
    Problem,
    Row,
    as_list,
    date_literal,
    did_you_mean,
    integer,
    label,
    typed,
    unique_keys,
    unknown_fields,
    unknown_sections,
    yaml_rows,
)
from .vocab import LICN, instance, source_iri

SOURCE_FIELDS = ("key", "label", "what", "strategy")
CRITERION_FIELDS = ("key", "label", "include", "exclude", "basis", "source", "locator")
CRITERION_BASES = {"review": LICN.ReviewDefinition, "curator": LICN.CuratorDefinition}
SEARCH_REQUIRED = ("key", "date", "where", "terms", "results_looked_at", "source")
SEARCH_OPTIONAL = ("note",)
SCREENING_REQUIRED = ("search", "candidate", "stage", "decision", "reason")
SCREENING_OPTIONAL = ("work", "criterion", "sources")
STAGES = {"title-abstract": LICN.TitleAbstractStage, "full-text": LICN.FullTextStage}
DECISIONS = ("include", "exclude", "duplicate", "not-retrieved")


def criterion_iri(key: str) -> URIRef:
    return instance("criterion", key)


def load_search_sources(data: dict, file: str, ctx: Context) -> tuple[list[tuple], list[Problem]]:
    t, problems = [], []
    unknown_sections(data, ("sources",), file, problems)
    for key, row in unique_keys(yaml_rows(data, "sources", file, problems), problems):
        unknown_fields(row, SOURCE_FIELDS, problems)
        for name in ("label", "strategy"):
            if not row.get(name):
                problems.append(row.problem(name, "required value is empty"))
        ctx.search_sources.add(key)
        s = instance("search-source", key)
        t += typed(s, LICN.SearchSource)
        t += [label(s, row.get("label") or key), (s, LICN.searchStrategy, Literal(row.get("strategy"), lang="en"))]
        if row.get("what"):
            t.append((s, DCTERMS.description, Literal(row.get("what"), lang="en")))
    return t, problems


def load_eligibility(data: dict, file: str, ctx: Context) -> tuple[list[tuple], list[Problem]]:
    t, problems = [], []
    unknown_sections(data, ("criteria",), file, problems)
    for key, row in unique_keys(yaml_rows(data, "criteria", file, problems), problems):
        unknown_fields(row, CRITERION_FIELDS, problems)
        for name in ("label", "include", "basis"):
            if not row.get(name):
                problems.append(row.problem(name, "required value is empty"))
        basis = row.get("basis")
        if basis and basis not in CRITERION_BASES:
            problems.append(row.problem("basis", f"must be one of {', '.join(CRITERION_BASES)}, not '{basis}'"))
        if basis == "review" and not (row.get("source") and row.get("locator")):
            problems.append(row.problem("locator", "a criterion from the review names its source and where the review states it"))
        ctx.criteria.add(key)
        c = criterion_iri(key)
        t += typed(c, LICN.EligibilityCriterion)
        t += [label(c, row.get("label") or key), (c, LICN.includes, Literal(row.get("include"), lang="en"))]
        if row.get("exclude"):
            t.append((c, LICN.excludes, Literal(row.get("exclude"), lang="en")))
        if basis in CRITERION_BASES:
            t.append((c, LICN.definitionBy, CRITERION_BASES[basis]))
        if row.get("source") and row.get("source") not in ctx.sources:
            problems.append(row.problem("source", f"unknown source '{row.get('source')}' (not in sources.csv)"
                                                  f"{did_you_mean(row.get('source'), ctx.sources)}"))
        elif row.get("source"):
            t.append((c, PROV.wasDerivedFrom, source_iri(row.get("source"))))
        if row.get("locator"):
            t.append((c, LICN.locator, Literal(row.get("locator"))))
    return t, problems


def load_searches(searches: list[Row], screening: list[Row], ctx: Context) -> tuple[dict[str, list[tuple]], list[Problem]]:
    """The searches for studies beyond the review, and every candidate looked at, stage by stage."""
    t, problems, studies = [], [], []
    for key, row in unique_keys(searches, problems):
        s = instance("search", key)
        ctx.searches.add(key)
        looked = integer(row, "results_looked_at", problems)
        date = date_literal(row, "date", problems)
        t += typed(s, LICN.LiteratureSearch, PROV.Activity)
        t += [label(s, f"Search {key}: {row.get('terms')}"), (s, LICN.searchedIn, Literal(row.get("where"))),
              (s, LICN.searchTerms, Literal(row.get("terms")))]
        if row.get("source") not in ctx.search_sources:
            problems.append(row.problem("source", f"unknown search source '{row.get('source')}' (not in "
                                                  f"search-sources.yaml){did_you_mean(row.get('source'), ctx.search_sources)}"))
        else:
            t.append((s, LICN.searchSource, instance("search-source", row.get("source"))))
        if date is not None:
            t.append((s, DCTERMS.date, date))
        if looked is not None:
            t.append((s, LICN.resultsLookedAt, Literal(looked)))
        if row.get("note"):
            t.append((s, DCTERMS.description, Literal(row.get("note"), lang="en")))
    counts: dict[str, int] = {}
    for row in screening:
        d = _decision(row, ctx, problems, counts)
        if d is None:
            continue
        t += d
        work = row.get("work")
        if row.get("decision") == "include" and row.get("stage") == "full-text" and work in ctx.works:
            studies += study_of(work, ctx)[1]
            ctx.screened.add(work)
    for row in screening:  # a work excluded at a stage is no study of the map, whatever else says so
        if row.get("decision") == "exclude" and row.get("work") in ctx.works:
            ctx.excluded[row.get("work")] = row.line
    return {"curation": t, "studies": studies}, problems


def _decision(row: Row, ctx: Context, problems: list[Problem], counts: dict[str, int]) -> list[tuple] | None:
    search, stage, decision, work = row.get("search"), row.get("stage"), row.get("decision"), row.get("work")
    if search not in ctx.searches:
        problems.append(row.problem("search", f"unknown search '{search}' (not in searches.csv){did_you_mean(search, ctx.searches)}"))
        return None
    if stage not in STAGES:
        problems.append(row.problem("stage", f"must be one of {', '.join(STAGES)}, not '{stage}'"))
        return None
    if decision not in DECISIONS:
        problems.append(row.problem("decision", f"must be one of {', '.join(DECISIONS)}, not '{decision}'"))
        return None
    criterion = row.get("criterion")
    if decision == "exclude" and not criterion:
        problems.append(row.problem("criterion", "an exclusion names the eligibility criterion it fails"))
        return None
    if criterion and decision != "exclude":
        problems.append(row.problem("criterion", f"only an exclusion names a criterion, not a decision to {decision}"))
        return None
    if criterion and criterion not in ctx.criteria:
        problems.append(row.problem("criterion", f"unknown criterion '{criterion}' (not in eligibility.yaml)"
                                                 f"{did_you_mean(criterion, ctx.criteria)}"))
        return None
    if decision == "not-retrieved" and stage != "full-text":
        problems.append(row.problem("stage", "a report not retrieved is one sought at the full-text stage"))
        return None
    if decision == "include" and stage == "full-text" and work not in ctx.works:
        problems.append(row.problem("work", f"a report included at the full-text stage names its work in the "
                                            f"bibliography; '{work}' is not there{did_you_mean(work, ctx.works)}"))
        return None
    if work and work not in ctx.works:
        problems.append(row.problem("work", f"unknown work '{work}' (not in the bibliography){did_you_mean(work, ctx.works)}"))
        return None
    counts[search] = counts.get(search, 0) + 1
    d = instance("screening", f"{search}-{counts[search]}")
    t = typed(d, LICN.ScreeningDecision)
    t += [label(d, f"{decision.capitalize().replace('-', ' ')} at {stage.replace('-', '/')}: {row.get('candidate')}"),
          (d, LICN.search, instance("search", search)), (d, LICN.candidate, Literal(row.get("candidate"))),
          (d, LICN.stage, STAGES[stage]), (d, LICN.decision, Literal(decision)),
          (d, LICN.reason, Literal(row.get("reason"), lang="en"))]
    if criterion:
        t.append((d, LICN.failsCriterion, criterion_iri(criterion)))
    if work:
        t.append((d, LICN.screenedWork, work_for(work, ctx.work_numbers.get(work), ctx)))
    for key in as_list(row.get("sources")):  # what the screener read, where it is not the work's own record
        if key not in ctx.sources:
            problems.append(row.problem("sources", f"unknown source '{key}' (not in sources.csv){did_you_mean(key, ctx.sources)}"))
        else:
            t.append((d, PROV.wasDerivedFrom, source_iri(key)))
    return t


def study_of(work: str, ctx: Context) -> tuple[URIRef, list[tuple]]:
    """The study a work reports (its main report; the work itself unless bibliography's `study` column
    names another), and its typing: a work that a search included or a curator coded is a study of
    the field (a reviewed study is typed as one where the review's record states it)."""
    study = ctx.report_of.get(work, work)
    w = work_for(study, ctx.work_numbers.get(study), ctx)
    return w, ([] if ctx.work_numbers.get(study) in ctx.study_numbers else [(w, RDF.type, LICN.Study)])
