"""Dual independent coding of the studies added since the review: the coding passes
(coding-passes.yaml: who coded, when, from what, which studies each pass read), the codings of each
pass (curator-codings*.csv for the first, coding-pass-2*.csv for the second), their reconciliation
(reconciliation.csv: agreed, resolved or dropped, with a reason wherever the passes differ), and the
agreement between the passes per dimension (Cohen's kappa by scikit-learn, Krippendorff's alpha by
`krippendorff`) as W3C DQV quality measurements. Only reconciled codings are the map's codings."""
from __future__ import annotations

import math
from decimal import Decimal
import warnings

import krippendorff
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDFS, XSD

from .bibliography import work_for
from .common import (
    Context,
    Problem,
    Row,
    as_list,
    concept_ref,
    date_literal,
    did_you_mean,
    label,
    provenance,
    typed,
    unique_keys,
    unknown_fields,
    unknown_sections,
    work_name,
    yaml_rows,
)
from .screening import study_of
from .vocab import DQV, LICN, instance, scheme_iri, source_iri

CODING_REQUIRED = ("key", "work", "level", "kind", "curator", "coded_on", "coded_from", "sources", "status",
                   "confidence")
CODING_OPTIONAL = ("mechanism", "theory", "locator", "note")  # a coder may find no mechanism of the codebook that fits
CODED_FROM = {"abstract": LICN.Abstract, "full-text": LICN.FullText}
PASS_FIELDS = ("key", "label", "coders", "started", "finished", "coded_from", "read", "blind_to", "no_codings", "note")
RECONCILED_REQUIRED = ("key", "work", "decision", "reconciled_by", "reconciled_on")
RECONCILED_OPTIONAL = ("level", "kind", "mechanism", "pass_1", "pass_2", "reason", "confidence")
DECISIONS = {"agreed": LICN.Agreed, "resolved": LICN.Resolved, "dropped": LICN.Dropped}
DIMENSIONS = (("level", "levels"), ("kind", "kinds"), ("mechanism", "mechanisms"))
PASSES = ("pass-1", "pass-2")


def pass_iri(key: str) -> URIRef:
    return instance("coding-pass", key)


def load_coding_passes(data: dict, file: str, codings: dict[str, list[Row]], reconciliation: list[Row],
                       ctx: Context) -> tuple[dict[str, list[tuple]], list[Problem]]:
    """codings: pass key -> its coding rows. The passes, their codings, the reconciled codings (the
    map's) and the agreement measurements."""
    problems: list[Problem] = []
    curation, studies, mapped = [], [], []
    unknown_sections(data, ("passes",), file, problems)
    passes = {key: row for key, row in unique_keys(yaml_rows(data, "passes", file, problems), problems)}
    read: dict[str, set[str]] = {}
    for key, row in passes.items():
        unknown_fields(row, PASS_FIELDS, problems)
        if key not in PASSES:
            problems.append(row.problem("key", f"must be one of {', '.join(PASSES)}, not '{key}'"))
            continue
        curation += _pass(key, row, ctx, problems)
        read[key] = {ctx.report_of.get(w, w) for w in as_list(row.get("read"))}
        for work in as_list(row.get("read")):
            if work not in ctx.works:
                problems.append(row.problem("read", f"unknown work '{work}' (not in the bibliography){did_you_mean(work, ctx.works)}"))
    coded: dict[str, dict[str, Row]] = {}  # pass -> coding key -> row
    for key in PASSES:
        rows = codings.get(key, [])
        if rows and key not in passes:
            problems.append(rows[0].problem("key", f"codings of {key}, which {file} does not describe"))
        coded[key] = {}
        for ckey, row in unique_keys(rows, problems):
            if ckey in coded["pass-1"] or (key == "pass-2" and ckey in coded["pass-2"]):
                problems.append(row.problem("key", f"coding key '{ckey}' is already used by another pass"))
                continue
            triples = _pass_coding(key, ckey, row, read.get(key, set()), ctx, problems)
            if triples is not None:
                coded[key][ckey] = row
                curation += triples
    mapped, studies = _reconciled(reconciliation, coded, read, ctx, problems)
    curation += _agreement(coded, read, ctx)
    return {"curation": curation, "codings": mapped, "studies": studies}, problems


def _pass(key: str, row: Row, ctx: Context, problems: list[Problem]) -> list[tuple]:
    p = pass_iri(key)
    t = typed(p, LICN.CodingPass, PROV.Activity)
    t += [label(p, row.get("label") or key)]
    for coder in as_list(row.get("coders")):
        if coder not in ctx.curators:
            problems.append(row.problem("coders", f"unknown curator '{coder}' (not in curators.csv){did_you_mean(coder, ctx.curators)}"))
        else:
            t.append((p, PROV.wasAssociatedWith, instance("agent", coder)))
    for name, prop in (("started", PROV.startedAtTime), ("finished", PROV.endedAtTime)):
        if not row.get(name):
            problems.append(row.problem(name, "required value is empty"))
        elif (date := date_literal(row, name, problems)) is not None:
            t.append((p, prop, date))
    if row.get("blind_to") and row.get("blind_to") not in PASSES:
        problems.append(row.problem("blind_to", f"must name another pass ({', '.join(PASSES)})"))
    elif row.get("blind_to"):
        t.append((p, LICN.blindTo, pass_iri(row.get("blind_to"))))
    for name, prop in (("coded_from", LICN.passMaterial), ("note", DCTERMS.description)):
        if row.get(name):
            t.append((p, prop, Literal(row.get(name), lang="en")))
    for work in as_list(row.get("read")):
        if work in ctx.works:
            t.append((p, LICN.passRead, study_of(work, ctx)[0]))
    return t


def _pass_coding(pass_key: str, key: str, row: Row, read: set[str], ctx: Context, problems: list[Problem]):
    """One coding of one pass, or None where the row is wrong."""
    work = row.get("work")
    if work not in ctx.works:
        problems.append(row.problem("work", f"unknown work '{work}' (not in the bibliography){did_you_mean(work, ctx.works)}"))
        return None
    if work in ctx.excluded:
        problems.append(row.problem("work", f"'{work}' is excluded by the screening (screening.csv:{ctx.excluded[work]}): "
                                            "a study off the map has no codings"))
        return None
    if ctx.report_of.get(work, work) not in read:
        problems.append(row.problem("work", f"'{work}' is not among the studies {pass_key} read (coding-passes.yaml)"))
    level = concept_ref(row, "level", "level", ctx, problems)
    kind = concept_ref(row, "kind", "kind", ctx, problems)
    mech = concept_ref(row, "mechanism", "mechanism", ctx, problems)
    if mech is not None and ctx.mechanism_kind.get(row.get("mechanism"), row.get("kind")) != row.get("kind"):
        problems.append(row.problem("mechanism", f"'{row.get('mechanism')}' is a mechanism of kind "
                                                 f"'{ctx.mechanism_kind.get(row.get('mechanism'))}', not '{row.get('kind')}'"))
        mech = None
    theory = concept_ref(row, "theory", "theory", ctx, problems)
    curator = row.get("curator")
    if curator not in ctx.curators:
        problems.append(row.problem("curator", f"unknown curator '{curator}' (not in curators.csv){did_you_mean(curator, ctx.curators)}"))
    coded_from = CODED_FROM.get(row.get("coded_from"))
    if coded_from is None:
        problems.append(row.problem("coded_from", f"must be one of {', '.join(CODED_FROM)}, not '{row.get('coded_from')}'"))
    date = date_literal(row, "coded_on", problems)
    if level is None or kind is None or (mech is None and row.get("mechanism")):
        return None
    c = instance("pass-coding", key)
    study, _ = study_of(work, ctx)
    t = typed(c, LICN.PassCoding, PROV.Entity)
    t += [label(c, f"{pass_key.replace('-', ' ').capitalize()} coding of {work_name(work, ctx)}: {_about(row, ctx)}"),
          (c, LICN.codingPass, pass_iri(pass_key)), (c, LICN.codedStudy, study), (c, LICN.level, level),
          (c, LICN.kind, kind)]
    if mech is not None:  # a coder may find a level and kind but no mechanism of the codebook that fits
        t.append((c, LICN.mechanism, mech))
    if work in ctx.report_of:
        t.append((c, LICN.codedReport, work_for(work, ctx.work_numbers.get(work), ctx)))
    if theory is not None:
        t.append((c, LICN.theory, theory))
    if curator in ctx.curators:
        t.append((c, PROV.wasAttributedTo, instance("agent", curator)))
    if coded_from is not None:
        t.append((c, LICN.codedFrom, coded_from))
    if date is not None:
        t.append((c, PROV.generatedAtTime, date))
    t += provenance(c, row, ctx, problems)
    return t


def _about(row: Row, ctx: Context) -> str:
    """What a coding row codes, as its label says it: 'Aligning goals (network level, activities)'."""
    mechanism = ctx.concept_labels.get(("mechanism", row.get("mechanism")), row.get("mechanism")) or "no mechanism"
    return f"{mechanism} ({row.get('level')} level, {row.get('kind')})"


def _status(rows: list[Row]):
    """A map coding is seen where every pass coding it rests on saw it stated, inferred otherwise."""
    return LICN.seen if rows and all(r.get("status") == "seen" for r in rows) else LICN.inferred


def _cell(row: Row) -> tuple[str, str, str]:
    return row.get("level"), row.get("kind"), row.get("mechanism")


def _reconciled(rows: list[Row], coded: dict[str, dict[str, Row]], read: dict[str, set[str]], ctx: Context,
                problems: list[Problem]) -> tuple[list[tuple], list[tuple]]:
    """The reconciliation: every pass coding is settled by one row; an agreed or resolved row is a
    coding of the map, resting on the pass codings it names; a dropped row makes none."""
    t, studies = [], []
    settled: dict[str, int] = {}
    for key, row in unique_keys(rows, problems):
        decision = row.get("decision")
        if decision not in DECISIONS:
            problems.append(row.problem("decision", f"must be one of {', '.join(DECISIONS)}, not '{decision}'"))
            continue
        work = row.get("work")
        if work not in ctx.works:
            problems.append(row.problem("work", f"unknown work '{work}' (not in the bibliography){did_you_mean(work, ctx.works)}"))
            continue
        study_key = ctx.report_of.get(work, work)
        if not all(study_key in read.get(p, set()) for p in PASSES):
            problems.append(row.problem("work", f"'{work}' was not read by both coding passes: a reconciliation "
                                                "needs two independent passes behind it"))
            continue
        named = {p: as_list(row.get(p.replace("-", "_"))) for p in PASSES}
        for p, keys in named.items():
            for ckey in keys:
                if ckey not in coded[p]:
                    problems.append(row.problem(p.replace("-", "_"), f"unknown {p} coding '{ckey}'"))
                elif ctx.report_of.get(coded[p][ckey].get("work"), coded[p][ckey].get("work")) != study_key:
                    problems.append(row.problem(p.replace("-", "_"), f"{p} coding '{ckey}' is of another study"))
                elif ckey in settled:
                    problems.append(row.problem(p.replace("-", "_"), f"{p} coding '{ckey}' is settled already at line {settled[ckey]}"))
                else:
                    settled[ckey] = row.line
        if decision == "agreed":
            cells = {_cell(coded[p][k]) for p in PASSES for k in named[p] if k in coded[p]}
            if not all(named[p] for p in PASSES) or cells != {_cell(row)}:
                problems.append(row.problem("decision", "agreed means both passes coded exactly this level, kind and mechanism"))
                continue
        elif not row.get("reason"):
            problems.append(row.problem("reason", f"a {decision} coding says why the passes were settled so"))
            continue
        if not any(named.values()):
            problems.append(row.problem("pass_1", "a reconciliation rests on at least one pass coding"))
            continue
        r = instance("reconciliation", key)
        t += typed(r, LICN.Reconciliation, PROV.Activity)
        mechanism = ctx.concept_labels.get(("mechanism", row.get("mechanism")), row.get("mechanism"))
        t += [label(r, f"Reconciliation of {work_name(work, ctx)}: {decision}" + (f", {mechanism}" if mechanism else "")),
              (r, LICN.reconciliationDecision, DECISIONS[decision])]
        t += [(r, LICN.comparedPass, pass_iri(p)) for p in PASSES]
        t += [(r, PROV.used, instance("pass-coding", k)) for p in PASSES for k in named[p] if k in coded[p]]
        if row.get("reason"):
            t.append((r, LICN.reason, Literal(row.get("reason"), lang="en")))
        reconciler = row.get("reconciled_by")
        if reconciler not in ctx.curators:
            problems.append(row.problem("reconciled_by", f"unknown curator '{reconciler}' (not in curators.csv)"
                                                         f"{did_you_mean(reconciler, ctx.curators)}"))
        else:
            t.append((r, PROV.wasAssociatedWith, instance("agent", reconciler)))
        date = date_literal(row, "reconciled_on", problems)
        if date is not None:
            t.append((r, PROV.endedAtTime, date))
        if decision == "dropped":
            continue
        level = concept_ref(row, "level", "level", ctx, problems)
        kind = concept_ref(row, "kind", "kind", ctx, problems)
        mech = concept_ref(row, "mechanism", "mechanism", ctx, problems)
        confidence = concept_ref(row, "confidence", "confidence", ctx, problems)
        if not row.get("mechanism"):
            problems.append(row.problem("mechanism", f"a coding the reconciliation keeps ({decision}) names a mechanism; "
                                                     "drop it, with a reason, where none of the codebook fits"))
        if level is None or kind is None or mech is None:
            continue
        rests_on = [coded[p][k] for p in PASSES for k in named[p] if k in coded[p]]
        c = instance("coding", f"curator-{key}")
        study, typing = study_of(work, ctx)
        studies += typing
        sources = sorted({s for p in PASSES for k in named[p] if k in coded[p] for s in as_list(coded[p][k].get("sources"))})
        t += typed(c, LICN.Coding, LICN.CuratorCoding)
        t += [label(c, f"Curator coding of {work_name(study_key, ctx)}: {_about(row, ctx)}"),
              (c, LICN.basis, LICN.CuratorBasis), (c, LICN.evidenceFrom, study), (c, LICN.level, level),
              (c, LICN.kind, kind), (c, LICN.mechanism, mech), (c, LICN.reconciliation, r),
              (c, PROV.wasGeneratedBy, r), (c, LICN.evidenceStatus, _status(rests_on))]
        materials = {CODED_FROM.get(r_.get("coded_from")) for r_ in rests_on} - {None}
        t += [(c, LICN.codedFrom, LICN.FullText if materials == {LICN.FullText} else LICN.Abstract)] if materials else []
        if date is not None:
            t.append((c, PROV.generatedAtTime, date))
        t += [(c, PROV.wasDerivedFrom, source_iri(s)) for s in sources if s in ctx.sources]
        t += [(c, LICN.confidence, confidence)] if confidence is not None else []
        if reconciler in ctx.curators:
            t.append((c, PROV.wasAttributedTo, instance("agent", reconciler)))
    for p in PASSES:
        for ckey, row in coded[p].items():
            if ckey not in settled:
                problems.append(row.problem("key", f"{p} coding '{ckey}' is not settled in reconciliation*.csv "
                                                   "(agreed, resolved or dropped)"))
    return t, studies


def _agreement(coded: dict[str, dict[str, Row]], read: dict[str, set[str]], ctx: Context) -> list[tuple]:
    """Cohen's kappa and Krippendorff's alpha between the passes, per dimension, over the studies both
    passes read: for each such study and each category either pass used in that dimension, whether
    each pass coded it (present or absent)."""
    both = sorted(read.get("pass-1", set()) & read.get("pass-2", set()))
    if not both:
        return []
    # imported here: scikit-learn takes about 0.9 s to import, and most commands that import the
    # loaders (licn query, validate, serve) never compute an agreement
    from sklearn.metrics import cohen_kappa_score

    t = []
    for field, section in DIMENSIONS:
        used = {p: {(ctx.report_of.get(r.get("work"), r.get("work")), r.get(field)) for r in coded[p].values()
                    if r.get(field)} for p in PASSES}
        categories = sorted({c for p in PASSES for _, c in used[p]})
        units = [(s, c) for s in both for c in categories]
        if not units:
            continue
        ratings = [[int(u in used[p]) for u in units] for p in PASSES]
        with warnings.catch_warnings():  # a dimension where both passes are constant has no kappa
            warnings.simplefilter("ignore")
            values = {"kappa": cohen_kappa_score(*ratings),
                      "alpha": krippendorff.alpha(reliability_data=ratings, level_of_measurement="nominal")
                      if len({*ratings[0], *ratings[1]}) > 1 else float("nan")}
        agreed = sum(a == b for a, b in zip(*ratings))
        for statistic, value in values.items():
            if not math.isfinite(value):
                continue
            m = instance("agreement", f"{field}-{statistic}")
            t += typed(m, DQV.QualityMeasurement)
            t += [label(m, f"{'Cohen' if statistic == 'kappa' else 'Krippendorff'}'s {statistic} between the coding passes: "
                           f"{field}s"),
                  (m, DQV.isMeasurementOf, LICN.cohensKappa if statistic == "kappa" else LICN.krippendorffsAlpha),
                  # three decimals, as a decimal: every engine reads and prints it alike
                  (m, DQV.value, Literal(Decimal(f"{float(value):.3f}"), datatype=XSD.decimal)),
                  (m, DQV.computedOn, instance("dataset", "licn-kg")),
                  (m, LICN.codingDimension, scheme_iri(section)),
                  (m, LICN.studiesCompared, Literal(len(both))), (m, LICN.unitsCompared, Literal(len(units))),
                  (m, LICN.unitsAgreed, Literal(agreed)),
                  (m, RDFS.comment, Literal(f"{len(both)} studies read by both passes x {len(categories)} {section} "
                                            "either pass used; each unit present or absent in each pass.", lang="en"))]
            t += [(m, PROV.wasDerivedFrom, pass_iri(p)) for p in PASSES]
    return t
