"""table1.csv, prose_claims.csv and table1_cells.csv: Table 1 cells, items, prose claims and the
codings they make (one coding per cited reference number, so double counts stay visible)."""
from rdflib import Literal

from .common import (
    Context,
    Problem,
    Row,
    concept_ref,
    integer,
    integers,
    label,
    provenance,
    typed,
    unique_keys,
)
from .vocab import LICN, entry_iri, instance, study_iri

ITEM_REQUIRED = ("level", "kind", "mechanism", "label", "refs", "kind_status", "sources", "confidence")
ITEM_OPTIONAL = ("position", "status", "locator", "note")
CLAIM_REQUIRED = ("key", "level", "kind", "topic", "sources", "status", "confidence")
CLAIM_OPTIONAL = ("mechanism", "refs", "locator", "note")
CELL_REQUIRED = ("level", "kind", "seen", "sources", "status", "confidence")
CELL_OPTIONAL = ("locator", "note")
TABLE1_KINDS = ("media", "practices", "activities")


def cell_iri(level: str, kind: str):
    return instance("cell", f"{level}-{kind}")


def _cited(row: Row, ctx: Context, problems: list[Problem]) -> list[int]:
    numbers = integers(row, "refs", problems)
    for n in numbers:
        if not 1 <= n <= ctx.list_length:
            problems.append(row.problem("refs", f"reference {n} is outside the reference list (1-{ctx.list_length})"))
    if len(set(numbers)) != len(numbers):
        problems.append(row.problem("refs", "a reference number is repeated within one item"))
    return [n for n in numbers if 1 <= n <= ctx.list_length]


def _mechanism(row: Row, kind: str, ctx: Context, problems: list[Problem]):
    mech = concept_ref(row, "mechanism", "mechanism", ctx, problems)
    if mech is not None and row.get("mechanism") in ctx.mechanism_kind and ctx.mechanism_kind[row.get("mechanism")] != kind:
        problems.append(row.problem("mechanism", f"'{row.get('mechanism')}' is a mechanism of kind '{ctx.mechanism_kind.get(row.get('mechanism'))}', not '{kind}'"))
    return mech


def _codings(claim, row: Row, prefix: str, level, kind, mech, numbers, ctx, problems, basis, extra=()) -> list[tuple]:
    t = []
    for n in numbers:
        c = instance("coding", f"{prefix}-{n}")
        evidence = study_iri(n) if n in ctx.study_numbers else entry_iri(n)
        t += typed(c, LICN.Coding)
        t += [label(c, f"Reference {n}: {row.get('label') or row.get('topic')} ({row.get('level')} level, {row.get('kind')})"),
              (c, LICN.claim, claim), (c, LICN.citesEntry, entry_iri(n)), (c, LICN.level, level), (c, LICN.kind, kind),
              (c, LICN.basis, basis), (c, LICN.evidenceFrom, evidence)]
        if kind is not None and row.get("kind") in TABLE1_KINDS:
            t.append((c, LICN.cell, cell_iri(row.get("level"), row.get("kind"))))
        if mech is not None:
            t.append((c, LICN.mechanism, mech))
        t += list(extra(c)) if callable(extra) else []
        t += provenance(c, row, ctx, problems, default_status="seen")
    return t


def load_cells(rows: list[Row], ctx: Context) -> tuple[list[tuple], list[Problem]]:
    t, problems = [], []
    for row in rows:
        level = concept_ref(row, "level", "level", ctx, problems)
        kind = concept_ref(row, "kind", "kind", ctx, problems)
        if row.get("kind") and row.get("kind") not in TABLE1_KINDS:
            problems.append(row.problem("kind", f"Table 1 has no column '{row.get('kind')}'"))
        if row.get("seen") not in ("true", "false"):
            problems.append(row.problem("seen", "must be 'true' or 'false'"))
        if level is None or kind is None:
            continue
        c = cell_iri(row.get("level"), row.get("kind"))
        t += typed(c, LICN.Table1Cell)
        t += [label(c, f"Table 1 cell: {row.get('level')} level x leadership {row.get('kind')}"), (c, LICN.level, level),
              (c, LICN.kind, kind), (c, LICN.cellSeen, Literal(row.get("seen") == "true"))]
        t += provenance(c, row, ctx, problems)
    return t, problems


def load_table1(rows: list[Row], ctx: Context) -> tuple[list[tuple], list[Problem]]:
    t, problems = [], []
    keys = {}
    for row in rows:
        level = concept_ref(row, "level", "level", ctx, problems)
        kind = concept_ref(row, "kind", "kind", ctx, problems)
        if row.get("kind") and row.get("kind") not in TABLE1_KINDS:
            problems.append(row.problem("kind", f"Table 1 has no column '{row.get('kind')}'"))
        mech = _mechanism(row, row.get("kind"), ctx, problems)
        numbers = _cited(row, ctx, problems)
        position = integer(row, "position", problems)
        kind_status = row.get("kind_status")
        if kind_status not in ("seen", "inferred"):
            problems.append(row.problem("kind_status", f"must be 'seen' or 'inferred', not '{kind_status}'"))
        key = f"{row.get('level')}-{row.get('kind')}-{row.get('mechanism')}"
        if key in keys:
            problems.append(row.problem("mechanism", f"the cell already has this mechanism (line {keys[key]})"))
            continue
        keys[key] = row.line
        if level is None or kind is None or mech is None:
            continue
        item = instance("item", key)
        status = LICN.seen if kind_status == "seen" else LICN.inferred
        t += typed(item, LICN.Table1Item)
        t += [label(item, f"{row.get('label')} (Table 1, {row.get('level')} level, {row.get('kind')})"),
              (item, LICN.label, Literal(row.get("label"))), (item, LICN.level, level), (item, LICN.kind, kind),
              (item, LICN.mechanism, mech), (item, LICN.cell, cell_iri(row.get("level"), row.get("kind"))),
              (item, LICN.kindStatus, status)]
        if position is not None:
            t.append((item, LICN.position, Literal(position)))
        t += [(item, LICN.citesEntry, entry_iri(n)) for n in numbers]
        t += provenance(item, row, ctx, problems, default_status="seen")
        t += _codings(item, row, key, level, kind, mech, numbers, ctx, problems, LICN.Table1Basis,
                      extra=lambda c: [(c, LICN.kindStatus, status)])
    return t, problems


def load_prose(rows: list[Row], ctx: Context) -> tuple[list[tuple], list[Problem]]:
    t, problems = [], []
    for key, row in unique_keys(rows, problems):
        level = concept_ref(row, "level", "level", ctx, problems)
        kind = concept_ref(row, "kind", "kind", ctx, problems)
        mech = _mechanism(row, row.get("kind"), ctx, problems) if row.get("mechanism") else None
        numbers = _cited(row, ctx, problems)
        if level is None or kind is None:
            continue
        claim = instance("claim", key)
        t += typed(claim, LICN.ProseClaim)
        t += [label(claim, f"{row.get('topic')} (prose, {row.get('level')} level, {row.get('kind')})"),
              (claim, LICN.label, Literal(row.get("topic"))), (claim, LICN.level, level), (claim, LICN.kind, kind)]
        if row.get("kind") in TABLE1_KINDS:
            t.append((claim, LICN.cell, cell_iri(row.get("level"), row.get("kind"))))
        if mech is not None:
            t.append((claim, LICN.mechanism, mech))
        t += [(claim, LICN.citesEntry, entry_iri(n)) for n in numbers]
        t += provenance(claim, row, ctx, problems)
        t += _codings(claim, row, f"prose-{key}", level, kind, mech, numbers, ctx, problems, LICN.ProseBasis)
    return t, problems
