"""settings.csv: the countries, places, care settings and designs of studies and cited works."""
from rdflib import Literal
from rdflib.namespace import DCTERMS

from .bibliography import work_for
from .common import (
    Context,
    Problem,
    Row,
    as_list,
    concept_ref,
    is_number,
    label,
    provenance,
    typed,
    work_name,
)
from .vocab import LICN, instance

REQUIRED = ("work", "sources", "status", "confidence")
OPTIONAL = ("country", "care_settings", "place", "design", "locator", "note")


def load_settings(rows: list[Row], ctx: Context) -> tuple[list[tuple], list[Problem]]:
    t, problems = [], []
    seen = {}
    for row in rows:
        key = row.get("work")
        number = ctx.work_numbers.get(key) or (int(key[4:]) if key.startswith("ref-") and is_number(key[4:]) else None)
        if key not in ctx.works and number not in ctx.study_numbers:
            problems.append(row.problem("work", f"unknown work '{key}' (neither in the bibliography nor a reviewed study)"))
            continue
        w = work_for(key, number, ctx)
        if key in ctx.report_of:  # where and how a study was done, whichever of its reports says so
            w = work_for(ctx.report_of[key], ctx.work_numbers.get(ctx.report_of[key]), ctx)
        skey = f"{key}-{row.get('country') or 'unknown'}"
        if skey in seen:
            problems.append(row.problem("country", f"this work already has a setting in this country (line {seen[skey]})"))
            continue
        seen[skey] = row.line
        s = instance("setting", skey)
        t += typed(s, LICN.SettingStatement)
        country_name = ctx.concept_labels.get(("country", row.get("country")), row.get("country"))
        t += [label(s, f"Setting of {work_name(key, ctx)}: {row.get('place') or country_name or 'country unknown'}"),
              (s, LICN.aboutWork, work_for(key, number, ctx))]
        country = concept_ref(row, "country", "country", ctx, problems)
        if country is not None:
            t += [(s, LICN.country, country), (w, DCTERMS.spatial, country)]
        for setting in as_list(row.get("care_settings")):
            ref = concept_ref(row, "care_settings", "setting", ctx, problems, value=setting)
            if ref is not None:
                t += [(s, LICN.careSetting, ref), (w, LICN.careSetting, ref)]
        for design in as_list(row.get("design")):
            ref = concept_ref(row, "design", "design", ctx, problems, value=design)
            if ref is not None:
                t += [(s, LICN.studyDesign, ref), (w, LICN.studyDesign, ref)]
        if row.get("place"):
            t.append((s, LICN.place, Literal(row.get("place"))))
        t += provenance(s, row, ctx, problems)
    return t, problems
