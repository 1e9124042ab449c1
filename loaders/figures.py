"""figures.csv: the numbers the review reports, with what they count and how."""
from rdflib import Literal
from rdflib.namespace import RDF

from .common import (
    Context,
    Problem,
    Row,
    concept_ref,
    integer,
    label,
    provenance,
    typed,
    unique_keys,
)
from .vocab import LICN, instance, review_iri

REQUIRED = ("key", "label", "value", "measure", "counts", "counting_rule", "sources", "status", "confidence")
OPTIONAL = ("denominator", "level", "kind", "theory", "locator", "note")
MEASURES = ("reviewed-studies", "search-hits", "studies-since-2009", "table1-occurrences", "theory-use")


def load_figures(rows: list[Row], ctx: Context) -> tuple[list[tuple], list[Problem]]:
    t, problems = [], []
    for key, row in unique_keys(rows, problems):
        value = integer(row, "value", problems)
        denominator = integer(row, "denominator", problems)
        if row.get("measure") not in MEASURES:
            problems.append(row.problem("measure", f"unknown measure '{row.get('measure')}' (one of {', '.join(MEASURES)})"))
        f = instance("figure", key)
        t += typed(f, LICN.ReportedFigure)
        t += [label(f, row.get("label")), (f, LICN.measure, Literal(row.get("measure"))),
              (f, LICN.counts, Literal(row.get("counts"), lang="en")), (f, LICN.countingRule, Literal(row.get("counting_rule"), lang="en")),
              (f, LICN.figureOf, review_iri())]
        if value is not None:
            t.append((f, RDF.value, Literal(value)))
        if denominator is not None:
            t.append((f, LICN.denominator, Literal(denominator)))
        for name, scheme, prop in (("level", "level", LICN.level), ("kind", "kind", LICN.kind), ("theory", "theory", LICN.theory)):
            ref = concept_ref(row, name, scheme, ctx, problems)
            if ref is not None:
                t.append((f, prop, ref))
        t += provenance(f, row, ctx, problems)
    return t, problems
