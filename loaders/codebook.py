"""codebook.yaml: SKOS concept schemes (levels, kinds, mechanisms, theories, places, confidence)."""
from rdflib import Literal
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS

import re

from .common import Context, Problem, Row, check_key, did_you_mean, label, unknown_fields, unknown_sections, yaml_rows
from .vocab import LICN, WD, concept, scheme_iri, source_iri

# section in codebook.yaml -> (concept prefix, class, scheme title); the scheme IRI is codebook#<section>
SCHEMES = {
    "levels": ("level", LICN.LevelOfAnalysis, "Levels of analysis"),
    "kinds": ("kind", LICN.MechanismKind, "Kinds of leadership mechanism"),
    "mechanisms": ("mechanism", LICN.Mechanism, "Leadership mechanisms"),
    "theories": ("theory", LICN.TheoreticalLens, "Theoretical lenses"),
    "countries": ("country", LICN.Country, "Countries"),
    "care_settings": ("setting", LICN.CareSetting, "Care settings"),
    "designs": ("design", LICN.StudyDesign, "Study designs"),
    "confidence": ("confidence", LICN.ConfidenceLevel, "Confidence levels"),
}
# What an entry may say: the fields every concept has, and those of mechanisms and countries.
FIELDS = ("key", "label", "alt_label", "definition", "scope_note", "example", "definition_by", "definition_locator",
          "source", "broader")
SECTION_FIELDS = {"mechanisms": ("kind", "origin"), "countries": ("wikidata",)}
DEFINED_BY = {"review": LICN.ReviewDefinition, "curator": LICN.CuratorDefinition}


ORIGINS = ("table", "prose", "curator")


def _definition(section: str, row: Row, kinds: dict) -> str:
    if row.get("definition"):
        return row.get("definition")
    if section == "mechanisms":
        kind = kinds.get(row.get("kind"), row.get("kind"))
        if row.get("origin") == "table":
            return f"Leadership mechanism labelled '{row.get('label')}' in Table 1 of the review, under {kind.lower()}."
        if row.get("origin") == "curator":
            return (f"Leadership mechanism under {kind.lower()} added by the project's curators when coding studies "
                    "beyond the review; not a label or topic of the review.")
        return f"Topic of the review's findings prose under {kind.lower()}, paraphrased by the curators; not a Table 1 label."
    if section == "countries":
        return f"{row.get('label')}, as a setting of studies (Wikidata {row.get('wikidata')})."
    return ""


def _definition_notes(c, row: Row, problems: list[Problem]) -> list[tuple]:
    """What a coder applies besides the definition: what the concept does not cover, an example, and
    whose definition it is (the review's, at a locator, or the curators' own)."""
    t = [(c, SKOS.scopeNote, Literal(row.get("scope_note"), lang="en"))] if row.get("scope_note") else []
    if row.get("example"):
        t.append((c, SKOS.example, Literal(row.get("example"), lang="en")))
    by = row.get("definition_by")
    if by and by not in DEFINED_BY:
        problems.append(row.problem("definition_by", f"must be one of {', '.join(DEFINED_BY)}, not '{by}'"))
    elif by:
        t.append((c, LICN.definitionBy, DEFINED_BY[by]))
    if by == "review" and not row.get("definition_locator"):
        problems.append(row.problem("definition_locator", "a definition from the review needs the place in the review it comes from"))
    if row.get("definition_locator"):
        if by != "review":
            problems.append(row.problem("definition_locator", "only a definition from the review has a locator in the review"))
        t.append((c, LICN.definitionLocator, Literal(row.get("definition_locator"))))
    return t


def _broader_cycles(rows: list[Row], problems: list[Problem]) -> None:
    """A concept is never broader than itself, through any chain of broader concepts."""
    broader = {row.get("key"): row.get("broader") for row in rows if row.get("broader")}
    for row in rows:
        chain = [row.get("key")]
        while chain[-1] in broader and broader[chain[-1]] not in chain:
            chain.append(broader[chain[-1]])
        if broader.get(chain[-1]) == chain[0]:
            problems.append(row.problem("broader", f"a cycle: {' -> '.join(chain + chain[:1])} "
                                                   "(a concept cannot be broader than itself)"))


def load_codebook(data: dict, file: str, ctx: Context) -> tuple[list[tuple], list[Problem]]:
    return load_codebooks([(file, data)], ctx)


def load_codebooks(books: list[tuple[str, dict]], ctx: Context) -> tuple[list[tuple], list[Problem]]:
    """codebook.yaml and the codebook-*.yaml files beside it (concepts curators add), as one codebook."""
    triples, problems = [], []
    for file, data in books:
        unknown_sections(data, SCHEMES, file, problems)
    rows_by_section = {section: [row for file, data in books for row in yaml_rows(data, section, file, problems)]
                       for section in SCHEMES}
    for section, (scheme, _, _) in SCHEMES.items():
        keys = ctx.concepts.setdefault(scheme, set())
        for row in rows_by_section[section]:
            key = check_key(row, "key", problems)
            if not key:
                problems.append(row.problem("key", "required value is empty"))
            elif key in keys:
                problems.append(row.problem("key", f"duplicate {scheme} '{key}'"))
            keys.add(key)
    kind_labels = {r.get("key"): r.get("label") for r in rows_by_section["kinds"]}
    for section, (scheme, cls, title) in SCHEMES.items():
        s = scheme_iri(section.replace("_", "-"))
        triples += [(s, RDF.type, SKOS.ConceptScheme), label(s, title), (s, SKOS.prefLabel, Literal(title, lang="en")),
                    (s, DCTERMS.title, Literal(title, lang="en"))]
        for position, row in enumerate(rows_by_section[section], start=1):
            key = row.get("key")
            if not key:
                continue
            c = concept(scheme, key)
            triples.append((c, LICN.position, Literal(position)))
            if row.get("alt_label"):
                triples.append((c, SKOS.altLabel, Literal(row.get("alt_label"), lang="en")))
            text = row.get("label")
            if not text:
                problems.append(row.problem("label", "required value is empty"))
            ctx.concept_labels[scheme, key] = text
            definition = _definition(section, row, kind_labels)
            if not definition:
                problems.append(row.problem("definition", "required value is empty"))
            triples += [(c, RDF.type, SKOS.Concept), (c, RDF.type, cls), (c, SKOS.inScheme, s),
                        (c, SKOS.prefLabel, Literal(text, lang="en")), (c, SKOS.notation, Literal(key)),
                        (c, SKOS.definition, Literal(definition, lang="en"))]
            unknown_fields(row, FIELDS + SECTION_FIELDS.get(section, ()), problems)
            triples += _definition_notes(c, row, problems)
            broader = row.get("broader")
            if section == "mechanisms":
                if row.get("kind") not in ctx.concepts["kind"]:
                    problems.append(row.problem("kind", f"unknown kind '{row.get('kind')}'{did_you_mean(row.get('kind'), ctx.concepts['kind'])}"))
                else:
                    ctx.mechanism_kind[key] = row.get("kind")
                    triples.append((c, SKOS.broader, concept("kind", row.get("kind"))))
                if row.get("origin") not in ORIGINS:
                    problems.append(row.problem("origin", f"must be one of {', '.join(ORIGINS)}, not '{row.get('origin')}'"))
                else:
                    triples.append((c, LICN.labelOrigin, Literal(row.get("origin"))))
            if broader:
                if broader not in ctx.concepts[scheme]:
                    problems.append(row.problem("broader", f"unknown {scheme} '{broader}'"))
                else:
                    triples.append((c, SKOS.broader, concept(scheme, broader)))
            if broader is None or not broader:
                if section != "mechanisms":
                    triples.append((s, SKOS.hasTopConcept, c))
                    triples.append((c, SKOS.topConceptOf, s))
            if row.get("wikidata") and not re.fullmatch(r"Q[0-9]+", row.get("wikidata")):
                problems.append(row.problem("wikidata", f"'{row.get('wikidata')}' is not a Wikidata item (Q and digits, e.g. Q408)"))
            elif row.get("wikidata"):
                triples.append((c, SKOS.exactMatch, WD[row.get("wikidata")]))
                triples.append((c, PROV.wasDerivedFrom, source_iri("WIKIDATA")))
            if row.get("source"):
                if row.get("source") not in ctx.sources:
                    problems.append(row.problem("source", f"unknown source '{row.get('source')}'"))
                else:
                    triples.append((c, PROV.wasDerivedFrom, source_iri(row.get("source"))))
        _broader_cycles(rows_by_section[section], problems)
    return triples, problems
