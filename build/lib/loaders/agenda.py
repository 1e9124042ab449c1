"""agenda.yaml: tensions (as SKOS concepts that carry their sources) and research avenues."""
from rdflib import Literal
from rdflib.namespace import RDF, SKOS

from .common import (
    Context,
    Problem,
    as_list,
    check_key,
    integer,
    is_number,
    label,
    provenance,
    typed,
    unknown_sections,
    yaml_rows,
)
from .vocab import CB, LICN, concept, entry_iri, instance, scheme_iri


def load_agenda(data: dict, file: str, ctx: Context) -> tuple[list[tuple], list[Problem]]:
    t, problems = [], []
    unknown_sections(data, ("tensions", "avenues"), file, problems)
    tensions = yaml_rows(data, "tensions", file, problems)
    ctx.concepts["tension"] = {r.get("key") for r in tensions}
    scheme = scheme_iri("tensions")
    t += [(scheme, RDF.type, SKOS.ConceptScheme), label(scheme, "Tensions"), (scheme, SKOS.prefLabel, Literal("Tensions", lang="en"))]
    for row in tensions:
        key = check_key(row, "key", problems)
        c = concept("tension", key)
        for name in ("label", "definition"):
            if not row.get(name):
                problems.append(row.problem(name, "required value is empty"))
        t += typed(c, SKOS.Concept, LICN.Tension)
        t += [(c, SKOS.inScheme, scheme), (c, SKOS.topConceptOf, scheme), (scheme, SKOS.hasTopConcept, c),
              (c, SKOS.prefLabel, Literal(row.get("label"), lang="en")), (c, SKOS.notation, Literal(key)),
              (c, SKOS.definition, Literal(row.get("definition"), lang="en"))]
        for level in as_list(row.get("levels")):
            if level not in ctx.concepts.get("level", set()):
                problems.append(row.problem("levels", f"unknown level '{level}'"))
            else:
                t.append((c, LICN.concerns, concept("level", level)))
        for n in as_list(row.get("refs")):
            if not is_number(n) or not 1 <= int(n) <= ctx.list_length:
                problems.append(row.problem("refs", f"'{n}' is not a reference number within 1-{ctx.list_length}"))
            else:
                t.append((c, LICN.citesEntry, entry_iri(int(n))))
        t += provenance(c, row, ctx, problems)
    known = {f"{scheme_}-{k}" for scheme_, keys in ctx.concepts.items() for k in keys}
    for row in yaml_rows(data, "avenues", file, problems):
        key = check_key(row, "key", problems)
        a = instance("avenue", key)
        if not row.get("statement"):
            problems.append(row.problem("statement", "required value is empty"))
        t += typed(a, LICN.ResearchAvenue)
        t += [label(a, f"Research avenue ({row.get('group')}): {key.replace('-', ' ')}"),
              (a, LICN.avenueGroup, Literal(row.get("group"))), (a, LICN.statement, Literal(row.get("statement"), lang="en"))]
        number = integer(row, "row", problems)
        if number is not None:
            t.append((a, LICN.table2Row, Literal(number)))
        placement = row.get("placement")
        if placement not in ("seen", "inferred"):
            problems.append(row.problem("placement", "must be 'seen' or 'inferred'"))
        else:
            t.append((a, LICN.placementStatus, LICN[placement]))
        for ref in as_list(row.get("concerns")):
            if ref not in known:
                problems.append(row.problem("concerns", f"unknown concept '{ref}' (scheme-key, e.g. level-policy)"))
            else:
                t.append((a, LICN.concerns, CB[ref]))
        t += provenance(a, row, ctx, problems)
    return t, problems
